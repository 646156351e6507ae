"""Token endpoints and the access_token check every other endpoint makes."""

from __future__ import annotations

from devtools.demo import DEMO_ACCOUNT

APP_ID = DEMO_ACCOUNT["WECHAT_APP_ID"]  # the sandbox defaults
SECRET = DEMO_ACCOUNT["WECHAT_APP_SECRET"]
TOKEN = "/cgi-bin/token"
STABLE = "/cgi-bin/stable_token"
MENU_GET = "/cgi-bin/menu/delete"  # any token-checked GET endpoint will do


def errcode(answer: dict) -> int:
    return answer.get("errcode", 0)


def stable(client, force: bool = False, **override) -> dict:
    body = {
        "grant_type": "client_credential",
        "appid": APP_ID,
        "secret": SECRET,
        "force_refresh": force,
        **override,
    }
    return client.post(STABLE, json=body).json


def test_token_answer_has_token_and_lifetime(wx):
    answer = wx.http.get(
        TOKEN, query_string={"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    ).json
    assert answer["expires_in"] == 7200
    assert len(answer["access_token"]) >= 100


def test_wrong_appid_and_secret(client):
    def fetch(appid, secret):
        return client.get(
            TOKEN,
            query_string={"grant_type": "client_credential", "appid": appid, "secret": secret},
        ).json

    assert fetch("wxother", SECRET)["errcode"] == 40013
    assert fetch(APP_ID, "wrong")["errcode"] == 40125
    assert stable(client, appid="wxother")["errcode"] == 40013
    assert stable(client, secret="wrong")["errcode"] == 40125


def test_errors_are_http_200_with_rid(client):
    response = client.get(
        TOKEN, query_string={"grant_type": "client_credential", "appid": "wxother", "secret": "x"}
    )
    assert response.status_code == 200
    assert " rid: " in response.json["errmsg"]


def test_missing_and_unknown_token(client, wx):
    assert client.get(MENU_GET).json["errcode"] == 41001
    assert client.get(MENU_GET, query_string={"access_token": "nope"}).json["errcode"] == 40001
    assert errcode(wx.get(MENU_GET)) == 0


def test_previous_token_dies_five_minutes_after_refetch(wx):
    old = wx.fetch_token()
    new = wx.fetch_token()
    assert old != new
    wx.advance(299)
    assert errcode(wx.get(MENU_GET, access_token=old)) == 0
    wx.advance(2)
    assert errcode(wx.get(MENU_GET, access_token=old)) == 40001
    assert errcode(wx.get(MENU_GET, access_token=new)) == 0


def test_token_expires_after_7200_seconds(wx):
    token = wx.fetch_token()
    wx.advance(7201)
    assert errcode(wx.get(MENU_GET, access_token=token)) == 42001


def test_stable_token_is_stable_then_rotates_before_expiry(client, wx):
    first = stable(client)
    wx.advance(1000)
    second = stable(client)
    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] == first["expires_in"] - 1000
    wx.advance(7200 - 1000 - 299)  # 299 s left: below the 5-minute floor
    third = stable(client)
    assert third["access_token"] != first["access_token"]
    assert third["expires_in"] >= 300
    assert errcode(wx.get(MENU_GET, access_token=first["access_token"])) == 0


def test_stable_token_is_isolated_from_cgi_bin_token(client, wx):
    stable_value = stable(client)["access_token"]
    wx.fetch_token()
    wx.fetch_token()
    wx.advance(301)
    assert stable(client)["access_token"] == stable_value
    assert errcode(wx.get(MENU_GET, access_token=stable_value)) == 0


def test_force_refresh_invalidates_and_is_throttled(client, wx):
    old = stable(client)["access_token"]
    forced = stable(client, force=True)["access_token"]
    assert forced != old
    assert errcode(wx.get(MENU_GET, access_token=old)) == 40001
    assert stable(client, force=True)["access_token"] == forced  # <30 s apart: no refresh
    wx.advance(31)
    assert stable(client, force=True)["access_token"] != forced


def test_stats_count_fetches(client, wx):
    wx.fetch_token()
    wx.fetch_token()
    stable(client)
    stats = client.get("/sandbox/stats").json
    assert stats["token_fetches"] == 2
    assert stats["stable_token_fetches"] == 1
    assert stats["calls"][TOKEN] == 2
