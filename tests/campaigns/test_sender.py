"""The push sender: claims, WeChat's answers, retries, suppression, and kill -9 in the middle.

Runs and deliveries are written directly (as the planner would leave them); the real WeChat
client talks to the real sandbox, whose outbox (`/sandbox/sent`) is what customers received.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from rq import SimpleWorker
from sqlalchemy import func, select, update

from bot.wechat_api import WeChatAPI
from campaigns import push_rules, queue, sender
from campaigns.pushes import Push, PushDelivery, PushRun, Suppression
from core.clock import SHANGHAI
from core.storage import Storage
from shop.followers import Follower
from shop.notices import NoticeOptIn

COPY = "春季上新，全场八折，欢迎回来看看"
TEMPLATE = "tmpl_push"
CUSTOM = "/cgi-bin/message/custom/send"
MASS = "/cgi-bin/message/mass/send"


@pytest.fixture()
def shop(shop: Storage) -> Storage:
    """conftest's shop, with a push template and the shop's own reminder template."""
    shop.settings = {"PUSH_TEMPLATE_ID": TEMPLATE, "NOTICE_TEMPLATE_ID": "tmpl_reminders"}
    return shop


def now() -> datetime:
    return datetime.now(UTC)


def make_run(storage: Storage, *, state: str = "scheduled", kind: str = "main",
             variants: list[dict[str, str]] | None = None,
             quiet: tuple[str, str] = ("00:00", "00:00"), fire_at: datetime | None = None
             ) -> int:
    """A push and one run of it; no quiet hours unless `quiet` ((start, end), Shanghai)."""
    at = now()
    with storage.sessions.begin() as db:
        push = Push(name="春季上新", segment="dormant", state=state, review="send",
                    variants=json.dumps(variants or [{"key": "A", "text": COPY}]),
                    quiet_start=quiet[0], quiet_end=quiet[1], created_at=at, updated_at=at)
        db.add(push)
        db.flush()
        run = PushRun(push_id=push.id, fire_at=fire_at or at, kind=kind, state="planned",
                      planned_at=at)
        db.add(run)
        db.flush()
        return run.id


def add(storage: Storage, run_id: int, openids: list[str], channel: str,
        variant: str = "A", **values) -> list[int]:
    with storage.sessions.begin() as db:
        values = {"state": "planned", **values}
        rows = [PushDelivery(run_id=run_id, openid=o, channel=channel, variant=variant,
                             created_at=now(), **values) for o in openids]
        db.add_all(rows)
        db.flush()
        return [r.id for r in rows]


def follow(storage: Storage, sandbox: str, openids: list[str], *, chatted: bool) -> None:
    """Followers in SQL and in the sandbox; `chatted`: a message an hour ago opened the
    48-hour window (both sides)."""
    at = now()
    with storage.sessions.begin() as db:
        for openid in openids:
            db.merge(Follower(openid=openid, subscribed=True, first_seen_at=at,
                              last_message_at=at - timedelta(hours=1) if chatted else None))
    if chatted:
        for openid in openids:
            requests.post(f"{sandbox}/sandbox/inbound", json={"openid": openid, "kind": "message"},
                          timeout=5).raise_for_status()
    else:
        requests.post(f"{sandbox}/sandbox/users", json={"openids": openids},
                      timeout=5).raise_for_status()


def fault(sandbox: str, path: str, errcode: int = -1, times: int = 1, **extra) -> None:
    requests.post(f"{sandbox}/sandbox/faults", timeout=5,
                  json={"path": path, "errcode": errcode, "times": times, **extra}
                  ).raise_for_status()


def sent_log(sandbox: str) -> list[dict]:
    return requests.get(f"{sandbox}/sandbox/sent", timeout=5).json()["messages"]


def received(sandbox: str) -> Counter[str]:
    return Counter(m["touser"] for m in sent_log(sandbox) if m["api"] != "mass/preview")


def calls(sandbox: str, path: str) -> int:
    """How many times the sandbox was called on `path`."""
    stats = requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()
    return int(stats["calls"].get(path, 0))


def set_rows(storage: Storage, ids: list[int], **values) -> None:
    with storage.sessions.begin() as db:
        db.execute(update(PushDelivery).where(PushDelivery.id.in_(ids)).values(**values))


def shanghai(at: datetime, hour: int, minute: int = 0) -> datetime:
    """The next `hour`:`minute` Shanghai time after `at`, in UTC."""
    local = at.astimezone(SHANGHAI)
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


def hhmm(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%H:%M")


def deliveries(storage: Storage, ids: list[int]) -> list[PushDelivery]:
    with storage.sessions() as db:
        return list(db.scalars(select(PushDelivery).where(PushDelivery.id.in_(ids))
                               .order_by(PushDelivery.id)))


def states(storage: Storage, ids: list[int]) -> list[str]:
    return [d.state for d in deliveries(storage, ids)]


def run_state(storage: Storage, run_id: int) -> str:
    with storage.sessions() as db:
        return db.get(PushRun, run_id).state


# --- claiming -------------------------------------------------------------------------------


def test_eight_threads_never_claim_the_same_delivery(any_storage):
    storage = any_storage  # SQLite, and PostgreSQL (FOR UPDATE SKIP LOCKED) where configured
    run_id = make_run(storage)
    ids = add(storage, run_id, [f"o_{i}" for i in range(400)], "custom")
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        while True:
            with storage.sessions.begin() as db:
                got = sender.claim(db, now(), limit=17)
            if not got:
                return
            with lock:
                claimed.extend(got)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(claimed) == sorted(ids)  # every row once, none twice
    assert set(states(storage, ids)) == {"sending"}
    assert {d.attempts for d in deliveries(storage, ids)} == {1}


def test_claim_skips_rows_not_due_and_runs_still_planning(storage):
    run_id = make_run(storage)
    later = add(storage, run_id, ["o_later"], "custom", not_before=now() + timedelta(hours=1))
    due = add(storage, run_id, ["o_due"], "custom", not_before=now() - timedelta(seconds=1))
    planning = make_run(storage)
    with storage.sessions.begin() as db:
        db.execute(update(PushRun).where(PushRun.id == planning).values(state="planning"))
    add(storage, planning, ["o_planning"], "custom")
    with storage.sessions.begin() as db:
        assert sender.claim(db, now(), limit=10) == due
    assert states(storage, later) == ["planned"]
    assert run_state(storage, run_id) == "sending"


def test_an_expired_lease_resends_mass_but_never_a_customer_service_message(storage):
    """A sender killed mid-call: the mass row is claimed again (its clientmsgid dedupes), the
    customer-service row becomes `unknown` — it may have gone out, and WeChat cannot dedupe it.
    A row claimed but never called goes back to planned, its attempt not counted."""
    run_id = make_run(storage)
    expired = now() - timedelta(seconds=1)
    custom = add(storage, run_id, ["o_c"], "custom")
    mass = add(storage, run_id, ["o_m1", "o_m2"], "mass", clientmsgid="push1-A-x",
               sent_at=now() - timedelta(minutes=5))
    never_called = add(storage, run_id, ["o_n"], "subscribe")
    fresh = add(storage, run_id, ["o_f"], "subscribe")
    set_rows(storage, custom + mass, state="calling", lease_until=expired, attempts=1)
    set_rows(storage, never_called, state="sending", lease_until=expired, attempts=1)
    set_rows(storage, fresh, state="calling", lease_until=now() + timedelta(minutes=1))
    with storage.sessions.begin() as db:
        got = sender.claim(db, now(), limit=10)
    assert got == mass + never_called
    assert states(storage, custom) == ["unknown"]
    assert deliveries(storage, custom)[0].reason == sender.UNKNOWN_REASON
    assert states(storage, fresh) == ["calling"]  # its sender is still within its lease
    assert {d.attempts for d in deliveries(storage, mass)} == {2}
    assert deliveries(storage, never_called)[0].attempts == 1  # released (0), claimed again


def test_a_claimed_row_never_called_goes_back_to_planned(storage):
    run_id = make_run(storage)
    ids = add(storage, run_id, ["o_a", "o_b"], "custom")
    with storage.sessions.begin() as db:
        assert sender.claim(db, now(), limit=10) == ids
    later = now() + timedelta(seconds=sender.LEASE_SECONDS + 1)
    with storage.sessions.begin() as db:
        assert sender.claim(db, later, limit=0) == []
    rows = deliveries(storage, ids)
    assert [(r.state, r.attempts, r.lease_until) for r in rows] == [("planned", 0, None)] * 2


# --- sending --------------------------------------------------------------------------------


def test_custom_and_mass_deliveries_go_out_once_and_the_run_is_done(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    follow(shop, sandbox, ["o_m1", "o_m2", "o_m3"], chatted=False)
    custom = add(shop, run_id, ["o_chat"], "custom")
    mass = add(shop, run_id, ["o_m1", "o_m2", "o_m3"], "mass")
    counts = sender.send_due(shop)
    assert counts["sent"] == 4
    assert states(shop, custom + mass) == ["sent"] * 4
    assert received(sandbox) == {"o_chat": 1, "o_m1": 1, "o_m2": 1, "o_m3": 1}
    mass_calls = [m for m in sent_log(sandbox) if m["api"] == "mass/send"]
    expected = sender.clientmsgid(run_id, "A", ["o_m1", "o_m2", "o_m3"])
    assert {m["body"]["clientmsgid"] for m in mass_calls} == {expected}
    assert len(expected.encode()) <= 64
    assert run_state(shop, run_id) == "done"
    assert sender.send_due(shop) == {}  # nothing twice


def test_each_variant_gets_its_own_copy_and_mass_send(shop, sandbox):
    run_id = make_run(shop, variants=[{"key": "A", "text": COPY},
                                      {"key": "B", "text": "老朋友专享：新品九折"}])
    follow(shop, sandbox, ["o_a1", "o_a2", "o_b1", "o_b2"], chatted=False)
    add(shop, run_id, ["o_a1", "o_a2"], "mass", "A")
    add(shop, run_id, ["o_b1", "o_b2"], "mass", "B")
    sender.send_due(shop)
    texts = {m["touser"]: m["body"]["text"]["content"] for m in sent_log(sandbox)}
    assert texts == {"o_a1": COPY, "o_a2": COPY, "o_b1": "老朋友专享：新品九折",
                     "o_b2": "老朋友专享：新品九折"}


def test_a_lone_mass_recipient_goes_as_custom_in_window_else_is_skipped(shop, sandbox):
    """WeChat's openid-list mass send needs two openids (40130)."""
    chatting, dormant = make_run(shop), make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    follow(shop, sandbox, ["o_quiet"], chatted=False)
    one = add(shop, chatting, ["o_chat"], "mass")
    other = add(shop, dormant, ["o_quiet"], "mass")
    sender.send_due(shop)
    [sent] = deliveries(shop, one)
    assert (sent.state, sent.channel) == ("sent", "custom")
    [skipped] = deliveries(shop, other)
    assert skipped.state == "skipped" and "两位" in skipped.reason
    assert received(sandbox) == {"o_chat": 1}


