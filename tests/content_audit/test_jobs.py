"""The review queue's job, called with a fixed time as the scheduler would call it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from bot.domains import build_registry
from content_audit import default_screener, gate, jobs, review

#: The gate on the shipped rules (the live-rules path is tested in test_live_rules_reach.py).
check = partial(gate.check, screener=default_screener())


def test_undecided_copy_expires_at_its_send_time_and_the_log_says_so(storage, caplog):
    send_at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with storage.sessions.begin() as db:
        item_id = check(db, "转发即可领取红包", source="push", author="lin",
                             send_at=send_at).item.id
    assert jobs.expire_undecided_reviews(storage, send_at - timedelta(seconds=1)) == 0
    with caplog.at_level(logging.WARNING):
        assert jobs.expire_undecided_reviews(storage, send_at) == 1
    assert f"review item {item_id} (push by lin) expired undecided" in caplog.text
    with storage.sessions() as db:
        assert review.find(db, "push", "转发即可领取红包").state == "expired"


def test_every_job_is_scheduled():
    names = {job.name for job in build_registry().jobs}
    assert {"flush_follower_touches", "flush_message_stats", "expire_undecided_reviews",
            "release_unpaid_orders", "complete_received_orders"} <= names
