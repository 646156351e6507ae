"""Plain job functions: they take their handles as arguments, so tests call them directly."""

from __future__ import annotations

import logging

from bot import message_stats
from bot.storage import Storage
from shop.followers import flush_touches

log = logging.getLogger(__name__)


def flush_follower_touches(storage: Storage) -> int:
    """Move last-interaction times from Redis to SQL (the 48-hour window is decided on them)."""
    count = flush_touches(storage.redis, storage.sessions)
    if count:
        log.debug("flushed last-interaction times of %d followers", count)
    return count


def flush_message_stats(storage: Storage) -> int:
    """Move the webhook's message counts and typed words from Redis into the dashboard's table."""
    count = message_stats.flush(storage.redis, storage.sessions)
    if count:
        log.debug("flushed %d daily message counts", count)
    return count
