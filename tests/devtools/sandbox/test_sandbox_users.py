"""Followers, user info, tags, the menu and QR codes."""

from __future__ import annotations

from devtools.sandbox import create_sandbox_app
from tests.devtools.sandbox.conftest import WxClient


def test_follow_and_unfollow_show_in_user_info(wx, clock):
    wx.inbound("oAlice", "subscribe")
    info = wx.get("/cgi-bin/user/info", openid="oAlice")
    assert info["subscribe"] == 1 and info["subscribe_time"] == int(clock.now)
    wx.inbound("oAlice", "unsubscribe")
    assert wx.get("/cgi-bin/user/info", openid="oAlice") == {"subscribe": 0, "openid": "oAlice"}


def test_qr_scan_sets_the_scene(wx):
    ticket = wx.post(
        "/cgi-bin/qrcode/create",
        {
            "expire_seconds": 604800,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "bargain_123"}},
        },
    )["ticket"]
    wx.inbound("oBob", "subscribe", ticket=ticket)
    info = wx.get("/cgi-bin/user/info", openid="oBob")
    assert info["subscribe_scene"] == "ADD_SCENE_QR_CODE"
    assert info["qr_scene_str"] == "bargain_123"


def test_qrcode_shapes(wx):
    temporary = wx.post(
        "/cgi-bin/qrcode/create",
        {"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 7}}},
    )
    assert temporary["expire_seconds"] == 60 and temporary["url"].startswith("http://weixin")
    permanent = wx.post(
        "/cgi-bin/qrcode/create",
        {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 7}}},
    )
    assert "expire_seconds" not in permanent
    assert wx.post("/cgi-bin/qrcode/create", {"action_name": "NOPE"})["errcode"] == 40052


def test_user_get_pages_with_next_openid(clock):
    http = create_sandbox_app({"CLOCK": clock, "PAGE_SIZE": 2}).test_client()
    http.post("/sandbox/users", json={"openids": ["o1", "o2", "o3"]})
    token = WxClient(http).fetch_token()
    first = http.get("/cgi-bin/user/get", query_string={"access_token": token}).json
    assert first == {"total": 3, "count": 2, "data": {"openid": ["o1", "o2"]}, "next_openid": "o2"}
    last = http.get(
        "/cgi-bin/user/get", query_string={"access_token": token, "next_openid": "o2"}
    ).json
    assert last == {"total": 3, "count": 1, "data": {"openid": ["o3"]}, "next_openid": ""}


def test_batchget(wx):
    wx.inbound("oA", "subscribe")
    answer = wx.post(
        "/cgi-bin/user/info/batchget", {"user_list": [{"openid": "oA"}, {"openid": "oZ"}]}
    )
    assert [u["subscribe"] for u in answer["user_info_list"]] == [1, 0]


def test_tags_lifecycle(wx):
    for openid in ("oA", "oB"):
        wx.inbound(openid, "subscribe")
    tag = wx.post("/cgi-bin/tags/create", {"tag": {"name": "广东"}})["tag"]
    assert wx.post("/cgi-bin/tags/create", {"tag": {"name": "广东"}})["errcode"] == 45157
    assert (
        wx.post(
            "/cgi-bin/tags/members/batchtagging", {"openid_list": ["oA", "oB"], "tagid": tag["id"]}
        )["errcode"]
        == 0
    )
    too_many = [f"o{i}" for i in range(51)]
    assert (
        wx.post(
            "/cgi-bin/tags/members/batchtagging", {"openid_list": too_many, "tagid": tag["id"]}
        )["errcode"]
        == 40032
    )
    members = wx.post("/cgi-bin/user/tag/get", {"tagid": tag["id"], "next_openid": ""})
    assert members["data"]["openid"] == ["oA", "oB"]
    wx.post("/cgi-bin/tags/members/batchuntagging", {"openid_list": ["oB"], "tagid": tag["id"]})
    listing = {t["id"]: t for t in wx.get("/cgi-bin/tags/get")["tags"]}
    assert listing[tag["id"]]["count"] == 1 and 2 in listing
    assert wx.get("/cgi-bin/user/info", openid="oA")["tagid_list"] == [tag["id"]]
    assert wx.post("/cgi-bin/tags/update", {"tag": {"id": 2, "name": "x"}})["errcode"] == 45058
    assert wx.post("/cgi-bin/tags/delete", {"tag": {"id": tag["id"]}})["errcode"] == 0
    assert wx.get("/cgi-bin/user/info", openid="oA")["tagid_list"] == []


def test_menu_create_get_delete(wx):
    assert wx.get("/cgi-bin/menu/get")["errcode"] == 46003
    menu = {"button": [{"type": "click", "name": "砍价", "key": "MENU_BARGAIN"}]}
    assert wx.post("/cgi-bin/menu/create", menu)["errcode"] == 0
    assert wx.get("/cgi-bin/menu/get") == {"menu": menu}
    assert wx.post("/cgi-bin/menu/create", {"button": [menu["button"][0]] * 4})["errcode"] == 40016
    assert wx.get("/cgi-bin/menu/delete")["errcode"] == 0
    assert wx.get("/cgi-bin/menu/get")["errcode"] == 46003
