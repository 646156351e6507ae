"""Notices owed to customers: queued once, sent once, only through a channel WeChat allows,
and only past the content gate. Sent to the real sandbox, which enforces WeChat's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import select

from shop import jobs, notices
from shop.followers import Follower
from shop.notices import CustomerNotice

TEMPLATE = "TPL-reminder"


def follower(storage, openid: str, last_message: datetime | None,
             last_click: datetime | None = None) -> None:
    with storage.sessions.begin() as db:
        db.add(Follower(openid=openid, subscribed=True, first_seen_at=datetime.now(UTC),
                        last_message_at=last_message,
                        last_interaction_at=last_click or last_message))


def wechat_sees(sandbox: str, openid: str, kind: str, **extra) -> None:
    answer = requests.post(f"{sandbox}/sandbox/inbound",
                           json={"openid": openid, "kind": kind, **extra}, timeout=5)
    assert answer.ok, answer.text


def sent(sandbox: str, openid: str) -> list[dict]:
    answer = requests.get(f"{sandbox}/sandbox/sent", params={"touser": openid}, timeout=5)
    return answer.json()["messages"]


def owe(storage, openid: str, text: str, key: str, due: datetime | None = None,
        event: datetime | None = None) -> bool:
    with storage.sessions.begin() as db:
        return notices.queue(db, openid, "test", text, key=key, title="秒杀提醒", due_at=due,
                             event_at=event)


def state_of(storage, key: str) -> tuple[str, str, str]:
    with storage.sessions() as db:
        row = db.scalar(select(CustomerNotice).where(CustomerNotice.key == key))
        return row.state, row.channel, row.error


def run_job(app, now: datetime | None = None) -> dict[str, int]:
    return jobs.send_customer_notices(app.extensions["storage"], now)


def test_inside_the_window_it_goes_as_a_customer_service_message_once(app, sandbox):
    storage = app.extensions["storage"]
    wechat_sees(sandbox, "o-near", "message")
    follower(storage, "o-near", datetime.now(UTC) - timedelta(hours=1))
    assert owe(storage, "o-near", "您预约的秒杀 5 分钟后开始，回复「秒杀」查看。", "k1")
    assert not owe(storage, "o-near", "again", "k1")  # a job run twice queues it once
    assert run_job(app)["sent"] == 1
    assert run_job(app)["sent"] == 0
    messages = sent(sandbox, "o-near")
    assert [m["body"]["text"]["content"] for m in messages] == [
        "您预约的秒杀 5 分钟后开始，回复「秒杀」查看。"]
    assert state_of(storage, "k1")[:2] == ("sent", "custom")


def test_outside_the_window_only_an_opt_in_reaches_them(make_app, sandbox):
    app = make_app(NOTICE_TEMPLATE_ID=TEMPLATE)
    storage = app.extensions["storage"]
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    for openid in ("o-opted", "o-silent"):
        wechat_sees(sandbox, openid, "subscribe")
        follower(storage, openid, three_days_ago)
    wechat_sees(sandbox, "o-opted", "subscribe_msg", template_id=TEMPLATE)
    with storage.sessions.begin() as db:
        notices.record_opt_in(db, "o-opted", TEMPLATE, datetime.now(UTC))
    session_start = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai
    owe(storage, "o-opted", "秒杀马上开始", "opted", event=session_start)
    owe(storage, "o-silent", "秒杀马上开始", "silent", event=session_start)
    counts = run_job(app, datetime.now(UTC) + timedelta(seconds=1))
    assert counts["sent"] == 1 and counts["unreachable"] == 1
    [notice] = sent(sandbox, "o-opted")
    assert notice["api"] == "subscribe/bizsend"
    assert notice["body"]["data"] == {"thing1": {"value": "秒杀提醒"},
                                      "time2": {"value": "2026-12-05 15:00"}}
    assert sent(sandbox, "o-silent") == []
    assert state_of(storage, "silent")[0] == "unreachable"
    with storage.sessions() as db:  # the one opt-in is spent: the next needs another
        assert not notices.has_opt_in(db, "o-opted", TEMPLATE)


def test_a_notice_waits_for_its_time(app, sandbox):
    storage = app.extensions["storage"]
    wechat_sees(sandbox, "o-later", "message")
    follower(storage, "o-later", datetime.now(UTC))
    start = datetime.now(UTC) + timedelta(minutes=30)
    owe(storage, "o-later", "提醒", "later", due=start)
    assert run_job(app)["sent"] == 0
    assert run_job(app, start + timedelta(seconds=1))["sent"] == 1


def test_copy_the_content_gate_blocks_is_not_sent(app, sandbox):
    storage = app.extensions["storage"]
    wechat_sees(sandbox, "o-gate", "message")
    follower(storage, "o-gate", datetime.now(UTC))
    owe(storage, "o-gate", "全网最低价，国家级产品，秒杀马上开始", "gate")
    assert run_job(app)["held"] == 1
    state, _, error = state_of(storage, "gate")
    assert state == "held" and "最低价" in error
    assert sent(sandbox, "o-gate") == []


def test_a_refusal_from_wechat_is_recorded_not_retried(app, sandbox):
    storage = app.extensions["storage"]
    follower(storage, "o-gone", datetime.now(UTC))  # we think the window is open; WeChat not
    owe(storage, "o-gone", "秒杀马上开始", "gone")
    assert run_job(app)["failed"] == 1
    state, channel, error = state_of(storage, "gone")
    assert (state, channel) == ("failed", "custom") and "450" in error
    assert run_job(app)["failed"] == 0


def test_a_menu_click_does_not_open_the_window_for_later_sends(app, sandbox):
    """WeChat opens 48 hours on a message, one minute on a click (WECHAT_API.md §5A)."""
    storage = app.extensions["storage"]
    wechat_sees(sandbox, "o-clicker", "click")
    follower(storage, "o-clicker", None, last_click=datetime.now(UTC) - timedelta(hours=1))
    owe(storage, "o-clicker", "秒杀马上开始", "click")
    assert run_job(app)["unreachable"] == 1
    assert sent(sandbox, "o-clicker") == []


def test_the_webhook_keeps_messages_and_clicks_apart(app, wechat):
    """A click touches the customer; only a message counts as their last message."""
    storage = app.extensions["storage"]
    wechat.reply(wechat.user.event("CLICK", "MENU_HELP"))
    jobs.flush_follower_touches(storage)
    with storage.sessions() as db:
        row = db.get(Follower, wechat.user.openid)
        assert row.last_interaction_at is not None and row.last_message_at is None
    wechat.say("你好")
    jobs.flush_follower_touches(storage)
    with storage.sessions() as db:
        row = db.get(Follower, wechat.user.openid)
        assert row.last_message_at is not None
        assert row.last_message_at == row.last_interaction_at
