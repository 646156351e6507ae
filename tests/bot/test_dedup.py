"""Retries: the handler runs once, and every delivery of a message gets the same reply bytes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.router import Router
from tests.conftest import WeChat


class SlowCounter:
    """A handler that takes `delay` seconds and counts how often it really ran."""

    def __init__(self, delay: float):
        self.delay = delay
        self.calls = 0
        self.lock = threading.Lock()
        self.router = Router("slow")
        self.router.text("慢")(self.handle)

    def handle(self, msg, ctx):
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        return f"第{n}次处理：{msg.text}"


@pytest.mark.parametrize("aes", [False, True], ids=["plaintext", "safe"])
def test_concurrent_retries_run_the_handler_once(make_app, sandbox, aes):
    counter = SlowCounter(delay=0.3)
    app = make_app(ROUTERS=[counter.router])
    wechat = WeChat(app.test_client(), aes=aes)
    body = wechat.user.text("慢")

    def deliver(_):
        # Each retry is a fresh request with its own signature, as WeChat sends them.
        return WeChat.post(wechat_for_thread(app, wechat), body).data

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(deliver, range(4)))
    assert counter.calls == 1
    assert len(set(answers)) == 1
    assert "第1次处理" in wechat_reply_text(wechat, answers[0])


def wechat_for_thread(app, template: WeChat) -> WeChat:
    clone = WeChat(app.test_client(), aes=template.user.aes_key is not None)
    clone.user = template.user
    return clone


def wechat_reply_text(wechat: WeChat, body: bytes) -> str:
    from bot.inbound import parse_xml_fields
    from devtools.wechat_user import read_reply

    return parse_xml_fields(read_reply(body, wechat.crypto))["Content"]


def test_a_retry_after_the_reply_gets_the_same_bytes(make_app, sandbox):
    counter = SlowCounter(delay=0)
    wechat = WeChat(make_app(ROUTERS=[counter.router]).test_client(), aes=True)
    body = wechat.user.text("慢")
    first, second = wechat.post(body).data, wechat.post(body).data
    assert first == second and counter.calls == 1


def test_a_new_message_is_not_a_retry(make_app, sandbox):
    counter = SlowCounter(delay=0)
    wechat = WeChat(make_app(ROUTERS=[counter.router]).test_client())
    wechat.say("慢")
    assert "第2次处理" in wechat.say("慢")


def test_slow_handler_answers_success_and_follows_up_by_customer_service(make_app, sandbox):
    counter = SlowCounter(delay=0.8)
    app = make_app(ROUTERS=[counter.router], REPLY_BUDGET_SECONDS=0.3)
    wechat = WeChat(app.test_client())
    requests.post(
        f"{sandbox}/sandbox/inbound",
        json={"openid": wechat.user.openid, "kind": "message"},
        timeout=5,
    )
    started = time.monotonic()
    body = wechat.user.text("慢")
    assert wechat.reply(body) == "success"
    assert time.monotonic() - started < 0.7
    # A retry meanwhile also gets `success`, and the handler is not run again.
    assert wechat.reply(body) == "success"
    sent = wait_for_sent(sandbox, wechat.user.openid)
    assert [m["body"]["text"]["content"] for m in sent] == ["第1次处理：慢"]
    assert counter.calls == 1


def wait_for_sent(sandbox: str, openid: str, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": openid}, timeout=5).json()[
            "messages"
        ]
        if sent:
            return sent
        time.sleep(0.05)
    return []


def test_two_messages_of_one_customer_are_handled_one_after_the_other(make_app, sandbox):
    """The per-customer lock: the second message waits instead of racing the first."""
    order: list[str] = []
    router = Router("steps")

    @router.text("一", "二")
    def step(msg, ctx):
        order.append(f"start {msg.text}")
        ctx.conversation.update_data(seen=[*ctx.conversation.get_data().get("seen", []), msg.text])
        ctx.conversation.set_state("demo:step")
        time.sleep(0.2)
        order.append(f"end {msg.text}")
        return "、".join(ctx.conversation.get_data()["seen"])

    app = make_app(ROUTERS=[router])
    wechat = WeChat(app.test_client())
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(wechat.say, "一")
        time.sleep(0.05)
        second = pool.submit(wechat_for_thread(app, wechat).say, "二")
        replies = [first.result(), second.result()]
    assert order == ["start 一", "end 一", "start 二", "end 二"]
    assert "一、二" in replies[1]
