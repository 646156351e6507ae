"""Shared set-up of the flash-sale tests: a SKU, the default sessions of a fixed day, an item."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from core.clock import shanghai_text
from promotions import flash, flash_manager
from promotions.flash import FlashItem, FlashSession
from shop import catalog, orders
from shop.catalog import Sku

#: 2026-03-02 15:30 in Shanghai: the 15:00 session is on (it ends at 21:00).
DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "street": "文三路100号"}


def make_sku(sessions, *, price: int = 12900, stock: int = 50, name: str = "丝绒哑光口红") -> int:
    with sessions.begin() as db:
        product = catalog.add_product(db, name=name, skus=[("#01 正红", price, stock)])
        return product.skus[0].id


def session_at(sessions, hour: str) -> int:
    """The id of the default session of DAY starting at `hour` (Shanghai)."""
    with sessions.begin() as db:
        days = flash.ensure_day(db, DAY, flash.parse_sessions("09:00,15:00,21:00"))
        return next(s.id for s in days
                    if shanghai_text(s.starts_at, "%H:%M") == hour)


def add_item(sessions, session_id: int, sku_id: int, *, stock: int = 10, limit: int = 1,
             price: int = 5900, reference: int | None = None, now: datetime = NOW) -> int:
    with sessions.begin() as db:
        return flash_manager.add_item(db, session_id, sku_id, price_fen=price, stock=stock,
                                      limit=limit, reference_fen=reference, now=now).id


def item(sessions, item_id: int) -> FlashItem:
    with sessions() as db:
        found = db.get(FlashItem, item_id)
        db.expunge(found)
        return found


def sku_stock(sessions, sku_id: int) -> int:
    with sessions() as db:
        return db.scalar(select(Sku.stock).where(Sku.id == sku_id))


def session(sessions, session_id: int) -> FlashSession:
    with sessions() as db:
        found = db.get(FlashSession, session_id)
        db.expunge(found)
        return found


def paid_order(sessions, openid: str, sku_id: int, paid_at: datetime, *,
               flash_price: tuple[int, int] | None = None) -> int:
    """An order of one unit, paid at `paid_at` (for the honest-price history)."""
    with sessions.begin() as db:
        order = orders.place(db, openid, [(sku_id, 1)], address=ADDRESS,
                             now=paid_at - timedelta(minutes=1),
                             flash_prices={sku_id: flash_price} if flash_price else None)
        orders.transition(db, order, "paid", actor="wxpay", now=paid_at)
        return order.id
