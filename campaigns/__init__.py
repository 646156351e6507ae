"""Campaigns: customer segments (segments.py), the WeChat user tags they read (tags.py) and
scheduled re-engagement pushes (pushes.py).

The recurring housekeeping jobs that used to live here moved to the domains they serve
(shop/jobs.py, content_audit/jobs.py, bot/message_stats.py); the scheduler is bot/scheduler.py.
"""

from __future__ import annotations

from typing import Any

from core.registry import Registry


def register(registry: Registry) -> None:
    """The segment, tag and push tables, the nightly snapshot and tag sync, the push planner
    and the 客群 pages."""
    from campaigns import planner, queue, segments, tags

    registry.add_models("campaigns.tags", "campaigns.segments", "campaigns.pushes")
    # Hourly, but it writes only once per Shanghai day (the first run after midnight).
    registry.add_job("campaigns", "segment_snapshot", 3600, segments.snapshot_job)
    # Hourly too, syncing once per Shanghai day: WeChat's user tags and who carries them.
    registry.add_job("campaigns", "wechat_tag_sync", 3600, tags.sync_job)
    # Every minute: create the pushes' runs and plan those that are due (campaigns/planner.py).
    registry.add_job("campaigns", "plan_pushes", 60, planner.plan_due)
    # Every 15 s: send due deliveries itself (PUSH_WORKERS=inline) or queue one RQ job (rq).
    registry.add_job("campaigns", "enqueue_push_sends", 15, queue.enqueue_due)
    registry.add_web(_init_web)


def _init_web(app: Any) -> None:
    from campaigns import push_api, push_views, segment_views
    from console.shell import add_nav

    app.register_blueprint(segment_views.bp)
    app.register_blueprint(push_views.bp)
    app.register_blueprint(push_api.api_bp)  # /api/v1/campaigns, bearer tokens
    add_nav(app, "客群", "campaign_segments.overview", "campaigns")
    # The shell's menu is flat (no sub-entries): the calendar is linked from the push list.
    add_nav(app, "推送", "campaign_pushes.list_pushes", "campaigns")
