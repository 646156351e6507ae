"""The scheduler really runs the jobs of SCHEDULES (started and stopped by the fixture)."""

from __future__ import annotations

import time

import pytest

from campaigns import schedules
from campaigns.scheduler import build_scheduler
from shop.followers import TOUCH_KEY, Follower


@pytest.fixture()
def fast_scheduler(storage, monkeypatch):
    fast = [schedules.Schedule(s.name, 1, s.run) for s in schedules.SCHEDULES]
    monkeypatch.setattr("campaigns.scheduler.SCHEDULES", fast)
    scheduler = build_scheduler(storage)
    scheduler.start()
    yield scheduler
    scheduler.shutdown(wait=True)


def test_follower_touches_reach_sql_on_schedule(storage, fast_scheduler):
    storage.redis.hset(TOUCH_KEY, "o_sched", time.time())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with storage.sessions() as db:
            if db.get(Follower, "o_sched"):
                return
        time.sleep(0.1)
    pytest.fail("the flush job did not run")