def test_subscribe_spends_the_opt_in_and_without_one_is_skipped(shop, sandbox):
    run_id = make_run(shop)
    for openid in ("o_opted", "o_none"):
        requests.post(f"{sandbox}/sandbox/inbound", timeout=5, json={
            "openid": openid, "kind": "subscribe_msg", "template_id": TEMPLATE})
    with shop.sessions.begin() as db:
        db.add(NoticeOptIn(openid="o_opted", template_id=TEMPLATE, remaining=1, updated_at=now()))
    ids = add(shop, run_id, ["o_opted", "o_none"], "subscribe")
    sender.send_due(shop)
    assert states(shop, ids) == ["sent", "skipped"]
    with shop.sessions() as db:
        assert db.get(NoticeOptIn, ("o_opted", TEMPLATE)).remaining == 0
    assert received(sandbox) == {"o_opted": 1}


def test_a_push_never_spends_an_opt_in_given_for_the_shops_reminders(shop, sandbox):
    """NOTICE_TEMPLATE_ID's opt-ins (order and flash-sale reminders) are not marketing's: a
    customer who opted into reminders only is not sent a push as a subscription notice."""
    run_id = make_run(shop)
    requests.post(f"{sandbox}/sandbox/inbound", timeout=5, json={
        "openid": "o_reminders", "kind": "subscribe_msg", "template_id": "tmpl_reminders"})
    with shop.sessions.begin() as db:
        db.add(NoticeOptIn(openid="o_reminders", template_id="tmpl_reminders", remaining=1,
                           updated_at=now()))
    ids = add(shop, run_id, ["o_reminders"], "subscribe")
    sender.send_due(shop)
    assert states(shop, ids) == ["skipped"]
    with shop.sessions() as db:
        assert db.get(NoticeOptIn, ("o_reminders", "tmpl_reminders")).remaining == 1
    assert received(sandbox) == {}


