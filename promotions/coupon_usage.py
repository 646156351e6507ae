"""Where the copies went, read back: usage and cost per batch for the console (issued, used,
expired, and what paid orders' coupons took off), a batch's latest copies, and a customer's
own for 我的优惠券. It only reads; the states it counts are written by coupons.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.clock import as_utc
from promotions.coupon_text import state_at
from promotions.coupons import Coupon

#: Order states whose discount is a cost the shop bears: the money was taken and kept.
COUNTED_ORDERS = ("paid", "shipped", "completed")
RECENT = timedelta(days=30)


@dataclass(frozen=True)
class Usage:
    """A batch's figures for the console."""

    issued: int = 0
    used: int = 0  # copies marked used now (an unpaid order's included)
    expired: int = 0
    orders: int = 0  # paid orders that used them and were not cancelled or refunded
    discount_fen: int = 0  # what those orders' coupons took off: the cost
    gmv_fen: int = 0  # what those orders' customers paid

    @property
    def rate(self) -> float:
        """Redemption rate: the share of issued copies used."""
        return self.used / self.issued if self.issued else 0.0


def usage(db: Session, now: datetime, batch_ids: Iterable[int] | None = None) -> dict[int, Usage]:
    """Usage and cost per batch (every batch with copies, or only `batch_ids`)."""
    from shop.orders import Order

    now = as_utc(now)
    counts = (select(Coupon.batch_id, func.count(),
                     func.sum(case((Coupon.state == "used", 1), else_=0)),
                     func.sum(case((and_(Coupon.state == "available",
                                         Coupon.valid_until <= now), 1), else_=0)))
              .group_by(Coupon.batch_id))
    money = (select(Coupon.batch_id, func.count(Order.id), func.sum(Order.coupon_fen),
                    func.sum(Order.total_fen))
             .join(Order, Order.coupon_id == Coupon.id)
             .where(Order.state.in_(COUNTED_ORDERS)).group_by(Coupon.batch_id))
    if batch_ids is not None:
        wanted = list(batch_ids)
        counts = counts.where(Coupon.batch_id.in_(wanted))
        money = money.where(Coupon.batch_id.in_(wanted))
    figures = {batch_id: {"issued": issued, "used": used or 0, "expired": expired or 0}
               for batch_id, issued, used, expired in db.execute(counts)}
    for batch_id, orders, discount, gmv in db.execute(money):
        figures.setdefault(batch_id, {}).update(orders=orders, discount_fen=discount or 0,
                                                gmv_fen=gmv or 0)
    return {batch_id: Usage(**values) for batch_id, values in figures.items()}


def recent_copies(db: Session, batch_id: int, limit: int = 50) -> list[Coupon]:
    """A batch's latest copies, newest first (the console's batch page)."""
    return list(db.scalars(select(Coupon).where(Coupon.batch_id == batch_id)
                           .order_by(Coupon.id.desc()).limit(limit)))


def for_customer(db: Session, openid: str, now: datetime,
                 limit: int = 10) -> list[tuple[Coupon, str]]:
    """我的优惠券: the usable ones (soonest to expire first), then those used or expired in
    the last 30 days (latest first), each with its state as the customer sees it."""
    now = as_utc(now)
    usable_now = list(db.scalars(
        select(Coupon).where(Coupon.openid == openid, Coupon.state == "available",
                             Coupon.valid_until > now)
        .order_by(Coupon.valid_until, Coupon.id)))
    ended_at = case((Coupon.state == "used", Coupon.used_at), else_=Coupon.valid_until)
    past = db.scalars(
        select(Coupon).where(Coupon.openid == openid, ended_at > now - RECENT,
                             or_(Coupon.state == "used",
                                 and_(Coupon.state == "available", Coupon.valid_until <= now)))
        .order_by(ended_at.desc(), Coupon.id.desc()).limit(limit))
    return [(coupon, state_at(coupon, now)) for coupon in [*usable_now, *past]]
