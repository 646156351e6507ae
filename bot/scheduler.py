"""Owns the APScheduler instance and nothing else; the jobs come from the domains' registry.

`python -m bot serve` runs it inside the web process; under gunicorn it runs as its own
`python -m bot scheduler` process so that two web workers don't run every job twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.registry import Job
from core.storage import Storage


def build_scheduler(
    storage: Storage, jobs: Iterable[Job], *, blocking: bool = False
) -> BaseScheduler:
    """A scheduler with every recurring job given; the caller starts and stops it."""
    scheduler = (
        BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
    )
    for job in jobs:
        scheduler.add_job(
            job.run,
            "interval",
            seconds=job.every_seconds,
            args=[storage],
            id=job.name,
            max_instances=1,
            coalesce=True,
        )
    return scheduler