def test_the_copy_is_screened_again_when_sent(shop, sandbox):
    """Copy refused at send time (now under review) holds its rows, looked at again every 10
    minutes, while the rest of the run goes; a day past the fire time they are skipped."""
    run_id = make_run(shop, variants=[{"key": "A", "text": COPY},
                                      {"key": "B", "text": "老朋友专享：新品九折"}])
    follow(shop, sandbox, ["o_a", "o_b"], chatted=True)
    held = add(shop, run_id, ["o_a"], "custom", "A")
    going = add(shop, run_id, ["o_b"], "custom", "B")

    def screen(db, push, text):
        return "文案尚未通过合规审核，未发送" if text == COPY else None

    start = now()
    assert sender.send_due(shop, start, screen=screen) == {"released": 1, "sent": 1}
    [row] = deliveries(shop, held)
    assert (row.state, row.attempts) == ("planned", 0)
    assert abs((row.not_before.replace(tzinfo=UTC) - start).total_seconds() - 600) < 1
    assert states(shop, going) == ["sent"]
    assert run_state(shop, run_id) == "sending"
    assert sender.send_due(shop, start + timedelta(minutes=5), screen=screen) == {}
    assert sender.send_due(shop, start + timedelta(minutes=11),
                           screen=screen) == {"released": 1}
    late = start + timedelta(hours=24, minutes=1)
    assert sender.send_due(shop, late, screen=screen) == {"skipped": 1}
    [row] = deliveries(shop, held)
    assert (row.state, row.reason) == ("skipped", "文案未通过审核，未发送")
    assert row.error == "文案尚未通过合规审核，未发送"
    assert received(sandbox) == {"o_b": 1}
    assert run_state(shop, run_id) == "done"


