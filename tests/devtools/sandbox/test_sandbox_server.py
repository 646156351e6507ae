"""The sandbox on a real socket, driven with requests as the shop's client would."""

from __future__ import annotations

import threading

import pytest
import requests

from devtools.demo import DEMO_ACCOUNT
from devtools.sandbox import create_sandbox_app, serve_in_thread


@pytest.fixture
def server():
    running = serve_in_thread(create_sandbox_app())
    yield running
    running.stop()


def test_token_and_send_over_http(server):
    assert server.url.startswith("http://127.0.0.1:")
    token = requests.get(
        f"{server.url}/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": DEMO_ACCOUNT["WECHAT_APP_ID"],
            "secret": DEMO_ACCOUNT["WECHAT_APP_SECRET"],
        },
        timeout=5,
    ).json()["access_token"]
    requests.post(
        f"{server.url}/sandbox/inbound", json={"openid": "oA", "kind": "click"}, timeout=5
    )
    url = f"{server.url}/cgi-bin/message/custom/send"
    body = {"touser": "oA", "msgtype": "text", "text": {"content": "你好"}}
    codes = [
        requests.post(url, params={"access_token": token}, json=body, timeout=5).json()["errcode"]
        for _ in range(4)
    ]
    assert codes == [0, 0, 0, 45047]
    sent = requests.get(f"{server.url}/sandbox/sent", params={"touser": "oA"}, timeout=5).json()
    assert sent["messages"][0]["body"]["text"]["content"] == "你好"


def test_concurrent_token_fetches_are_counted(server):
    params = {
        "grant_type": "client_credential",
        "appid": DEMO_ACCOUNT["WECHAT_APP_ID"],
        "secret": DEMO_ACCOUNT["WECHAT_APP_SECRET"],
    }
    tokens: list[str] = []

    def fetch() -> None:
        answer = requests.get(f"{server.url}/cgi-bin/token", params=params, timeout=5).json()
        tokens.append(answer["access_token"])

    workers = [threading.Thread(target=fetch) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(tokens)) == 8
    stats = requests.get(f"{server.url}/sandbox/stats", timeout=5).json()
    assert stats["token_fetches"] == 8


def test_stop_frees_the_port():
    running = serve_in_thread(create_sandbox_app())
    running.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/sandbox/stats", timeout=1)
