"""The append-only log of sign-ins and of every change a console account makes.

Rows are only ever inserted: the ORM refuses to update or delete one, so a mistaken or hostile
code path cannot rewrite history. Details never carry secrets (passwords, tokens); callers pass
what changed, not the values of secrets.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base


class AuditEntry(Base):
    __tablename__ = "console_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # username, or "system"
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    address: Mapped[str] = mapped_column(String(64), default="")

    @property
    def details(self) -> dict[str, Any]:
        try:
            return json.loads(self.detail or "{}")
        except ValueError:
            return {}


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_rewrite(_mapper, _connection, _target) -> None:
    raise AppendOnlyError("the audit log is append-only")


def record(
    db: Session,
    action: str,
    *,
    actor: Any = None,
    actor_name: str | None = None,
    target: str = "",
    address: str = "",
    **detail: Any,
) -> AuditEntry:
    """Append one entry. `actor` is an Account (or None for the system or an unknown user)."""
    entry = AuditEntry(
        at=datetime.now(UTC),
        actor_id=getattr(actor, "id", None),
        actor=actor_name or getattr(actor, "username", None) or "system",
        action=action,
        target=str(target)[:128],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        address=(address or "")[:64],
    )
    db.add(entry)
    return entry


def recent(
    db: Session, *, limit: int = 100, action: str = "", actor: str = ""
) -> list[AuditEntry]:
    """The newest entries first, optionally only one action (prefix) or one actor."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return list(db.scalars(query))
