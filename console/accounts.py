"""Console accounts: who may sign in, with which role, and their password.

Passwords are kept only as scrypt hashes (a deliberately slow hash, ~0.1 s here), so a leaked
table does not give them away. A sign-in with an unknown name spends the same time on a dummy
hash, so the answer's timing does not tell which names exist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from console import password_rules
from console.permissions import ROLES
from core.db import Base

HASH_METHOD = "scrypt:32768:8:1"
MIN_PASSWORD_LENGTH = 10
FIRST_ADMIN = "admin"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=HASH_METHOD)


class AccountError(ValueError):
    """A change to an account that cannot be made; the message is shown to the user (Chinese)."""


class Account(Base):
    __tablename__ = "console_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped when the password changes or the account is disabled: older sessions end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def now() -> datetime:
    return datetime.now(UTC)


def normalize_username(name: str) -> str:
    return (name or "").strip().lower()


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused (in Chinese, for the form), or None.

    Length first, then the guessability rules of console/password_rules.py (the username,
    common passwords, repeats, sequences, keyboard runs): a long password can still be one
    of the first a guesser tries.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符"
    return password_rules.problem(password, normalize_username(username))


def find(db: Session, username: str) -> Account | None:
    name = normalize_username(username)
    return db.scalar(select(Account).where(Account.username == name)) if name else None


def create(db: Session, username: str, role: str, password: str) -> Account:
    """A new active account; raises AccountError with a reason the form can show."""
    name = normalize_username(username)
    if not _USERNAME.match(name):
        raise AccountError("用户名需 2–32 位，由小写字母、数字和 _ . - 组成")
    if role not in ROLES:
        raise AccountError("未知的角色")
    if problem := password_problem(password, name):
        raise AccountError(problem)
    if find(db, name):
        raise AccountError("该用户名已存在")
    account = Account(
        username=name,
        role=role,
        password_hash=generate_password_hash(password, method=HASH_METHOD),
        active=True,
        session_epoch=0,
        created_at=now(),
    )
    db.add(account)
    db.flush()
    return account


def authenticate(db: Session, username: str, password: str) -> Account | None:
    """The active account these credentials open, or None (same work either way)."""
    account = find(db, username)
    if account is None or not account.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(account.password_hash, password or ""):
        return None
    account.last_login_at = now()
    return account


def set_password(db: Session, account: Account, password: str) -> int:
    """A new password; every existing session and API token of the account ends.

    Whoever changes or resets a password may be shutting out someone who learned the old
    one, and a token made with the old password would let them keep going. Returns how many
    tokens were revoked.
    """
    from console import api_tokens  # api_tokens imports Account from here

    if problem := password_problem(password, account.username):
        raise AccountError(problem)
    account.password_hash = generate_password_hash(password, method=HASH_METHOD)
    account.session_epoch += 1
    return api_tokens.revoke_all(db, account)


def set_role(db: Session, account: Account, role: str) -> None:
    if role not in ROLES:
        raise AccountError("未知的角色")
    if account.role == "admin" and role != "admin":
        _keep_one_admin(db, account)
    account.role = role


def set_active(db: Session, account: Account, active: bool) -> None:
    """Enable or disable; disabling ends the account's sessions and its API tokens stop."""
    if not active and account.role == "admin":
        _keep_one_admin(db, account)
    if account.active and not active:
        account.session_epoch += 1
    account.active = active


def _keep_one_admin(db: Session, account: Account) -> None:
    others = db.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.role == "admin", Account.active.is_(True), Account.id != account.id)
    )
    if not others:
        raise AccountError("至少需要保留一个可用的管理员账号")


def ensure_first_admin(db: Session, password: str | None) -> Account | None:
    """Create the `admin` account from ADMIN_PASSWORD on first start; None if it exists."""
    if not password or find(db, FIRST_ADMIN):
        return None
    return create(db, FIRST_ADMIN, "admin", password)


def all_accounts(db: Session) -> list[Account]:
    return list(db.scalars(select(Account).order_by(Account.username)))
