"""Honest reference prices: a struck-through 原价 must be a price the SKU really sold at.

明码标价和禁止价格欺诈规定 (2022) art. 19 and E-commerce Law art. 19: a compared price without
its own explanation may not be above the lowest price the goods were *sold at* in the seven
days before. So the reference is the lowest unit price actually paid for the SKU in orders
paid in the previous 7 days (paid, shipped or completed; cancelled and refunded sales never
happened), read from the order lines. Flash-sale lines count too: a flash price is a price
the SKU really sold at, and leaving it out would let a shop that runs a flash sale every day
keep showing a 原价 nobody pays. Coupons and points are left out: they are ways of paying for
the order as a whole (order-level), not the price of the SKU.

Checked twice: when the manager sets the price (refused with the reason) and whenever the
chat shows it (hidden once the history no longer supports it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.money import yuan
from shop.orders import COUNTED_SOLD, Order, OrderLine

DAYS = 7


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
    the console), or None when the order history supports it."""
    if sale_fen is not None and wanted_fen <= sale_fen:
        return f"划线价需高于秒杀价{yuan(sale_fen)}"
    lowest = reference_price(db, sku_id, now, days)
    if lowest is None:
        return f"近{days}天没有成交记录，不能标划线价"
    if wanted_fen > lowest:
        return f"近{days}天最低成交价为{yuan(lowest)}，划线价不能高于它"
    return None


def shown_reference(db: Session, sku_id: int, wanted_fen: int | None, sale_fen: int,
                    now: datetime) -> int | None:
    """The 原价 the chat may show now: the one set, if the history still supports it."""
    if not wanted_fen:
        return None
    if reference_problem(db, sku_id, wanted_fen, now, sale_fen=sale_fen):
        return None
    return wanted_fen