def test_copy_approved_meanwhile_goes_out(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    verdict: list[str | None] = ["文案尚未通过合规审核，未发送"]
    start = now()
    sender.send_due(shop, start, screen=lambda db, push, text: verdict[0])
    verdict[0] = None
    assert sender.send_due(shop, start + timedelta(minutes=11),
                           screen=lambda db, push, text: verdict[0]) == {"sent": 1}
    assert states(shop, ids) == ["sent"]


def test_a_closed_window_or_unfollow_since_planning_skips(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_gone"], chatted=False)
    with shop.sessions.begin() as db:
        db.get(Follower, "o_gone").subscribed = False
        db.merge(Follower(openid="o_old", subscribed=True, first_seen_at=now(),
                          last_message_at=now() - timedelta(days=3)))
    custom = add(shop, run_id, ["o_old"], "custom")
    mass = add(shop, run_id, ["o_gone", "o_x"], "mass")
    sender.send_due(shop)
    assert states(shop, custom) == ["skipped"]
    assert deliveries(shop, mass)[0].reason == "已取消关注"


# --- push state -----------------------------------------------------------------------------


def test_a_paused_push_is_not_sent_until_resumed(shop, sandbox):
    run_id = make_run(shop, state="paused")
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    assert sender.send_due(shop) == {}
    assert states(shop, ids) == ["planned"]
    with shop.sessions.begin() as db:
        db.execute(update(Push).values(state="scheduled"))
    sender.send_due(shop)
    assert states(shop, ids) == ["sent"]


def test_a_push_paused_between_claim_and_send_gives_the_rows_back(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    with shop.sessions.begin() as db:
        claimed = sender.claim(db, now(), limit=10)
    with shop.sessions.begin() as db:
        db.execute(update(Push).values(state="paused"))
    assert sender.send_batch(shop, claimed, now()) == {"released": 1}
    [row] = deliveries(shop, ids)
    assert (row.state, row.attempts, row.lease_until) == ("planned", 0, None)
    assert received(sandbox) == {}


def test_a_cancelled_push_skips_what_is_left_and_ends_its_run(shop, sandbox):
    run_id = make_run(shop, state="cancelled")
    ids = add(shop, run_id, ["o_1", "o_2"], "custom")
    sender.send_due(shop)
    assert states(shop, ids) == ["skipped", "skipped"]
    assert deliveries(shop, ids)[0].reason == sender.CANCELLED_REASON
    assert run_state(shop, run_id) == "done"


# --- WeChat's answers -----------------------------------------------------------------------


def test_busy_is_retried_with_backoff_then_sent(shop, sandbox):
    """-1 (the client does not retry it: retry_busy=False): planned again 120 s later."""
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1, times=1)
    start = now()
    assert sender.send_due(shop, start) == {"retry": 1}
    [row] = deliveries(shop, ids)
    assert (row.state, row.error_code, row.attempts) == ("planned", -1, 1)
    assert abs((row.not_before.replace(tzinfo=UTC) - start).total_seconds() - 120) < 1
    assert sender.send_due(shop, start + timedelta(seconds=60)) == {}
    assert sender.send_due(shop, start + timedelta(seconds=121)) == {"sent": 1}
    assert received(sandbox) == {"o_chat": 1}
    assert calls(sandbox, CUSTOM) == 2  # one -1, one success: no quick retries in between


def test_the_minute_quota_backs_off_and_five_attempts_fail(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_a", "o_b"], chatted=True)
    first = add(shop, run_id, ["o_a"], "custom")
    last_try = add(shop, run_id, ["o_b"], "custom", attempts=4)
    fault(sandbox, CUSTOM, 45011, times=2)
    start = now()
    sender.send_due(shop, start)
    [row] = deliveries(shop, first)
    assert (row.state, row.error_code) == ("planned", 45011)
    assert row.not_before.replace(tzinfo=UTC) >= start + timedelta(seconds=60)
    [gave_up] = deliveries(shop, last_try)
    assert (gave_up.state, gave_up.error_code, gave_up.attempts) == ("failed", 45011, 5)


@pytest.mark.parametrize("code", [43004, 40003])
def test_permanent_codes_suppress_the_customer(shop, sandbox, code):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, code)
    sender.send_due(shop)
    [row] = deliveries(shop, ids)
    assert (row.state, row.error_code) == ("skipped", code)
    with shop.sessions() as db:
        assert db.get(Suppression, "o_chat").code == code
    again = add(shop, make_run(shop), ["o_chat"], "custom")
    sender.send_due(shop)
    assert states(shop, again) == ["skipped"]
    assert received(sandbox) == {}


def test_a_refused_subscription_notice_suppresses(shop, sandbox):
    """Our table says an opt-in is left, WeChat says 43101 (withdrawn meanwhile)."""
    run_id = make_run(shop)
    with shop.sessions.begin() as db:
        db.add(NoticeOptIn(openid="o_x", template_id=TEMPLATE, remaining=1, updated_at=now()))
    ids = add(shop, run_id, ["o_x"], "subscribe")
    sender.send_due(shop)
    assert states(shop, ids) == ["skipped"]
    with shop.sessions() as db:
        assert db.get(Suppression, "o_x").code == 43101


def test_window_closed_at_wechat_skips_without_suppressing(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, 45015)
    sender.send_due(shop)
    [row] = deliveries(shop, ids)
    assert (row.state, row.error_code) == ("skipped", 45015)
    with shop.sessions() as db:
        assert db.get(Suppression, "o_chat") is None


def test_45065_means_the_mass_send_already_went(shop, sandbox):
    run_id = make_run(shop)
    openids = ["o_m1", "o_m2"]
    follow(shop, sandbox, openids, chatted=False)
    ids = add(shop, run_id, openids, "mass")
    shop.wechat.mass_send_text(openids, COPY, sender.clientmsgid(run_id, "A", openids))
    assert sender.send_due(shop) == {"sent": 2}
    assert received(sandbox) == {"o_m1": 1, "o_m2": 1}
    assert states(shop, ids) == ["sent", "sent"]


def test_mass_accepted_then_failed_is_resent_with_the_same_clientmsgid(shop, sandbox):
    """The sandbox delivers, then answers -1: the retry carries the same clientmsgid, WeChat
    answers 45065, and everyone has exactly one copy."""
    run_id = make_run(shop)
    openids = [f"o_m{i}" for i in range(5)]
    follow(shop, sandbox, openids, chatted=False)
    ids = add(shop, run_id, openids, "mass")
    fault(sandbox, MASS, -1, after_accept=True)
    start = now()
    assert sender.send_due(shop, start) == {"retry": 5}
    assert sender.send_due(shop, start + timedelta(seconds=121)) == {"sent": 5}
    assert received(sandbox) == dict.fromkeys(openids, 1)
    assert states(shop, ids) == ["sent"] * 5
    assert calls(sandbox, MASS) == 2


def test_mass_answer_lost_is_retried_later_and_deduped(shop, sandbox):
    """No answer at all (delivered, then the connection timed out): a mass send is planned
    again with its clientmsgid kept, and the resend is deduped by WeChat."""
    shop.wechat.timeout = 0.5
    run_id = make_run(shop)
    openids = ["o_m1", "o_m2", "o_m3"]
    follow(shop, sandbox, openids, chatted=False)
    ids = add(shop, run_id, openids, "mass")
    fault(sandbox, MASS, 0, delay=1.5, after_accept=True)
    start = now()
    assert sender.send_due(shop, start) == {"retry": 3}
    assert {d.clientmsgid for d in deliveries(shop, ids)} == {
        sender.clientmsgid(run_id, "A", openids)}
    assert sender.send_due(shop, start + timedelta(minutes=3)) == {"sent": 3}
    assert received(sandbox) == dict.fromkeys(openids, 1)


def test_custom_busy_after_accepting_is_retried_and_that_doubles(shop, sandbox):
    """The documented trade-off: -1 means "not sent" (WeChat), so it is retried — by the
    sender only, after its back-off, never also inside the client; when WeChat did deliver
    before failing — the sandbox's accepted-then-failed fault — the customer gets exactly one
    extra copy: two in all. No customer-service API lets a sender tell the cases apart."""
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1, after_accept=True)
    start = now()
    assert sender.send_due(shop, start) == {"retry": 1}
    assert received(sandbox) == {"o_chat": 1}  # the client did not retry it at once
    assert sender.send_due(shop, start + timedelta(seconds=121)) == {"sent": 1}
    assert states(shop, ids) == ["sent"]
    assert received(sandbox) == {"o_chat": 2}


def test_custom_without_an_answer_is_unknown_and_never_resent(shop, sandbox):
    shop.wechat.timeout = 0.5
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, 0, delay=1.5, after_accept=True)
    assert sender.send_due(shop) == {"unknown": 1}
    [row] = deliveries(shop, ids)
    assert (row.state, row.reason) == ("unknown", sender.NO_ANSWER_REASON)
    time.sleep(1.2)  # the sandbox finishes its slow answer
    assert sender.send_due(shop, now() + timedelta(hours=1)) == {}
    assert received(sandbox) == {"o_chat": 1}
    assert run_state(shop, run_id) == "done"


