"""The bot with one extra, test-only handler that waits 50 ms on I/O (bench/webhook_bench.py).

The text "慢" routes to `slow_reply`, which sleeps 50 ms (`time.sleep`: under gunicorn's gevent
worker it is monkey-patched and yields, like a real database or HTTP call would) and answers
"slow-ok". Everything else is the production entry point: `handlers.ROUTERS` gets the bench
router in front, then `bot.wsgi` is imported, so logging, create_app() from the environment
and whatever else bot/wsgi.py does at start apply here too.

What-if knobs for bench runs only (unset = the app exactly as configured in production):
BENCH_HANDLER_THREADS overrides the app's HANDLER_THREADS (the handler pool size), and
BENCH_REDIS_MAX_CONNECTIONS gives the app a Redis client whose pool holds that many connections
(redis-py's default pool refuses the 101st concurrent command with MaxConnectionsError).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import bot.app
import handlers
from bot.inbound import Inbound
from bot.router import Router
from handlers.context import ChatContext

SLOW_TEXT = "慢"
SLOW_REPLY = "slow-ok"
SLOW_SECONDS = 0.05

router = Router("bench_slow")


@router.text(SLOW_TEXT)
def slow_reply(msg: Inbound, ctx: ChatContext) -> str:
    """Stands for a handler that waits on a database or an HTTP API for 50 ms."""
    time.sleep(SLOW_SECONDS)
    return SLOW_REPLY


# create_app() reads `handlers.ROUTERS` when it builds the dispatcher; replace the list (not
# mutate it) so nothing else that imported it sees the bench route.
handlers.ROUTERS = [router, *handlers.ROUTERS]

_overrides: dict[str, object] = {}
if os.environ.get("BENCH_HANDLER_THREADS"):
    _overrides["HANDLER_THREADS"] = int(os.environ["BENCH_HANDLER_THREADS"])
if os.environ.get("BENCH_REDIS_MAX_CONNECTIONS"):
    import redis

    _overrides["REDIS_CLIENT"] = redis.Redis.from_url(
        os.environ["REDIS_URL"], health_check_interval=30,
        max_connections=int(os.environ["BENCH_REDIS_MAX_CONNECTIONS"]))

if _overrides:
    # bot/wsgi.py calls `create_app()` as imported from bot.app: hand it the overrides.
    _create_app = bot.app.create_app

    def _create_app_with_overrides(config: Mapping[str, Any] | None = None) -> Any:
        return _create_app({**(config or {}), **_overrides})

    bot.app.create_app = _create_app_with_overrides

from bot.wsgi import app  # noqa: E402  (after the patches above, on purpose)

__all__ = ["app"]
