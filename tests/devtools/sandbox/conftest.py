"""Fixtures for the sandbox suite: a hand-moved clock, the app, and a small WeChat client."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.demo import DEMO_ACCOUNT
from devtools.sandbox import create_sandbox_app

APP_ID = DEMO_ACCOUNT["WECHAT_APP_ID"]
SECRET = DEMO_ACCOUNT["WECHAT_APP_SECRET"]
START = 1_717_200_000.0  # 2024-06-01 08:00 Beijing, so month boundaries are predictable


class ManualClock:
    """CLOCK for the sandbox: time moves only when the test says so."""

    def __init__(self, start: float = START):
        self.now = start

    def __call__(self) -> float:
        return self.now


class WxClient:
    """Just enough of a WeChat API client over Flask's test client."""

    def __init__(self, client: Any):
        self.http = client
        self._token: str | None = None

    def fetch_token(self) -> str:
        answer = self.http.get(
            "/cgi-bin/token",
            query_string={"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET},
        ).json
        self._token = answer["access_token"]
        return self._token

    @property
    def token(self) -> str:
        return self._token or self.fetch_token()

    def get(self, path: str, **params: Any) -> dict:
        if "access_token" in params:  # the test chose the token: no passive refresh
            return self.http.get(path, query_string=params).json
        return self._with_refresh(
            lambda t: self.http.get(path, query_string={"access_token": t, **params}).json
        )

    def post(self, path: str, body: Any) -> dict:
        return self._with_refresh(
            lambda t: self.http.post(path, query_string={"access_token": t}, json=body).json
        )

    def _with_refresh(self, call: Any) -> dict:
        """Retry once with a new token after 40001/42001, as the real client does."""
        answer = call(self.token)
        if answer.get("errcode") in (40001, 42001):
            answer = call(self.fetch_token())
        return answer

    def custom_text(self, openid: str, text: str = "hi") -> dict:
        return self.post(
            "/cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
        )

    def inbound(self, openid: str, kind: str = "message", **extra: Any) -> None:
        answer = self.http.post("/sandbox/inbound", json={"openid": openid, "kind": kind, **extra})
        assert answer.json == {"ok": True}, answer.json

    def advance(self, seconds: float) -> None:
        assert self.http.post("/sandbox/clock", json={"advance": seconds}).json["ok"]

    def sent(self, **params: Any) -> dict:
        return self.http.get("/sandbox/sent", query_string=params).json


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock):
    return create_sandbox_app({"CLOCK": clock})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def wx(client) -> WxClient:
    return WxClient(client)


@pytest.fixture
def state(app):
    return app.extensions["sandbox"]
