"""Plain job functions: they take their handles as arguments, so tests call them directly."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot import message_stats
from bot.storage import Storage
from content_audit import review
from shop import after_sale, payments
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


def expire_undecided_reviews(storage: Storage, now: datetime | None = None) -> int:
    """Copy still waiting for review at its send time is not sent (fail closed)."""
    with storage.sessions.begin() as db:
        expired = review.expire_undecided(db, now or datetime.now(UTC))
        for item in expired:
            log.warning(
                "review item %d (%s by %s) expired undecided at its send time; not sent",
                item.id, item.source, item.author,
            )
    return len(expired)


def release_unpaid_orders(storage: Storage, now: datetime | None = None) -> int:
    """Orders not paid within their time: asked about and closed at WeChat Pay first, then
    cancelled with their stock back on sale (or marked paid if the payment did arrive)."""
    done = payments.expire_unpaid(storage.sessions, storage.wxpay, now or datetime.now(UTC))
    for line in done:
        log.info("unpaid order past its deadline: %s", line)
    return len(done)


def complete_received_orders(storage: Storage, now: datetime | None = None) -> int:
    """自动确认收货 for parcels shipped long enough ago, which starts their 7-day return
    window as if the customer had confirmed."""
    with storage.sessions.begin() as db:
        done = after_sale.receive_overdue(db, now or datetime.now(UTC))
    for number in done:
        log.info("order %s completed automatically after shipping", number)
    return len(done)
