"""The /sandbox/* control endpoints: faults, the outbox, clock, stats, reset, error shapes."""

from __future__ import annotations

import time

from devtools.demo import DEMO_ACCOUNT
from devtools.sandbox import create_sandbox_app
from tests.devtools.sandbox.conftest import WxClient

CUSTOM = "/cgi-bin/message/custom/send"


def test_fault_twice_then_success(wx):
    wx.inbound("oAlice", "message")
    wx.http.post("/sandbox/faults", json={"path": CUSTOM, "errcode": -1, "times": 2})
    codes = [wx.custom_text("oAlice")["errcode"] for _ in range(3)]
    assert codes == [-1, -1, 0]
    assert wx.http.get("/sandbox/stats").json["errors"]["-1"] == 2


def test_fault_answer_looks_like_wechat(wx):
    wx.http.post("/sandbox/faults", json={"path": CUSTOM, "errcode": 45009})
    response = wx.http.post(CUSTOM, json={})  # no token: the fault still wins
    assert response.status_code == 200
    assert response.json["errcode"] == 45009
    assert response.json["errmsg"].startswith("reach max api daily quota limit rid: ")


def test_delay_only_fault_is_a_slow_success(wx):
    wx.inbound("oAlice", "message")
    wx.http.post("/sandbox/faults", json={"path": CUSTOM, "errcode": 0, "delay": 0.2})
    started = time.monotonic()
    assert wx.custom_text("oAlice")["errcode"] == 0
    assert time.monotonic() - started >= 0.2


def test_faults_queue_and_clear(wx):
    wx.http.post("/sandbox/faults", json={"path": CUSTOM, "errcode": -1})
    wx.http.post("/sandbox/faults", json={"path": CUSTOM, "errcode": 45047})
    assert len(wx.http.get("/sandbox/faults").json["pending"]) == 2
    assert wx.http.delete("/sandbox/faults").json["pending"] == []
    bad = wx.http.post("/sandbox/faults", json={"path": CUSTOM, "times": 0})
    assert bad.status_code == 400 and bad.json["ok"] is False


def test_sent_filters_by_since_and_touser(wx):
    for openid in ("oA", "oB"):
        wx.inbound(openid, "message")
    wx.custom_text("oA", "one")
    wx.custom_text("oB", "two")
    wx.custom_text("oA", "three")
    everything = wx.sent()
    assert [m["id"] for m in everything["messages"]] == [1, 2, 3]
    assert everything["last_id"] == 3
    later = wx.sent(since=1, touser="oA")["messages"]
    assert [m["body"]["text"]["content"] for m in later] == ["three"]
    assert later[0]["api"] == "custom/send" and later[0]["msgtype"] == "text"
    assert wx.sent(since=3) == {"messages": [], "last_id": 3}


def test_clock_moves_forward_only(wx, clock):
    answer = wx.http.post("/sandbox/clock", json={"advance": 60}).json
    assert answer["now"] == clock.now + 60
    assert wx.http.post("/sandbox/clock", json={"advance": -1}).status_code == 400


def test_reset_forgets_everything(wx):
    wx.inbound("oAlice", "message")
    wx.custom_text("oAlice")
    token = wx.token
    assert wx.http.post("/sandbox/reset").json == {"ok": True}
    assert wx.sent()["messages"] == []
    assert wx.get("/cgi-bin/menu/delete", access_token=token)["errcode"] == 40001
    assert wx.http.get("/sandbox/stats").json["token_fetches"] == 0


def test_inbound_validation(wx):
    assert (
        wx.http.post("/sandbox/inbound", json={"openid": "oA", "kind": "dance"}).status_code == 400
    )
    assert wx.http.post("/sandbox/inbound", json={"kind": "message"}).status_code == 400


def test_bad_json_wrong_method_and_unknown_path(wx):
    token = wx.token
    bad = wx.http.post(CUSTOM, query_string={"access_token": token}, data="{nope")
    assert bad.status_code == 200 and bad.json["errcode"] == 47001
    empty = wx.http.post(CUSTOM, query_string={"access_token": token}, data="")
    assert empty.json["errcode"] == 44002
    assert wx.http.get(CUSTOM).json["errcode"] == 43002
    missing = wx.http.get("/cgi-bin/does/not/exist")
    assert missing.status_code == 404 and missing.json["errcode"] == 404


def test_daily_quota_and_clear_quota(clock):
    app = create_sandbox_app({"CLOCK": clock, "DAILY_LIMITS": {"/cgi-bin/user/get": 2}})
    http = app.test_client()
    token = WxClient(http).fetch_token()
    codes = [
        http.get("/cgi-bin/user/get", query_string={"access_token": token}).json.get("errcode", 0)
        for _ in range(3)
    ]
    assert codes == [0, 0, 45009]
    clear = http.post(
        "/cgi-bin/clear_quota",
        query_string={"access_token": token},
        json={"appid": DEMO_ACCOUNT["WECHAT_APP_ID"]},
    ).json
    assert clear["errcode"] == 0
    assert "errcode" not in http.get("/cgi-bin/user/get", query_string={"access_token": token}).json
