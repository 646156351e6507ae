"""Per-account bearer tokens for scripts that call /api/v1.

A token is shown once, when it is created; only its SHA-256 is stored (a token is already 256
random bits, so a slow hash would add nothing but latency to every API call). A token acts
with its account's role at the time of the call, and stops when revoked, when the account
is disabled, or when the account's password is changed or reset (`accounts.set_password`
revokes them all).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from console.accounts import Account
from core.db import Base

PREFIX = "wxb_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # don't write a row on every call


class ApiToken(Base):
    __tablename__ = "console_api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("console_accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(db: Session, account: Account, name: str) -> tuple[ApiToken, str]:
    """A new token for `account`; returns the row and the secret, which is never stored."""
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        account_id=account.id,
        name=(name or "").strip()[:64] or "未命名",
        digest=digest(secret),
        hint=secret[: len(PREFIX) + 6],
        created_at=datetime.now(UTC),
    )
    db.add(row)
    db.flush()
    return row, secret


def revoke(db: Session, account: Account, token_id: int) -> ApiToken | None:
    """Revoke one of `account`'s own tokens (admins may revoke anyone's)."""
    row = db.get(ApiToken, token_id)
    if row is None or (row.account_id != account.id and account.role != "admin"):
        return None
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    return row


def revoke_all(db: Session, account: Account) -> int:
    """Revoke every live token of `account` (its password changed); returns how many."""
    live = db.scalars(
        select(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
    ).all()
    revoked_at = datetime.now(UTC)
    for row in live:
        row.revoked_at = revoked_at
    return len(live)


def revoked_detail(revoked: int) -> dict[str, int]:
    """The audit entry's detail for the tokens a password change revoked (none: no detail)."""
    return {"tokens_revoked": revoked} if revoked else {}


def resolve(db: Session, secret: str) -> Account | None:
    """The active account a presented token acts for, or None."""
    if not secret.startswith(PREFIX):
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.digest == digest(secret)))
    if row is None or row.revoked_at is not None:
        return None
    account = db.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    now = datetime.now(UTC)
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return account


def tokens_of(db: Session, account: Account) -> list[ApiToken]:
    return list(
        db.scalars(
            select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id.desc())
        )
    )