# --- a batch that fails or outlives its lease ----------------------------------------------


def test_an_exception_before_the_calls_gives_the_batch_back(shop, sandbox):
    """A screen (or anything before the calls) that raises: the rows are planned again, their
    attempt not counted, and a later tick sends them."""
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_a", "o_b"], chatted=True)
    ids = add(shop, run_id, ["o_a", "o_b"], "custom")

    def broken(db, push, text):
        raise RuntimeError("rules store down")

    for _ in range(3):  # the same failure every tick costs no attempt
        with pytest.raises(RuntimeError):
            sender.send_due(shop, screen=broken)
    rows = deliveries(shop, ids)
    assert [(r.state, r.attempts, r.lease_until) for r in rows] == [("planned", 0, None)] * 2
    assert sender.send_due(shop, screen=lambda db, push, text: None) == {"sent": 2}
    assert received(sandbox) == {"o_a": 1, "o_b": 1}


class _Flaky:
    """The real client, raising (not a WeChat answer) on the second customer-service call."""

    def __init__(self, api: WeChatAPI):
        self.api, self.count = api, 0

    def send_text(self, openid, text, **kwargs):
        self.count += 1
        if self.count == 2:
            raise KeyboardInterrupt  # what no `except Exception` catches
        return self.api.send_text(openid, text, **kwargs)


