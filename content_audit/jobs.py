"""The review queue's recurring job (content_audit.register schedules it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from content_audit import review
from core.storage import Storage

log = logging.getLogger(__name__)


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
