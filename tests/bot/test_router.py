"""Matching and precedence: the first route in ROUTERS order that matches wins."""

from __future__ import annotations

from bot.inbound import Inbound
from bot.router import Dispatcher, Router, opens_service_window


def text(content: str, kind: str = "text") -> Inbound:
    return Inbound(openid="o1", account="gh", kind=kind, create_time=1, text=content, msg_id="1")


def event(name: str, key: str = "") -> Inbound:
    return Inbound(
        openid="o1", account="gh", kind="event", create_time=1, event=name, event_key=key
    )


def build() -> tuple[Dispatcher, list[Router]]:
    flows, bargain, catch_all = Router("flows"), Router("bargain"), Router("catch_all")
    flows.state("order:*")(lambda m, c: "flow step")
    bargain.text("砍价")(lambda m, c: "keyword")
    bargain.regex(r"^砍价\s*(\d+)$")(lambda m, c: "regex")
    bargain.intent("砍一刀", "帮砍")(lambda m, c: "intent")
    bargain.click("MENU_BARGAIN")(lambda m, c: "click")
    bargain.scan(prefix="bargain_")(lambda m, c: "scan")
    bargain.event("templatesendjobfinish")(lambda m, c: "event")
    catch_all.message()(lambda m, c: "fallback")
    return Dispatcher([flows, bargain, catch_all]), [flows, bargain, catch_all]


def answer(msg: Inbound, state: str | None = None) -> str | None:
    route = build()[0].resolve(msg, state)
    return route.handler(msg, None) if route else None


def test_keywords_are_width_and_case_insensitive():
    assert answer(text("砍价")) == "keyword"
    assert answer(text(" 砍价！")) == "keyword"
    assert answer(text("砍价 12")) == "regex"


def test_jieba_intent_finds_words_inside_a_sentence():
    assert answer(text("朋友能帮我砍一刀吗")) == "intent"
    assert answer(text("今天天气不错")) == "fallback"


def test_voice_recognition_counts_as_text():
    assert answer(text("砍价", kind="voice")) == "keyword"


def test_clicks_scans_and_events():
    assert answer(event("click", "MENU_BARGAIN")) == "click"
    assert answer(event("click", "MENU_OTHER")) is None
    assert answer(event("subscribe", "qrscene_bargain_42")) == "scan"
    assert answer(event("scan", "bargain_42")) == "scan"
    assert answer(event("subscribe", "last_trade_no_1")) is None
    assert answer(event("templatesendjobfinish")) == "event"


def test_a_flow_in_progress_comes_first():
    assert answer(text("砍价"), state="order:quantity") == "flow step"
    assert answer(text("砍价"), state="bargain:start") == "keyword"


def test_events_nobody_handles_fall_through():
    assert answer(event("masssendjobfinish")) is None


def test_routers_only_record_so_each_dispatcher_starts_clean():
    _, routers = build()
    assert [len(r.routes) for r in routers] == [1, 6, 1]


def test_which_inbound_opens_the_service_window():
    assert opens_service_window(text("hi"))
    assert opens_service_window(event("click", "K"))
    assert opens_service_window(event("subscribe"))
    assert not opens_service_window(event("templatesendjobfinish"))
    assert not opens_service_window(event("unsubscribe"))
    assert not opens_service_window(event("view", "https://shop"))
