"""Web authorisation: authorize redirect, code exchange, single use, expiry, every error."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from devtools.sandbox import create_sandbox_app
from tests.devtools.sandbox.conftest import APP_ID, SECRET

AUTHORIZE = "/connect/oauth2/authorize"
EXCHANGE = "/sns/oauth2/access_token"
PAGE = "https://shop.example.com/m/bargain?id=7"


def authorize(client, openid: str | None = "oVisitor", **override: str | None) -> Any:
    params = {"appid": APP_ID, "redirect_uri": PAGE, "response_type": "code",
              "scope": "snsapi_base", "state": "s1", "sandbox_openid": openid, **override}
    return client.get(AUTHORIZE, query_string={k: v for k, v in params.items() if v is not None})


def code_from(response) -> str:
    assert response.status_code == 302, response.json
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return query["code"][0]


def exchange(client, code: str, **override) -> dict:
    params = {"appid": APP_ID, "secret": SECRET, "code": code,
              "grant_type": "authorization_code", **override}
    return client.get(EXCHANGE, query_string=params).json


def test_round_trip_gives_the_visitor_openid(client):
    response = authorize(client, "oAlice", state="xyz")
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example.com",
                                                                 "/m/bargain")
    assert query["id"] == ["7"] and query["state"] == ["xyz"]
    answer = exchange(client, query["code"][0])
    assert answer["openid"] == "oAlice" and answer["scope"] == "snsapi_base"
    assert answer["expires_in"] == 7200 and answer["access_token"] and answer["refresh_token"]
    assert "is_snapshotuser" not in answer and "errcode" not in answer


def test_userinfo_scope_is_granted_too(client):
    answer = exchange(client, code_from(authorize(client, scope="snsapi_userinfo")))
    assert answer["scope"] == "snsapi_userinfo"


def test_a_browser_without_sandbox_openid_keeps_one_generated_openid(client):
    first = exchange(client, code_from(authorize(client, openid=None)))["openid"]
    again = exchange(client, code_from(authorize(client, openid=None)))["openid"]
    assert first == again and first.startswith("o") and len(first) == 28
    other_browser = create_sandbox_app({"CLOCK": lambda: 0.0}).test_client()
    assert exchange(other_browser, code_from(authorize(other_browser, openid=None)))["openid"] \
        != first


def test_sandbox_openid_wins_over_the_cookie(client):
    exchange(client, code_from(authorize(client, openid=None)))  # the browser gets a cookie
    assert exchange(client, code_from(authorize(client, "oBob")))["openid"] == "oBob"


def test_a_code_is_single_use(client):
    code = code_from(authorize(client))
    assert exchange(client, code)["openid"] == "oVisitor"
    assert exchange(client, code)["errcode"] == 40163


def test_a_code_expires_after_five_minutes(client, clock):
    code = code_from(authorize(client))
    clock.now += 299
    fresh = code_from(authorize(client))
    clock.now += 1  # the first code is now exactly 300 s old
    assert exchange(client, code)["errcode"] == 40029
    assert exchange(client, fresh)["openid"] == "oVisitor"


def test_the_control_clock_expires_codes_too(client, wx):
    code = code_from(authorize(client))
    wx.advance(301)
    assert exchange(client, code)["errcode"] == 40029


@pytest.mark.parametrize(("override", "errcode"), [
    ({"code": "never-issued"}, 40029),
    ({"code": ""}, 41008),
    ({"secret": "wrong"}, 40125),
    ({"secret": ""}, 41004),
    ({"appid": "wxother"}, 40013),
    ({"appid": ""}, 41002),
    ({"grant_type": "client_credential"}, 40002),
])
def test_exchange_errors_are_http_200_json(client, override, errcode):
    code = code_from(authorize(client))
    response = client.get(EXCHANGE, query_string={
        "appid": APP_ID, "secret": SECRET, "code": code, "grant_type": "authorization_code",
        **override})
    assert response.status_code == 200
    assert response.json["errcode"] == errcode and " rid: " in response.json["errmsg"]
    if override.get("code") is None:  # a refused call does not spend the code
        assert exchange(client, code)["openid"] == "oVisitor"


@pytest.mark.parametrize(("override", "errcode"), [
    ({"appid": "wxother"}, 40013),
    ({"appid": None}, 10012),
    ({"redirect_uri": None}, 10011),
    ({"redirect_uri": "/relative/path"}, 10003),
    ({"scope": None}, 10010),
    ({"scope": "snsapi_login"}, 10005),
    ({"sandbox_openid": "not an openid!"}, 40003),
])
def test_authorize_errors_are_http_400_json(client, override, errcode):
    response = authorize(client, **override)
    assert response.status_code == 400
    assert response.json["errcode"] == errcode and " rid: " in response.json["errmsg"]


def test_redirect_domain_must_be_configured_when_domains_are_set(clock):
    client = create_sandbox_app({"CLOCK": clock, "OAUTH_DOMAINS": ["shop.example.com"]}) \
        .test_client()
    assert authorize(client).status_code == 302
    wrong = authorize(client, redirect_uri="https://evil.example.net/cb")
    assert wrong.status_code == 400 and wrong.json["errcode"] == 10003
    assert "redirect_uri域名与后台配置不一致" in wrong.json["errmsg"]


def test_errors_are_counted_and_reset_forgets_codes(client, state):
    code = code_from(authorize(client))
    exchange(client, "bogus")
    assert state.stats.errors[40029] == 1
    client.post("/sandbox/reset")
    assert exchange(client, code)["errcode"] == 40029
