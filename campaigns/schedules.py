"""Every recurring job, one line each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaigns import jobs


@dataclass(frozen=True)
class Schedule:
    name: str
    every_seconds: int
    run: Any  # a plain function taking the Storage


SCHEDULES = [
    Schedule("flush_follower_touches", 10, jobs.flush_follower_touches),
    Schedule("flush_message_stats", 10, jobs.flush_message_stats),
    Schedule("expire_undecided_reviews", 60, jobs.expire_undecided_reviews),
    Schedule("release_unpaid_orders", 30, jobs.release_unpaid_orders),
    Schedule("complete_received_orders", 3600, jobs.complete_received_orders),
]
