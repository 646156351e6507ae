"""The composition root's list of areas, and the handles built from what they register.

Each area (the console shell, the dashboard, and every domain) has a `register(registry)`
function; this is the one place that calls them, in the order their console menus appear.
The web app, the scheduler process and the tests all start from `build_registry()`, so
the tables, the jobs and the configuration checks are the same wherever the code runs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from core.registry import Registry
from core.storage import Storage, make_storage


@lru_cache(maxsize=1)
def build_registry() -> Registry:
    """Every area registered, and every model module imported (so its tables exist).

    Built once per process: the CLI, the app factory and the scheduler share one registry.
    """
    import campaigns
    import console
    import content_audit
    import customer_service
    import dashboard
    import promotions
    import shop
    from bot import message_stats

    registry = Registry()
    registry.add_models("bot.message_stats")
    registry.add_job("wechat", "flush_message_stats", 10, message_stats.flush_message_stats)
    # Menu order: a role lands on its first area (managers on the dashboard, agents on the
    # inbox, reviewers on the queue).
    for area in (dashboard, console, content_audit, customer_service, shop, promotions, campaigns):
        area.register(registry)
    registry.import_models()
    return registry


def open_storage(settings: dict[str, Any]) -> Storage:
    """SQL, Redis, the WeChat API and the WeChat Pay client for a validated configuration."""
    from bot.wechat_api import WeChatAPI
    from shop.wxpay import client_from_settings

    storage = make_storage(settings)
    storage.wxpay = client_from_settings(settings)
    if settings.get("WECHAT_APP_ID") and settings.get("WECHAT_APP_SECRET"):
        storage.wechat = WeChatAPI(settings["WECHAT_API_BASE"], settings["WECHAT_APP_ID"],
                                   settings["WECHAT_APP_SECRET"], storage.redis)
    return storage
