"""Customer-service pushes sent as an agent go exactly once: a call whose outcome is in doubt
(-1 after delivering, no answer, a sender that died) is settled by WeChat's chat log, never
given up on and never sent twice.

The sandbox files every customer-service message sent with `customservice.kf_account` in its
chat log (`customservice/msgrecord/getmsglist`), as WeChat does; its outbox is what customers
received.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from campaigns import chat_log, sender
from campaigns.pushes import Suppression
from core.storage import Storage
from shop.notices import NoticeOptIn
from tests.campaigns.test_sender import (
    COPY,
    CUSTOM,
    TEMPLATE,
    WORKER,
    add,
    deliveries,
    fault,
    follow,
    make_run,
    now,
    received,
    run_state,
    set_rows,
    states,
)

AGENT = "push@gh_demo"
LOG = "/customservice/msgrecord/getmsglist"


@pytest.fixture()
def agent_shop(shop: Storage) -> Storage:
    shop.settings = {"PUSH_KF_ACCOUNT": AGENT}
    return shop


def chat_log_page(sandbox: str, token_of: Storage, **body) -> dict:
    token = token_of.wechat.tokens.get()
    return requests.post(f"{sandbox}{LOG}", params={"access_token": token}, json=body,
                         timeout=5).json()


# --- the sandbox's chat log -----------------------------------------------------------------


def test_the_chat_log_holds_agent_sends_only_and_pages(agent_shop, sandbox):
    follow(agent_shop, sandbox, ["o_a", "o_b"], chatted=True)
    agent_shop.wechat.send_text("o_a", "第一条", kf_account=AGENT)
    agent_shop.wechat.send_text("o_a", "没有客服账号")  # not filed: no agent named
    agent_shop.wechat.send_text("o_b", "第二条", kf_account=AGENT)
    start = int(datetime.now(UTC).timestamp()) - 60
    first = chat_log_page(sandbox, agent_shop, starttime=start, endtime=start + 120, msgid=1,
                          number=1)
    assert [(r["openid"], r["text"], r["worker"], r["opercode"]) for r in first["recordlist"]] \
        == [("o_a", "第一条", AGENT, 2002)]
    second = chat_log_page(sandbox, agent_shop, starttime=start, endtime=start + 120,
                           msgid=first["msgid"], number=10)
    assert [r["text"] for r in second["recordlist"]] == ["第二条"]


def test_the_chat_log_refuses_a_period_over_24_hours(agent_shop, sandbox):
    start = int(datetime.now(UTC).timestamp())
    answer = chat_log_page(sandbox, agent_shop, starttime=start - 86401, endtime=start,
                           msgid=1, number=10)
    assert answer["errcode"] == 65416


def test_an_earlier_copy_of_the_same_text_settles_only_its_own_call(agent_shop, sandbox):
    """The same copy sent to the same customer by an earlier run is not taken for this call."""
    follow(agent_shop, sandbox, ["o_a"], chatted=True)
    agent_shop.wechat.send_text("o_a", COPY, kf_account=AGENT)
    later = datetime.now(UTC) + chat_log.CLOCK_SKEW + timedelta(seconds=5)
    lookups = [chat_log.Lookup(1, "o_a", AGENT, COPY, datetime.now(UTC) - timedelta(seconds=5)),
               chat_log.Lookup(2, "o_a", AGENT, COPY, later)]
    assert chat_log.delivered(agent_shop.wechat, lookups,
                              later + timedelta(minutes=1)) == {1}


# --- the sender ---------------------------------------------------------------------------


def test_busy_after_delivering_is_found_in_the_log_and_not_sent_again(agent_shop, sandbox):
    """The case that used to give a second copy: WeChat delivered, then answered -1."""
    run_id = make_run(agent_shop)
    follow(agent_shop, sandbox, ["o_chat"], chatted=True)
    ids = add(agent_shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1, after_accept=True)
    start = now()
    assert sender.send_due(agent_shop, start) == {"checking": 1}
    [row] = deliveries(agent_shop, ids)
    assert (row.state, row.reason, row.kf_account) == ("calling", sender.CHECK_REASON, AGENT)
    assert sender.send_due(agent_shop, start + timedelta(seconds=60)) == {}  # not due yet
    assert sender.send_due(agent_shop, start + timedelta(seconds=121)) == {"sent": 1}
    assert states(agent_shop, ids) == ["sent"]
    assert received(sandbox) == {"o_chat": 1}
    assert run_state(agent_shop, run_id) == "done"


def test_busy_before_delivering_is_not_in_the_log_and_is_sent_once(agent_shop, sandbox):
    run_id = make_run(agent_shop)
    follow(agent_shop, sandbox, ["o_chat"], chatted=True)
    ids = add(agent_shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1)
    start = now()
    assert sender.send_due(agent_shop, start) == {"checking": 1}
    assert received(sandbox) == {}
    assert sender.send_due(agent_shop, start + timedelta(seconds=121)) == {"resend": 1, "sent": 1}
    assert states(agent_shop, ids) == ["sent"]
    assert received(sandbox) == {"o_chat": 1}


def test_no_answer_is_looked_up_and_counts_once(agent_shop, sandbox):
    agent_shop.wechat.timeout = 0.5
    run_id = make_run(agent_shop)
    follow(agent_shop, sandbox, ["o_chat"], chatted=True)
    add(agent_shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, 0, delay=1.5, after_accept=True)
    start = now()
    assert sender.send_due(agent_shop, start) == {"checking": 1}
    assert sender.send_due(agent_shop, start + sender.CHECK_AFTER + timedelta(seconds=1)) \
        == {"sent": 1}
    assert received(sandbox) == {"o_chat": 1}


def test_a_dead_senders_call_is_settled_either_way(agent_shop, sandbox):
    """Two rows left `calling` by a sender that died: one had reached WeChat (it is in the
    log), one had not. The first is recorded as sent, the second is sent now: one copy each."""
    run_id = make_run(agent_shop)
    follow(agent_shop, sandbox, ["o_went", "o_lost"], chatted=True)
    went, lost = add(agent_shop, run_id, ["o_went", "o_lost"], "custom")
    agent_shop.wechat.send_text("o_went", COPY, kf_account=AGENT)  # what the dead one sent
    start = now()
    set_rows(agent_shop, [went, lost], state="calling", kf_account=AGENT, attempts=1,
             called_at=datetime.now(UTC) - timedelta(seconds=5),
             lease_until=start - timedelta(seconds=1))
    counts = sender.send_due(agent_shop, start)
    assert counts == {"sent": 2, "resend": 1}
    assert states(agent_shop, [went, lost]) == ["sent", "sent"]
    assert received(sandbox) == {"o_went": 1, "o_lost": 1}


def test_an_unreadable_log_settles_nothing_then_gives_up_after_a_day(agent_shop, sandbox):
    run_id = make_run(agent_shop)
    follow(agent_shop, sandbox, ["o_chat"], chatted=True)
    ids = add(agent_shop, run_id, ["o_chat"], "custom")
    start = now()
    set_rows(agent_shop, ids, state="calling", kf_account=AGENT, attempts=1,
             called_at=datetime.now(UTC) - timedelta(minutes=5),
             lease_until=start - timedelta(seconds=1))
    fault(sandbox, LOG, -1, times=20)  # the client retries -1 three times itself
    assert sender.send_due(agent_shop, start) == {}
    assert states(agent_shop, ids) == ["calling"]
    set_rows(agent_shop, ids, called_at=datetime.now(UTC) - timedelta(hours=24))
    assert sender.send_due(agent_shop, start) == {"unknown": 1}
    [row] = deliveries(agent_shop, ids)
    assert (row.state, row.reason) == ("unknown", sender.LOG_UNREADABLE_REASON)
    assert received(sandbox) == {}


def test_the_fifth_call_not_in_the_log_fails(agent_shop, sandbox):
    run_id = make_run(agent_shop)
    follow(agent_shop, sandbox, ["o_chat"], chatted=True)
    ids = add(agent_shop, run_id, ["o_chat"], "custom")
    start = now()
    set_rows(agent_shop, ids, state="calling", kf_account=AGENT, attempts=sender.MAX_ATTEMPTS,
             called_at=datetime.now(UTC), lease_until=start - timedelta(seconds=1),
             error_code=-1)
    assert sender.send_due(agent_shop, start) == {"failed": 1}
    [row] = deliveries(agent_shop, ids)
    assert (row.state, row.error_code) == ("failed", -1)
    assert received(sandbox) == {}


def test_without_an_agent_a_dead_call_is_still_unknown(shop, sandbox):
    """No agent set: nothing to look up, so the old at-most-once rule holds."""
    run_id = make_run(shop)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    start = now()
    set_rows(shop, ids, state="calling", attempts=1, lease_until=start - timedelta(seconds=1))
    sender.send_due(shop, start)
    assert states(shop, ids) == ["unknown"]
    assert received(sandbox) == {}


def test_kill_9_during_agent_sends_loses_nobody_and_doubles_nobody(agent_shop, sandbox):
    """The drill of test_sender.py with an agent set: 600 customer-service deliveries, a
    sender SIGKILLed once 250 are out (its last call's answer delayed, so it dies mid-call,
    with the rest of its group recorded `calling` and never called), then a fresh sender after
    the lease: every customer has exactly one copy and every row is `sent` — none `unknown`."""
    openids = [f"o_k{i}" for i in range(600)]
    follow(agent_shop, sandbox, openids, chatted=True)
    run_id = make_run(agent_shop)
    ids = add(agent_shop, run_id, openids, "custom")
    url = str(agent_shop.engine.url)
    socket_path = agent_shop.redis.connection_pool.connection_kwargs["path"]
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, socket_path, sandbox, "50", AGENT],
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."})

    def out() -> int:
        return int(requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()["sent"])

    try:
        deadline = time.monotonic() + 60
        while out() < 250 and time.monotonic() < deadline:
            assert process.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.01)
        fault(sandbox, CUSTOM, 0, delay=3, after_accept=True)  # the next call: sent, no answer
        time.sleep(0.5)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    left = Counter(states(agent_shop, ids))
    # the group it died in: the call in flight went out, the rest of the group never did
    assert 1 <= left["calling"] <= sender.AGENT_GROUP, left
    time.sleep(3)  # the delayed answer goes nowhere; the message was delivered
    sender.send_due(agent_shop, now() + timedelta(minutes=10), batch=50)
    got = received(sandbox)
    assert [openid for openid, times in got.items() if times > 1] == []
    assert Counter(states(agent_shop, ids)) == {"sent": 600}, [
        (d.state, d.reason, d.kf_account, d.error) for d in deliveries(agent_shop, ids)
        if d.state != "sent"]
    assert sum(got.values()) == 600
    assert run_state(agent_shop, run_id) == "done"


# --- subscription notices: no id and no log, but WeChat refuses one without an opt-in -------

BIZSEND = "/cgi-bin/message/subscribe/bizsend"


def opted_in(storage: Storage, sandbox: str, openid: str, times: int = 1) -> None:
    """`times` opt-ins for the push template, at WeChat and in our ledger."""
    for _ in range(times):
        requests.post(f"{sandbox}/sandbox/inbound", timeout=5, json={
            "openid": openid, "kind": "subscribe_msg", "template_id": TEMPLATE})
    with storage.sessions.begin() as db:
        db.add(NoticeOptIn(openid=openid, template_id=TEMPLATE, remaining=times,
                           updated_at=now()))


@pytest.fixture()
def notice_shop(shop: Storage) -> Storage:
    shop.settings = {"PUSH_TEMPLATE_ID": TEMPLATE}
    return shop


@pytest.mark.parametrize("delivered", [True, False], ids=["went", "never-went"])
def test_a_busy_notice_on_the_only_opt_in_is_probed_and_counts_once(notice_shop, sandbox,
                                                                     delivered):
    """-1 on a subscription notice: sent again as a probe. Had the first gone, WeChat refuses
    the probe (43101: the only opt-in is spent) and the row is `sent`; had it not, the probe
    delivers. One copy either way, and the customer is not put on the suppression list."""
    run_id = make_run(notice_shop)
    opted_in(notice_shop, sandbox, "o_opt")
    ids = add(notice_shop, run_id, ["o_opt"], "subscribe")
    fault(sandbox, BIZSEND, -1, after_accept=delivered)
    start = now()
    assert sender.send_due(notice_shop, start) == {"probe": 1}
    [row] = deliveries(notice_shop, ids)
    assert (row.state, row.reason) == ("planned", sender.PROBE_REASON)
    assert sender.send_due(notice_shop, start + timedelta(seconds=121)) == {"sent": 1}
    [row] = deliveries(notice_shop, ids)
    assert row.state == "sent"
    assert (row.reason == sender.PROBE_SENT_REASON) is delivered
    assert received(sandbox) == {"o_opt": 1}
    with notice_shop.sessions() as db:
        assert db.get(Suppression, "o_opt") is None
        assert db.get(NoticeOptIn, ("o_opt", TEMPLATE)).remaining == 0


def test_a_dead_senders_notice_on_the_only_opt_in_is_probed(notice_shop, sandbox):
    run_id = make_run(notice_shop)
    opted_in(notice_shop, sandbox, "o_opt")
    ids = add(notice_shop, run_id, ["o_opt"], "subscribe")
    notice_shop.wechat.send_subscribe_notice("o_opt", TEMPLATE, {"thing1": COPY[:20]})
    with notice_shop.sessions.begin() as db:  # what the dead sender had spent
        db.get(NoticeOptIn, ("o_opt", TEMPLATE)).remaining = 0
    start = now()
    set_rows(notice_shop, ids, state="calling", attempts=1,
             lease_until=start - timedelta(seconds=1))
    assert sender.send_due(notice_shop, start) == {"probe": 1, "sent": 1}
    assert states(notice_shop, ids) == ["sent"]
    assert received(sandbox) == {"o_opt": 1}


def test_a_notice_in_doubt_for_a_customer_with_another_opt_in_is_unknown(notice_shop, sandbox):
    """A probe would deliver a second copy on the other opt-in: the old rule holds."""
    run_id = make_run(notice_shop)
    opted_in(notice_shop, sandbox, "o_two", times=2)
    ids = add(notice_shop, run_id, ["o_two"], "subscribe")
    notice_shop.wechat.timeout = 0.5
    fault(sandbox, BIZSEND, 0, delay=1.5, after_accept=True)
    assert sender.send_due(notice_shop, now()) == {"unknown": 1}
    time.sleep(1.2)
    assert states(notice_shop, ids) == ["unknown"]
    assert received(sandbox) == {"o_two": 1}


def test_a_group_that_runs_out_of_time_gives_its_uncalled_rows_back(agent_shop, sandbox,
                                                                    monkeypatch):
    """WeChat slow: a group of agent messages stops calling before its lease could run out;
    the calls not made are given back and sent later, once each."""
    monkeypatch.setattr(sender, "GROUP_DEADLINE", timedelta(seconds=0.3))
    run_id = make_run(agent_shop)
    openids = [f"o_g{i}" for i in range(5)]
    follow(agent_shop, sandbox, openids, chatted=True)
    ids = add(agent_shop, run_id, openids, "custom")
    fault(sandbox, CUSTOM, 0, delay=0.5)  # the first call is slow, and delivered
    counts = sender.send_due(agent_shop, now())
    assert counts["released"] == 4 and counts["sent"] == 5, counts
    assert states(agent_shop, ids) == ["sent"] * 5
    assert received(sandbox) == dict.fromkeys(openids, 1)


def test_a_probe_that_never_gets_an_answer_ends_unknown(notice_shop, sandbox):
    run_id = make_run(notice_shop)
    opted_in(notice_shop, sandbox, "o_opt")
    ids = add(notice_shop, run_id, ["o_opt"], "subscribe")
    set_rows(notice_shop, ids, reason=sender.PROBE_REASON, error_code=-1,
             attempts=sender.MAX_ATTEMPTS - 1)
    with notice_shop.sessions.begin() as db:
        db.get(NoticeOptIn, ("o_opt", TEMPLATE)).remaining = 0
    fault(sandbox, BIZSEND, -1)
    assert sender.send_due(notice_shop, now()) == {"unknown": 1}
    [row] = deliveries(notice_shop, ids)
    assert (row.state, row.reason, row.attempts) == ("unknown", sender.UNKNOWN_REASON,
                                                     sender.MAX_ATTEMPTS)
