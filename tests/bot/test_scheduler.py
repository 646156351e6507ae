"""The scheduler really runs the registered jobs (started and stopped by the fixture)."""

from __future__ import annotations

import time

import pytest

from bot.dedup import TOUCH_KEY
from bot.domains import build_registry
from bot.scheduler import build_scheduler
from core.registry import Job
from shop.followers import Follower


@pytest.fixture()
def fast_scheduler(storage):
    fast = [Job(job.name, 1, job.run) for job in build_registry().jobs]
    scheduler = build_scheduler(storage, fast)
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
