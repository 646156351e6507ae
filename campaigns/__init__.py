"""Campaigns: customer segments and scheduled re-engagement pushes (not built yet).

The recurring housekeeping jobs that used to live here moved to the domains they serve
(shop/jobs.py, content_audit/jobs.py, bot/message_stats.py); the scheduler is bot/scheduler.py.
"""

from __future__ import annotations

from core.registry import Registry


def register(registry: Registry) -> None:
    """Nothing to register until segments and pushes exist."""