def test_an_exception_mid_batch_releases_only_the_rows_not_called(shop, sandbox):
    run_id = make_run(shop)
    openids = ["o_a", "o_b", "o_c"]
    follow(shop, sandbox, openids, chatted=True)
    ids = add(shop, run_id, openids, "custom")
    real = shop.wechat
    shop.wechat = _Flaky(real)
    with pytest.raises(KeyboardInterrupt):
        sender.send_due(shop)
    shop.wechat = real
    rows = deliveries(shop, ids)
    assert [(r.state, r.attempts) for r in rows] == [
        ("sent", 1), ("calling", 1), ("planned", 0)]
    assert received(sandbox) == {"o_a": 1}
    # o_b's call may have started: after its lease it is unknown, never sent again
    later = now() + timedelta(seconds=sender.LEASE_SECONDS + 1)
    assert sender.send_due(shop, later) == {"sent": 1}
    assert states(shop, ids) == ["sent", "unknown", "sent"]
    assert received(sandbox) == {"o_a": 1, "o_c": 1}


def test_the_lease_is_renewed_as_the_batch_goes(shop, sandbox):
    """A batch slower than its lease: before each call the rows not called yet get a new one,
    so no other sender can take them back meanwhile."""
    run_id = make_run(shop)
    openids = [f"o_{i}" for i in range(3)]
    follow(shop, sandbox, openids, chatted=True)
    ids = add(shop, run_id, openids, "custom")
    start = now()
    with shop.sessions.begin() as db:
        claimed = sender.claim(db, start, limit=10)
    seen: list[list] = []
    real = shop.wechat

    class Watching:
        def send_text(self, openid, text, **kwargs):
            seen.append([(d.state, d.lease_until and d.lease_until.replace(tzinfo=UTC))
                         for d in deliveries(shop, ids)])
            return real.send_text(openid, text, **kwargs)

    shop.wechat = Watching()
    late = start + timedelta(seconds=100)  # 20 s of the claim's lease left
    assert sender.send_batch(shop, claimed, late) == {"sent": 3}
    shop.wechat = real
    first = seen[0]
    assert first[0][0] == "calling"
    assert all(state == "sending" and lease >= late + timedelta(seconds=119)
               for state, lease in first[1:])


def test_a_row_taken_back_by_another_sender_is_not_called(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_a", "o_b"], chatted=True)
    ids = add(shop, run_id, ["o_a", "o_b"], "custom")
    with shop.sessions.begin() as db:
        claimed = sender.claim(db, now(), limit=10)
    theirs = now() + timedelta(minutes=7)
    real = shop.wechat

    class Stalling:
        def send_text(self, openid, text, **kwargs):
            # meanwhile our lease ran out and another sender claimed o_b (a lease of its own)
            set_rows(shop, ids[1:], lease_until=theirs)
            return real.send_text(openid, text, **kwargs)

    shop.wechat = Stalling()
    assert sender.send_batch(shop, claimed, now()) == {"sent": 1}
    shop.wechat = real
    [mine, other] = deliveries(shop, ids)
    assert mine.state == "sent"
    assert (other.state, other.lease_until.replace(tzinfo=UTC)) == ("sending", theirs)
    assert received(sandbox) == {"o_a": 1}


# --- quiet hours ----------------------------------------------------------------------------


def test_quiet_hours_at_send_time_hold_the_row_until_they_end(shop, sandbox):
    start = now()
    quiet = (hhmm(start - timedelta(hours=1)), hhmm(start + timedelta(hours=2)))
    run_id = make_run(shop, quiet=quiet)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    assert sender.send_due(shop, start) == {"released": 1}
    [row] = deliveries(shop, ids)
    with shop.sessions() as db:
        push = db.scalar(select(Push).join(PushRun).where(PushRun.id == run_id))
        expected = push_rules.next_allowed(push, start)
    assert expected > start
    assert (row.state, row.attempts) == ("planned", 0)
    assert row.not_before.replace(tzinfo=UTC) == expected
    assert sender.send_due(shop, expected) == {"sent": 1}
    assert received(sandbox) == {"o_chat": 1}


def test_a_retry_never_lands_in_quiet_hours(shop, sandbox):
    start = now()
    # quiet from 2–3 minutes from now for three hours: the 120 s back-off would land in them
    quiet = (hhmm(start + timedelta(minutes=2)), hhmm(start + timedelta(hours=3)))
    run_id = make_run(shop, quiet=quiet)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1)
    assert sender.send_due(shop, start) == {"retry": 1}
    [row] = deliveries(shop, ids)
    assert row.not_before.replace(tzinfo=UTC) == shanghai(start, *map(int, quiet[1].split(":")))


