"""The manager's changes to a flash-sale session, and settling sessions that have ended.

Its own module because these are the only writes that move units between a SKU and a
session outside a purchase: the console (flash_views.py) calls them, and the settle job.

An item's session stock is carved out of the SKU's stock when it is added (one conditional
UPDATE, refused when the SKU has less) and what is left unsold goes back to the SKU once when
the session is settled after its end (`settle`, a job, exactly once: the session's state moves
by a conditional UPDATE and each item's `returned` is set once). Calling a session off before
its start also withdraws its 提醒我 (flash_reminders.py).

Domain code: no Flask.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.money import yuan
from core.storage import Storage
from promotions import prices
from promotions.flash import (
    FlashError,
    FlashItem,
    FlashSession,
    ensure_day,
    shanghai_day,
    start_times,
)
from promotions.flash_reminders import tell_cancelled
from shop.catalog import Sku

log = logging.getLogger(__name__)


# ---- the manager's changes ----------------------------------------------------------------


def add_item(db: Session, session_id: int, sku_id: int, *, price_fen: int, stock: int,
             limit: int, reference_fen: int | None, now: datetime) -> FlashItem:
    """Put `stock` units of a SKU on sale in a session; raises FlashError with the reason."""
    session = db.get(FlashSession, session_id)
    sku = db.get(Sku, sku_id)
    if session is None or session.state != "open" or as_utc(session.ends_at) <= now:
        raise FlashError("这一场已经结束，不能再添加商品")
    if sku is None:
        raise FlashError("没有这个规格")
    if not 0 < price_fen < sku.price_fen:
        raise FlashError(f"秒杀价需低于售价{yuan(sku.price_fen)}")
    if stock < 1:
        raise FlashError("秒杀库存至少1件")
    if not 1 <= limit <= stock:
        raise FlashError("每人限购需在1到秒杀库存之间")
    if db.scalar(select(FlashItem.id).where(FlashItem.session_id == session_id,
                                            FlashItem.sku_id == sku_id)):
        raise FlashError("这个规格已在本场秒杀中")
    if reference_fen is not None and (
            why := prices.reference_problem(db, sku_id, reference_fen,
                                            prices.anchor(session.starts_at, now),
                                            sale_fen=price_fen)):
        raise FlashError(why)
    taken = db.execute(update(Sku).where(Sku.id == sku_id, Sku.stock >= stock)
                       .values(stock=Sku.stock - stock)
                       .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        db.refresh(sku)
        raise FlashError(f"库存不足：该规格现有库存{sku.stock}件，不能拿出{stock}件做秒杀")
    item = FlashItem(session_id=session_id, sku_id=sku_id, price_fen=price_fen, stock=stock,
                     sold=0, limit_per_customer=limit, reference_price_fen=reference_fen)
    db.add(item)
    db.flush()
    return item


def end_early(db: Session, session_id: int, now: datetime) -> FlashSession:
    """End a session now (提前结束), or call off one not started (取消本场), and settle it at
    once.

    A session called off before its start ends at its start (ends_at = starts_at), not at
    `now`: an end before the start would be a nonsense interval for everything that reads
    the times (the console, the gate's meta, reports). Its customers waiting for 提醒我 are
    told it is cancelled instead, and their reminders are marked so no job queues them."""
    session = db.get(FlashSession, session_id)
    if session is None or session.state != "open" or as_utc(session.ends_at) <= now:
        raise FlashError("这一场已经结束")
    starts = as_utc(session.starts_at)
    called_off = now < starts
    db.execute(update(FlashSession).where(FlashSession.id == session_id)
               .values(ends_at=starts if called_off else now)
               .execution_options(synchronize_session=False))
    db.refresh(session)
    settle(db, session, now)
    if called_off:
        tell_cancelled(db, session, now)
    return session


def set_coupons_allowed(db: Session, session_id: int, allowed: bool, now: datetime) -> None:
    """Let coupons apply to this session's orders, or not; only before it ends."""
    session = db.get(FlashSession, session_id)
    if session is None or session.state != "open" or as_utc(session.ends_at) <= now:
        raise FlashError("这一场已经结束，不能再修改")
    session.coupons_allowed = allowed


# ---- settling ----------------------------------------------------------------------------


def settle(db: Session, session: FlashSession, now: datetime) -> int:
    """Give the unsold units of an ended session back to their SKUs, exactly once; returns
    the units given back (0 when another run settled it first). A session called off before
    its start (ends_at = starts_at, still ahead of `now`) counts as ended."""
    claimed = db.execute(update(FlashSession)
                         .where(FlashSession.id == session.id, FlashSession.state == "open",
                                or_(FlashSession.ends_at <= now,
                                    FlashSession.ends_at <= FlashSession.starts_at))
                         .values(state="settled", settled_at=now)
                         .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return 0
    total = 0
    for item_id, sku_id in db.execute(select(FlashItem.id, FlashItem.sku_id)
                                      .where(FlashItem.session_id == session.id)
                                      .order_by(FlashItem.sku_id)).all():
        db.execute(update(FlashItem).where(FlashItem.id == item_id, FlashItem.returned.is_(None))
                   .values(returned=FlashItem.stock - FlashItem.sold)
                   .execution_options(synchronize_session=False))
        back = db.scalar(select(FlashItem.returned).where(FlashItem.id == item_id)) or 0
        if back:
            db.execute(update(Sku).where(Sku.id == sku_id).values(stock=Sku.stock + back)
                       .execution_options(synchronize_session=False))
        total += back
    db.refresh(session)
    return total


def settle_ended(storage: Storage, now: datetime | None = None) -> int:
    """Job: sessions that ended give their unsold units back to the SKUs (once); also
    creates today's and tomorrow's default sessions, so the console can fill them."""
    now = now or datetime.now(UTC)
    starts = start_times(storage.settings)
    with storage.sessions.begin() as db:
        for day in (shanghai_day(now), shanghai_day(now) + timedelta(days=1)):
            ensure_day(db, day, starts)
        due = list(db.scalars(select(FlashSession).where(FlashSession.state == "open",
                                                         FlashSession.ends_at <= now)))
        total = sum(settle(db, session, now) for session in due)
    if total:
        log.info("flash sessions settled: %d unsold units back to regular stock", total)
    return total
