"""Honest reference prices: a struck-through 原价 must be a price the SKU really sold at.

明码标价和禁止价格欺诈规定 (2022) art. 19 and E-commerce Law art. 19: a compared price without
its own explanation may not be above the lowest price the goods were *sold at* in the seven
days before, and it must be a price the SKU really sold at. So the reference must be exactly
the lowest unit price actually paid for the SKU in orders paid in the previous 7 days (paid,
shipped or completed; cancelled and refunded sales never happened), read from the order
lines: anything lower, even if above the sale price, is a price nobody paid. Flash-sale
lines count too: a flash price is a price the SKU really sold at, and leaving it out would
let a shop that runs a flash sale every day keep showing a 原价 nobody pays. Coupons and
points are left out: they are ways of paying for the order as a whole (order-level), not
the price of the SKU.

The seven days are those before the promotion starts (the session's start), not before
whoever looks: the flash sale's own sales must not move its reference. Checked twice: when
the manager sets the price (refused with the reason) and whenever the chat shows it (hidden
once the history before the start no longer supports it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.money import yuan
from shop.orders import COUNTED_SOLD, Order, OrderLine

DAYS = 7


def anchor(starts_at: datetime, now: datetime) -> datetime:
    """The moment the 7 days run up to: the promotion's start, or now while it is ahead
    (its last days before the start have not happened yet)."""
    return min(as_utc(starts_at), as_utc(now))


def reference_price(db: Session, sku_id: int, now: datetime, days: int = DAYS) -> int | None:
    """The lowest unit price (fen) paid for `sku_id` in orders paid in the `days` before `now`,
    or None when it did not sell at all then."""
    return db.scalar(
        select(func.min(OrderLine.unit_price_fen))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.sku_id == sku_id, Order.state.in_(COUNTED_SOLD),
               Order.paid_at >= now - timedelta(days=days), Order.paid_at < now)
    )


def reference_problem(db: Session, sku_id: int, wanted_fen: int, now: datetime, *,
                      sale_fen: int | None = None, days: int = DAYS) -> str | None:
    """Why `wanted_fen` may not be shown struck through next to `sale_fen` (in Chinese, for
    the console), or None when the order history supports it.

    The reference must *equal* the lowest unit price paid in the previous `days`, not merely
    lie between the sale price and it: any other figure (say ¥89 when the SKU sold at ¥99 and
    ¥129) is a price nobody paid, which is exactly what the rule forbids. And that lowest
    price must be above the sale price, or striking it through would show no saving at all.
    """
    lowest = reference_price(db, sku_id, now, days)
    if lowest is None:
        return f"近{days}天没有成交记录，不能标划线价"
    if wanted_fen != lowest:
        return f"划线价须为近{days}天最低成交价{yuan(lowest)}"
    if sale_fen is not None and lowest <= sale_fen:
        return f"近{days}天最低成交价{yuan(lowest)}不高于秒杀价{yuan(sale_fen)}，不能标划线价"
    return None


def shown_reference(db: Session, sku_id: int, wanted_fen: int | None, sale_fen: int,
                    now: datetime) -> int | None:
    """The 原价 the chat may show now: the one set, if the history still supports it (still
    the lowest price paid in the 7 days before `now`; a lower or a higher sale since, or the
    window sliding past the sale it was taken from, hides it rather than show a stale one)."""
    if not wanted_fen:
        return None
    if reference_problem(db, sku_id, wanted_fen, now, sale_fen=sale_fen):
        return None
    return wanted_fen