def test_the_daily_quota_defers_past_the_quiet_hours(shop, sandbox):
    """45009: tomorrow — 00:05 is inside 22:00–08:00, so 08:00."""
    at = shanghai(now(), 10)  # a morning outside the quiet hours
    run_id = make_run(shop, quiet=("22:00", "08:00"), fire_at=at)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, 45009)
    assert sender.send_due(shop, at) == {"deferred": 1}
    [row] = deliveries(shop, ids)
    assert (row.state, row.attempts) == ("planned", 0)
    assert row.not_before.replace(tzinfo=UTC) == shanghai(at, 8)
    assert row.not_before.replace(tzinfo=UTC) - at == timedelta(hours=22)


# --- mass sends -----------------------------------------------------------------------------


def test_fifteen_hundred_mass_rows_go_in_one_call(shop, sandbox):
    run_id = make_run(shop)
    openids = [f"o_m{i}" for i in range(1500)]
    follow(shop, sandbox, openids, chatted=False)
    ids = add(shop, run_id, openids, "mass")
    assert sender.send_due(shop) == {"sent": 1500}
    assert calls(sandbox, MASS) == 1
    assert {d.state for d in deliveries(shop, ids)} == {"sent"}
    assert {d.clientmsgid for d in deliveries(shop, ids)} == {
        sender.clientmsgid(run_id, "A", openids)}
    assert run_state(shop, run_id) == "done"


def test_the_monthly_mass_cap_is_checked_again_at_send_time(shop, sandbox):
    """Four mass sends this month (sent, mid-call or unknown, other runs) skip the fifth;
    last month's do not count."""
    openids = ["o_full", "o_ok", "o_old"]
    follow(shop, sandbox, openids, chatted=False)
    for state in ("sent", "sent", "calling", "unknown"):
        add(shop, make_run(shop), ["o_full"], "mass", state=state, sent_at=now())
    for _ in range(3):
        add(shop, make_run(shop), ["o_ok"], "mass", state="sent", sent_at=now())
    add(shop, make_run(shop), ["o_ok"], "mass", state="skipped", sent_at=now())
    add(shop, make_run(shop), ["o_ok"], "mass", state="failed", sent_at=now())
    for _ in range(4):
        add(shop, make_run(shop), ["o_old"], "mass", state="sent",
            sent_at=now() - timedelta(days=40))
    run_id = make_run(shop)
    ids = add(shop, run_id, openids, "mass")
    counts = sender.send_due(shop)
    assert counts == {"skipped": 1, "sent": 2}
    rows = deliveries(shop, ids)
    assert [(r.state, r.reason) for r in rows] == [
        ("skipped", "本月群发已达4次"), ("sent", ""), ("sent", "")]
    assert received(sandbox) == {"o_ok": 1, "o_old": 1}


def test_a_mass_call_older_than_23_hours_is_not_resent(shop, sandbox):
    """WeChat dedupes a clientmsgid for 24 h only: past 23 h a resend could be a second copy."""
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_m1", "o_m2", "o_n1", "o_n2"], chatted=False)
    cid = sender.clientmsgid(run_id, "A", ["o_m1", "o_m2"])
    old = add(shop, run_id, ["o_m1", "o_m2"], "mass", state="calling", clientmsgid=cid,
              attempts=1, sent_at=now() - timedelta(hours=23, minutes=1),
              lease_until=now() - timedelta(hours=23))
    young_cid = sender.clientmsgid(run_id, "A", ["o_n1", "o_n2"])
    young = add(shop, run_id, ["o_n1", "o_n2"], "mass", state="planned", clientmsgid=young_cid,
                attempts=1, error_code=-1, sent_at=now() - timedelta(hours=22))
    assert sender.send_due(shop) == {"unknown": 2, "sent": 2}
    assert [(d.state, d.reason) for d in deliveries(shop, old)] == [
        ("unknown", sender.MASS_EXPIRED_REASON)] * 2
    assert received(sandbox) == {"o_n1": 1, "o_n2": 1}
    sent = deliveries(shop, young)
    # sent_at stays the first call's time: when the message could first have arrived
    assert {d.sent_at.replace(tzinfo=UTC) < now() - timedelta(hours=21) for d in sent} == {True}
    assert run_state(shop, run_id) == "done"


