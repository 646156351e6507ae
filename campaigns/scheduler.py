"""Owns the APScheduler instance and nothing else (the jobs are in schedules.py).

`python -m bot serve` runs it inside the web process; under gunicorn it runs as its own
`python -m bot scheduler` process so that two web workers don't run every job twice.
"""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.storage import Storage
from campaigns.schedules import SCHEDULES


def build_scheduler(storage: Storage, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler with every recurring job of SCHEDULES; the caller starts and stops it."""
    scheduler = (
        BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
    )
    for schedule in SCHEDULES:
        scheduler.add_job(
            schedule.run,
            "interval",
            seconds=schedule.every_seconds,
            args=[storage],
            id=schedule.name,
            max_instances=1,
            coalesce=True,
        )
    return scheduler
