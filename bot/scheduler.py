"""Owns the APScheduler instance and nothing else; the jobs come from the domains' registry.

`python -m bot serve` runs it inside the web process; under gunicorn it runs as its own
`python -m bot scheduler` process so that two web workers don't run every job twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from core.registry import Job
from core.storage import Storage


def build_scheduler(storage: Storage, jobs: Iterable[Job]) -> BaseScheduler:
    """A scheduler (on its own thread) with every recurring job given; the caller starts it
    and stops it (bot/serving.py waits for a stop signal on the main thread)."""
    scheduler = BackgroundScheduler(timezone="UTC")
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
