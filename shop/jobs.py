"""The shop's recurring jobs: plain functions of the storage handles (and the time), so tests
call them directly; shop.register lists them with their intervals."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from content_audit import gate
from content_audit.rulestore import LiveRules
from core.storage import Storage
from shop import after_sale, notices, payments
from shop.followers import flush_touches

log = logging.getLogger(__name__)


def flush_follower_touches(storage: Storage) -> int:
    """Move last-interaction times from Redis to SQL (the 48-hour window is decided on them)."""
    count = flush_touches(storage.redis, storage.sessions)
    if count:
        log.debug("flushed last-interaction times of %d followers", count)
    return count


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


#: The live rules per process, built on the first notice that comes due (sessionmaker id →).
_rules: dict[int, LiveRules] = {}


def send_customer_notices(storage: Storage, now: datetime | None = None) -> dict[str, int]:
    """Reminders, upgrades and gifts that have come due, each through the channel WeChat
    allows for that customer now and past the content gate (shop/notices.py)."""

    def screen(db: Session, text: str) -> str | None:
        rules = _rules.get(id(storage.sessions))
        if rules is None:
            rules = _rules[id(storage.sessions)] = LiveRules(
                storage.sessions, storage.redis, background=False)
        outcome = gate.check(db, text, source="push", author="system", screener=rules.screener())
        return None if outcome.may_send else outcome.message

    counts = notices.send_due(storage.sessions, storage.wechat, storage.settings,
                              now or datetime.now(UTC), screen=screen)
    if any(counts.values()):
        log.info("customer notices: %s", counts)
    return counts
