"""Exemptions that need evidence: a term legal with proof, for one product or scope, until a date.

独家 is lawful for an exclusive distributor, 国家级 for a real national award. A reviewer can
allow such a term for one source (and optionally one product or template), with a note of
the evidence and an expiry date; the hit is then reported as exempted instead of flagged,
and each use is written to the console's audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from content_audit.screener import Verdict, verdict_of
from core.clock import as_utc
from core.db import Base

MAX_DAYS = 366


class ExemptionError(ValueError):
    """Why an exemption cannot be granted (Chinese, for the form)."""


class Exemption(Base):
    __tablename__ = "audit_exemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), index=True)
    source_ref: Mapped[str] = mapped_column(String(64), default="")  # "": the whole source
    note: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def covers(self, rule_id: str, term: str) -> bool:
        """The flag's words contain the exempted term (国家级 covers the flag 国家级金奖工艺)."""
        return self.rule_id == rule_id and self.term in term


def grant(
    db: Session,
    *,
    rule_id: str,
    term: str,
    source: str,
    source_ref: str = "",
    note: str,
    expires_at: datetime,
    actor: str,
    at: datetime | None = None,
) -> Exemption:
    at = at or datetime.now(UTC)
    if not note.strip():
        raise ExemptionError("豁免必须附上证明材料说明")
    if not term.strip() or not rule_id.strip():
        raise ExemptionError("请填写规则和用语")
    if len(term.strip()) > 64 or len(rule_id.strip()) > 64 or len(source_ref.strip()) > 64:
        raise ExemptionError("规则、用语和对象编号各不超过 64 个字")
    from content_audit.review import SOURCES

    if source not in SOURCES:
        raise ExemptionError("未知的文案来源")
    expires_at = as_utc(expires_at)
    if expires_at <= at:
        raise ExemptionError("到期时间必须晚于现在")
    if expires_at - at > timedelta(days=MAX_DAYS):
        raise ExemptionError("豁免最长一年，到期后需重新提交证明")
    exemption = Exemption(
        rule_id=rule_id.strip(), term=term.strip(), source=source, source_ref=source_ref.strip(),
        note=note.strip(), expires_at=expires_at, created_by=actor, created_at=at,
    )
    db.add(exemption)
    db.flush()
    return exemption


def revoke(db: Session, exemption: Exemption, at: datetime | None = None) -> None:
    exemption.revoked_at = at or datetime.now(UTC)


def active_for(
    db: Session, source: str, source_ref: str = "", at: datetime | None = None
) -> list[Exemption]:
    at = at or datetime.now(UTC)
    query = select(Exemption).where(
        Exemption.source == source,
        Exemption.revoked_at.is_(None),
        Exemption.expires_at > at,
        or_(Exemption.source_ref == "", Exemption.source_ref == source_ref),
    )
    return list(db.scalars(query))


def apply(verdict: Verdict, exemptions: list[Exemption]) -> tuple[Verdict, list[Exemption]]:
    """The verdict without the hits the exemptions allow, and the exemptions that were used."""
    if not exemptions or not verdict.flags:
        return verdict, []
    kept, exempted, used = [], [], []
    for flag in verdict.flags:
        match = next((e for e in exemptions if e.covers(flag.rule_id, flag.term)), None)
        if match is None:
            kept.append(flag)
        else:
            exempted.append(flag)
            if match not in used:
                used.append(match)
    return verdict_of(kept, verdict.ruleset_version, tuple(exempted)), used


def listing(db: Session) -> list[Exemption]:
    return list(db.scalars(select(Exemption).order_by(Exemption.id.desc()).limit(200)))
