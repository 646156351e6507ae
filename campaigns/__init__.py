"""Campaigns: customer segments (segments.py) and, later, scheduled re-engagement pushes.

The recurring housekeeping jobs that used to live here moved to the domains they serve
(shop/jobs.py, content_audit/jobs.py, bot/message_stats.py); the scheduler is bot/scheduler.py.
"""

from __future__ import annotations

from typing import Any

from core.registry import Registry


def register(registry: Registry) -> None:
    """The segment snapshot table, its nightly job and the 客群 console pages."""
    from campaigns import segments

    registry.add_models("campaigns.segments")
    # Hourly, but it writes only once per Shanghai day (the first run after midnight).
    registry.add_job("campaigns", "segment_snapshot", 3600, segments.snapshot_job)
    registry.add_web(_init_web)


def _init_web(app: Any) -> None:
    from campaigns import segment_views
    from console.shell import add_nav

    app.register_blueprint(segment_views.bp)
    add_nav(app, "客群", "campaign_segments.overview", "campaigns")
