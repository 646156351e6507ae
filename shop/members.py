"""Members: points, tiers and the per-customer facts that segments and re-engagement read.

One row per customer who ever ordered. It is kept by shop/orders.py in the same transaction
as the order change that causes it, with relative UPDATEs (`points = points + n`), so two
payments of one customer landing at once both count, and a refund takes back exactly what
its payment gave.

Points: one per whole yuan paid. The tier is not stored: it is read from the spend against
thresholds that come from configuration (MEMBER_TIERS), so changing a threshold re-tiers every
customer at once and a refund drops a customer back below it by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, upsert
from core.money import MAX_FEN, parse_yuan, yuan

BASE_TIER = "青铜"
#: (tier, cumulative spend in fen from which it applies), lowest first after the base tier.
DEFAULT_TIERS: tuple[tuple[str, int], ...] = (("白银", 50_000), ("黄金", 200_000))


class Customer(Base):
    __tablename__ = "shop_customers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_order_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_order_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    paid_orders: Mapped[int] = mapped_column(Integer, default=0)  # net of refunds
    spend_fen: Mapped[int] = mapped_column(Integer, default=0, index=True)  # net of refunds
    points: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Standing:
    """Where a customer stands: shown in the chat (我的会员) and the console."""

    tier: str
    points: int
    spend_fen: int
    next_tier: str | None
    to_next_fen: int  # spend still needed for the next tier (0 at the top)

    def text(self) -> str:
        line = f"会员等级：{self.tier}\n积分：{self.points}\n累计消费：{yuan(self.spend_fen)}"
        if self.next_tier:
            line += f"\n再消费 {yuan(self.to_next_fen)} 升级为{self.next_tier}会员"
        return line


def parse_tiers(text: str) -> tuple[tuple[str, int], ...]:
    """MEMBER_TIERS such as "白银:500,黄金:2000" (yuan of cumulative spend) → tiers in fen.

    Raises ValueError with a one-line reason (for check_config).
    """
    tiers = []
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        name, sep, amount = part.partition(":")
        name = name.strip()
        if not sep or not 1 <= len(name) <= 8 or name == BASE_TIER:
            raise ValueError(f"{part!r} is not NAME:YUAN")
        tiers.append((name, parse_yuan(amount)))
    amounts = [fen for _, fen in tiers]
    if not tiers or amounts != sorted(set(amounts)) or amounts[0] <= 0:
        raise ValueError("thresholds must be positive and rising")
    if amounts[-1] > MAX_FEN:
        raise ValueError("threshold too large")
    return tuple(tiers)


def check_config(config: dict[str, Any]) -> list[str]:
    """MEMBER_TIERS parsed once at start (registered by shop.register)."""
    try:
        tiers = config.get("MEMBER_TIERS")
        if not isinstance(tiers, tuple):  # a tuple was parsed by an earlier validate()
            config["MEMBER_TIERS"] = parse_tiers(str(tiers or ""))
    except ValueError as error:
        return [f"MEMBER_TIERS: {error} (e.g. 白银:500,黄金:2000)"]
    return []


def tiers_from(value: object) -> tuple[tuple[str, int], ...]:
    """The configured MEMBER_TIERS (already parsed by check_config, or text), or defaults."""
    if isinstance(value, tuple | list) and value:
        return tuple((str(name), int(fen)) for name, fen in value)
    if isinstance(value, str) and value.strip():
        return parse_tiers(value)
    return DEFAULT_TIERS


def standing(customer: Customer | None, tiers=DEFAULT_TIERS) -> Standing:
    spend = customer.spend_fen if customer else 0
    points = customer.points if customer else 0
    tier = BASE_TIER
    for name, threshold in tiers:
        if spend >= threshold:
            tier = name
    upcoming = [(name, threshold) for name, threshold in tiers if spend < threshold]
    if upcoming:
        return Standing(tier, points, spend, upcoming[0][0], upcoming[0][1] - spend)
    return Standing(tier, points, spend, None, 0)


def tier_of(spend_fen: int, tiers=DEFAULT_TIERS) -> str:
    return standing(Customer(spend_fen=spend_fen, points=0), tiers).tier


def points_for(total_fen: int) -> int:
    """One point per whole yuan of an order's total."""
    return max(total_fen, 0) // 100


def on_order_placed(db: Session, openid: str, now: datetime) -> None:
    """First/last order times; the row is made here, so payments only ever UPDATE it."""
    db.execute(
        upsert(db, Customer.__table__)
        .values(openid=openid, first_order_at=now, last_order_at=now, paid_orders=0,
                spend_fen=0, points=0)
        .on_conflict_do_update(index_elements=["openid"], set_={"last_order_at": now})
    )


def on_paid(db: Session, openid: str, total_fen: int, now: datetime) -> None:
    """An order was paid: count it, its spend and its points."""
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
        "points": floor(Customer.points + (1 if fen > 0 else -1) * points_for(abs(fen)), 0),
    }
    if paid_at is not None:
        values["last_paid_at"] = paid_at
    db.execute(
        update(Customer).where(Customer.openid == openid).values(**values)
        .execution_options(synchronize_session=False)
    )


def get(db: Session, openid: str) -> Customer | None:
    return db.get(Customer, openid)


def listing(db: Session, *, tier: str = "", search: str = "", limit: int = 200,
            tiers=DEFAULT_TIERS) -> list[tuple[Customer, str]]:
    """Customers by spend, highest first, optionally of one tier or whose openid contains
    `search`; each with its tier."""
    query = select(Customer)
    if search:
        query = query.where(Customer.openid.contains(search, autoescape=True))
    bounds = [(BASE_TIER, 0), *tiers]
    for index, (name, low) in enumerate(bounds):
        if tier == name:
            query = query.where(Customer.spend_fen >= low)
            if index + 1 < len(bounds):
                query = query.where(Customer.spend_fen < bounds[index + 1][1])
    rows = db.scalars(query.order_by(Customer.spend_fen.desc(), Customer.openid).limit(limit))
    return [(row, tier_of(row.spend_fen, tiers)) for row in rows]
