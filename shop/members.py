"""Members: the per-customer facts that tiers, segments and re-engagement read.

One row per customer who ever ordered. It is kept by shop/orders.py in the same transaction
as the order change that causes it, with relative UPDATEs (`spend_fen = spend_fen + n`), so two
payments of one customer landing at once both count, and a refund takes back exactly what its
payment gave.

The row also stores the member tier (shop/tiers.py owns its rules): stored, not computed on each
read, because a downgrade must wait for the start of a month.

Points are not here: their ledger is promotions/points.py, a domain built on the shop. The
shop's pages and customer service read a customer's points through `points_summary`, which
that domain plugs in (`read_points_with`), so the shop does not import what is built on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import shanghai_text
from core.db import Base, upsert


class Customer(Base):
    __tablename__ = "shop_customers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_order_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_order_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    paid_orders: Mapped[int] = mapped_column(Integer, default=0)  # net of refunds
    spend_fen: Mapped[int] = mapped_column(Integer, default=0, index=True)  # net of refunds
    #: 0 = 普通会员, 1..3 = the configured tiers (shop/tiers.py): a level, not a name, so
    #: renaming a tier in MEMBER_TIERS renames it for everyone.
    tier_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)
    tier_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    #: The lower level earned now, applied at the start of next month (None: no downgrade).
    tier_pending_level: Mapped[int | None] = mapped_column(Integer, default=None)
    #: The Shanghai month ("2026-12") the monthly review last looked at this customer; None
    #: for a customer from before tiers were stored, whom the review places without notice.
    tier_checked_month: Mapped[str | None] = mapped_column(String(7), default=None)


def on_order_placed(db: Session, openid: str, now: datetime) -> None:
    """First/last order times; the row is made here, so payments only ever UPDATE it."""
    db.execute(
        upsert(db, Customer.__table__)
        .values(openid=openid, first_order_at=now, last_order_at=now, paid_orders=0,
                spend_fen=0, tier_level=0,
                # A new customer's tier follows their payments; the monthly review starts
                # with next month (a row without a month is one from before tiers were stored).
                tier_checked_month=shanghai_text(now, "%Y-%m"))
        .on_conflict_do_update(index_elements=["openid"], set_={"last_order_at": now})
    )


def on_paid(db: Session, openid: str, total_fen: int, now: datetime) -> None:
    """An order was paid: count it and its spend (its points: promotions/points.py)."""
    _change(db, openid, 1, total_fen, now)


def on_refunded(db: Session, openid: str, total_fen: int) -> None:
    """A paid order's money went back: take back what its payment gave (never below zero)."""
    _change(db, openid, -1, -total_fen, None)


def _change(db: Session, openid: str, orders: int, fen: int, paid_at: datetime | None) -> None:
    # SQLite's two-argument max() is PostgreSQL's greatest().
    floor = func.max if db.get_bind().dialect.name == "sqlite" else func.greatest
    values = {
        "paid_orders": floor(Customer.paid_orders + orders, 0),
        "spend_fen": floor(Customer.spend_fen + fen, 0),
    }
    if paid_at is not None:
        values["last_paid_at"] = paid_at
    db.execute(
        update(Customer).where(Customer.openid == openid).values(**values)
        .execution_options(synchronize_session=False)
    )


def get(db: Session, openid: str) -> Customer | None:
    return db.get(Customer, openid)


def listing(db: Session, *, level: int | None = None, search: str = "",
            limit: int = 200) -> list[Customer]:
    """Customers by spend, highest first, optionally of one tier level or whose openid
    contains `search`."""
    query = select(Customer)
    if search:
        query = query.where(Customer.openid.contains(search, autoescape=True))
    if level is not None:
        query = query.where(Customer.tier_level == level)
    return list(db.scalars(query.order_by(Customer.spend_fen.desc(), Customer.openid)
                           .limit(limit)))


# --- points, as the domain that keeps them reports them ----------------------------------


@dataclass(frozen=True)
class PointsLine:
    """One entry of a customer's points history, in the words the console shows."""

    at: datetime
    what: str  # 获得 / 抵现 / 退回 / 扣回 / 过期
    points: int  # signed
    order_number: str = ""


#: Why a balance is negative (a refund took back points already spent), in the words the chat
#: and the console show next to it.
POINTS_DEBT_NOTE = "退款扣回已用积分，之后获得的积分先抵扣"


@dataclass(frozen=True)
class PointsSummary:
    balance: int = 0  # negative while a refund's take-back is still owed
    expiring: int = 0  # of the balance, how many expire at the end of this year
    expires_on: str = ""  # that day, Shanghai YYYY-MM-DD
    recent: tuple[PointsLine, ...] = field(default_factory=tuple)


SummaryReader = Callable[[Session, str, datetime, int], PointsSummary]
BalancesReader = Callable[[Session, list[str], datetime], dict[str, int]]
_readers: dict[str, Callable] = {}


def read_points_with(summary: SummaryReader, balances: BalancesReader) -> None:
    """The points domain plugs in how a customer's points are read (promotions.points)."""
    _readers["summary"], _readers["balances"] = summary, balances


def points_summary(db: Session, openid: str, now: datetime, limit: int = 10) -> PointsSummary:
    """Balance, what expires soon and the latest entries; empty without the points domain."""
    reader = _readers.get("summary")
    return reader(db, openid, now, limit) if reader else PointsSummary()


def points_balances(db: Session, openids: list[str], now: datetime) -> dict[str, int]:
    reader = _readers.get("balances")
    return reader(db, openids, now) if reader else dict.fromkeys(openids, 0)
