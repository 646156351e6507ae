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
from campaigns import queue, sender
from campaigns.pushes import Push, PushDelivery, PushRun, Suppression
from core.storage import Storage
from shop.followers import Follower
from shop.notices import NoticeOptIn
from tests.conftest import APP_ID, APP_SECRET

COPY = "春季上新，全场八折，欢迎回来看看"
TEMPLATE = "tmpl_push"
CUSTOM = "/cgi-bin/message/custom/send"
MASS = "/cgi-bin/message/mass/send"


@pytest.fixture()
def shop(storage: Storage, sandbox: str) -> Storage:
    storage.wechat = WeChatAPI(sandbox, APP_ID, APP_SECRET, storage.redis, backoff=0.01)
    storage.settings = {"NOTICE_TEMPLATE_ID": TEMPLATE}
    return storage


def now() -> datetime:
    return datetime.now(UTC)


def make_run(storage: Storage, *, state: str = "scheduled", kind: str = "main",
             variants: list[dict[str, str]] | None = None) -> int:
    at = now()
    with storage.sessions.begin() as db:
        push = Push(name="春季上新", segment="dormant", state=state, review="send",
                    variants=json.dumps(variants or [{"key": "A", "text": COPY}]),
                    created_at=at, updated_at=at)
        db.add(push)
        db.flush()
        run = PushRun(push_id=push.id, fire_at=at, kind=kind, state="planned", planned_at=at)
        db.add(run)
        db.flush()
        return run.id


def add(storage: Storage, run_id: int, openids: list[str], channel: str,
        variant: str = "A", **values) -> list[int]:
    with storage.sessions.begin() as db:
        rows = [PushDelivery(run_id=run_id, openid=o, channel=channel, variant=variant,
                             state="planned", created_at=now(), **values) for o in openids]
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
    customer-service row becomes `unknown` — it may have gone out, and WeChat cannot dedupe it."""
    run_id = make_run(storage)
    expired = now() - timedelta(seconds=1)
    custom = add(storage, run_id, ["o_c"], "custom")
    mass = add(storage, run_id, ["o_m1", "o_m2"], "mass")
    fresh = add(storage, run_id, ["o_f"], "subscribe")
    with storage.sessions.begin() as db:
        db.execute(update(PushDelivery).where(PushDelivery.id.in_(custom + mass))
                   .values(state="sending", lease_until=expired, attempts=1))
        db.execute(update(PushDelivery).where(PushDelivery.id.in_(fresh))
                   .values(state="sending", lease_until=now() + timedelta(minutes=1)))
    with storage.sessions.begin() as db:
        got = sender.claim(db, now(), limit=10)
    assert got == mass
    assert states(storage, custom) == ["unknown"]
    assert deliveries(storage, custom)[0].reason == sender.UNKNOWN_REASON
    assert states(storage, fresh) == ["sending"]  # its sender is still within its lease
    assert {d.attempts for d in deliveries(storage, mass)} == {2}


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


def test_the_copy_is_screened_again_when_sent(shop, sandbox):
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    counts = sender.send_due(shop, screen=lambda db, push, text: "文案尚未通过合规审核，未发送")
    assert counts == {"skipped": 1}
    [row] = deliveries(shop, ids)
    assert (row.state, row.reason) == ("skipped", "文案尚未通过合规审核，未发送")
    assert received(sandbox) == {}


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
    """-1 after the client's own three quick retries: planned again 120 s later."""
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1, times=4)
    start = now()
    assert sender.send_due(shop, start) == {"retry": 1}
    [row] = deliveries(shop, ids)
    assert (row.state, row.error_code, row.attempts) == ("planned", -1, 1)
    assert abs((row.not_before.replace(tzinfo=UTC) - start).total_seconds() - 120) < 1
    assert sender.send_due(shop, start + timedelta(seconds=60)) == {}
    assert sender.send_due(shop, start + timedelta(seconds=121)) == {"sent": 1}
    assert received(sandbox) == {"o_chat": 1}


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
    assert sender.send_due(shop) == {"sent": 5}
    assert received(sandbox) == dict.fromkeys(openids, 1)
    assert states(shop, ids) == ["sent"] * 5


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
    """The documented trade-off: -1 means "not sent" (WeChat), so it is retried; when WeChat
    did deliver before failing — the sandbox's accepted-then-failed fault — the customer gets
    two copies. No customer-service API lets a sender tell the cases apart."""
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1, after_accept=True)
    assert sender.send_due(shop) == {"sent": 1}
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


@pytest.mark.parametrize("kill_after", [300, 650], ids=["during-custom", "during-mass"])
def test_kill_9_in_the_middle_sends_nobody_twice(shop, sandbox, kill_after):
    """1,000 deliveries (half customer-service, sent first, then half mass), a sender killed
    with SIGKILL once `kill_after` messages are out, then a fresh sender: no one has two
    copies, nothing is left sending, and at most one batch ended `unknown`."""
    custom_ids = [f"o_c{i}" for i in range(500)]
    mass_ids = [f"o_m{i}" for i in range(500)]
    follow(shop, sandbox, custom_ids, chatted=True)
    follow(shop, sandbox, mass_ids, chatted=False)
    run_id = make_run(shop)
    ids = add(shop, run_id, custom_ids, "custom") + add(shop, run_id, mass_ids, "mass")
    url = str(shop.engine.url)
    socket_path = shop.redis.connection_pool.connection_kwargs["path"]
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, socket_path, sandbox, str(BATCH)],
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."})
    try:
        deadline = time.monotonic() + 60
        while len(sent_log(sandbox)) < kill_after and time.monotonic() < deadline:
            assert process.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    with shop.sessions() as db:
        in_flight = db.scalar(select(func.count()).select_from(PushDelivery)
                              .where(PushDelivery.state == "sending"))
    assert 0 < len(sent_log(sandbox)) < 1000, "killed in the middle"
    sender.send_due(shop, now() + timedelta(minutes=10), batch=BATCH)
    got = received(sandbox)
    assert [openid for openid, times in got.items() if times > 1] == []
    final = Counter(states(shop, ids))
    assert set(final) <= {"sent", "skipped", "failed", "unknown"}, final
    assert final["unknown"] <= BATCH and final["unknown"] <= in_flight
    # Every recorded send reached its customer; an unknown one may or may not have.
    assert final["sent"] <= sum(got.values()) <= final["sent"] + final["unknown"]
    assert final["sent"] + final["unknown"] == 1000
    assert run_state(shop, run_id) == "done"