def test_a_resent_mass_group_leaves_out_rows_skipped_since(shop, sandbox):
    """A group whose first call may or may not have gone out is resent under its clientmsgid
    without the recipients skipped meanwhile (here: suppressed)."""
    run_id = make_run(shop)
    openids = ["o_m1", "o_m2", "o_m3"]
    follow(shop, sandbox, openids, chatted=False)
    cid = sender.clientmsgid(run_id, "A", openids)
    ids = add(shop, run_id, openids, "mass", state="calling", clientmsgid=cid, attempts=1,
              sent_at=now() - timedelta(minutes=10), lease_until=now() - timedelta(minutes=8))
    with shop.sessions.begin() as db:
        db.add(Suppression(openid="o_m3", code=43004, reason="已取消关注（43004）",
                           created_at=now()))
    assert sender.send_due(shop) == {"skipped": 1, "sent": 2}
    [call] = [m for m in sent_log(sandbox) if m["touser"] == "o_m1"]
    assert sorted(call["body"]["touser"]) == ["o_m1", "o_m2"]
    assert call["body"]["clientmsgid"] == cid
    assert states(shop, ids) == ["sent", "sent", "skipped"]
    assert received(sandbox) == {"o_m1": 1, "o_m2": 1}


# --- the queue ------------------------------------------------------------------------------


def test_inline_mode_sends_from_the_scheduler_job(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    add(shop, run_id, ["o_chat"], "custom")
    assert queue.enqueue_due(shop) == {"sent": 1}


def test_rq_mode_queues_one_job_and_a_worker_sends(shop, sandbox):
    shop.settings["PUSH_WORKERS"] = "rq"
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    assert queue.enqueue_due(shop) == {"enqueued": 1}
    assert queue.enqueue_due(shop) == {"enqueued": 0}  # the next tick adds nothing
    assert queue.push_queue(shop).count == 1
    queue.use_storage(shop)
    try:
        SimpleWorker([queue.push_queue(shop)], connection=shop.redis).work(burst=True)
    finally:
        queue.use_storage(None)
    assert states(shop, ids) == ["sent"]
    assert not shop.redis.exists(queue.GUARD_KEY)
    assert queue.enqueue_due(shop) == {"enqueued": 1}


# --- kill -9 --------------------------------------------------------------------------------

WORKER = Path(__file__).with_name("send_worker.py")
BATCH = 50


@pytest.mark.parametrize("kill_after", [275, 1000], ids=["during-custom", "during-mass"])
def test_kill_9_in_the_middle_sends_nobody_twice(shop, sandbox, kill_after):
    """1,000 deliveries (half customer-service, sent first in batches, then half mass, in one
    call), a sender killed with SIGKILL once `kill_after` messages are out, then a fresh
    sender: no one has two copies, nothing is left sending, and at most the one
    customer-service row it was calling for ended `unknown`.

    during-mass: WeChat accepts the mass send and its answer is slow, so the sender dies with
    the 500 mass rows `calling`; the next sender resends them under the recorded clientmsgid
    and WeChat's 45065 says they went."""
    custom_ids = [f"o_c{i}" for i in range(500)]
    mass_ids = [f"o_m{i}" for i in range(500)]
    follow(shop, sandbox, custom_ids, chatted=True)
    follow(shop, sandbox, mass_ids, chatted=False)
    run_id = make_run(shop)
    ids = add(shop, run_id, custom_ids, "custom") + add(shop, run_id, mass_ids, "mass")
    if kill_after == 1000:
        fault(sandbox, MASS, 0, delay=4, after_accept=True)
    url = str(shop.engine.url)
    socket_path = shop.redis.connection_pool.connection_kwargs["path"]
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, socket_path, sandbox, str(BATCH)],
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."})

    def out() -> int:
        return int(requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()["sent"])

    try:
        deadline = time.monotonic() + 60
        while out() < kill_after and time.monotonic() < deadline:
            assert process.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.02)
        assert process.poll() is None, "the worker ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    with shop.sessions() as db:
        left: Counter[str] = Counter({state: number for state, number in db.execute(
            select(PushDelivery.state, func.count()).where(PushDelivery.id.in_(ids))
            .group_by(PushDelivery.state))})
    assert left["sending"] + left["calling"] > 0, f"killed in the middle: {left}"
    assert left["calling"] <= (500 if kill_after == 1000 else 1), left
    if kill_after == 1000:
        assert left["calling"] == 500 and out() == 1000
    sender.send_due(shop, now() + timedelta(minutes=10), batch=BATCH)
    got = received(sandbox)
    assert [openid for openid, times in got.items() if times > 1] == []
    final = Counter(states(shop, ids))
    assert set(final) <= {"sent", "unknown"}, final
    # only a customer-service row the dead sender was calling for may be unknown
    assert final["unknown"] <= 1 and final["unknown"] <= left["calling"], final
    # Every recorded send reached its customer; an unknown one may or may not have.
    assert final["sent"] <= sum(got.values()) <= final["sent"] + final["unknown"]
    assert final["sent"] + final["unknown"] == 1000
    assert sum(got.values()) >= 999
    assert run_state(shop, run_id) == "done"
