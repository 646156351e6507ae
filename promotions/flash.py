"""每日秒杀: sessions of SKUs at a flash price, with their own stock and a per-customer limit.

Sessions start at FLASH_SESSIONS each day (Asia/Shanghai) and each runs until the next one of
the day starts (the last until midnight); the manager fills a session with items in the
console. An item's session stock is carved out of the SKU's stock when it is added (one
conditional UPDATE, refused when the SKU has less) and what is left unsold goes back to the
SKU once when the session is settled after its end (`settle`, a job, exactly once: the
session's state moves by a conditional UPDATE and each item's `returned` is set once).

A purchase is admitted by the Redis gate (promotions/flash_gate.py), then `buy` places the
order in SQL, which re-checks everything and is the truth:
`UPDATE flash_items SET sold = sold + q WHERE sold + q <= stock AND returned IS NULL` takes the
units, and holds the item's row lock until commit, so the per-customer count read right after
it sees every purchase committed before (SQLite serialises writers; PostgreSQL's READ
COMMITTED gives the statement after the lock a fresh snapshot). A cancelled flash order
(unpaid in time, or cancelled by the customer or the shop) gives its units back to the
session through the shop's order listener — or to the SKU once the session is settled — in
the cancellation's own transaction; Redis learns of it at the next reconciliation.

Domain code: no Flask; the chat (handlers/flash_sale.py), the console (flash_views.py) and the
jobs share these functions.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.clock import SHANGHAI, as_utc
from core.config import DEFAULTS
from core.db import Base, inserted, upsert
from core.money import yuan
from core.registry import Registry
from core.storage import Storage
from promotions import coupons, flash_gate, prices
from shop import addresses, checkout, notices, orders
from shop.catalog import Product, Sku
from shop.orders import Order, OrderError

log = logging.getLogger(__name__)

MAX_SESSIONS_PER_DAY = 12
REMINDER_KIND = "flash_reminder"
#: How far ahead the chat looks for a session with items.
LOOKAHEAD = timedelta(days=14)


class FlashError(ValueError):
    """Why the manager's change is refused (Chinese, shown in the console)."""


class FlashRefused(Exception):
    """Why a purchase is refused: `code` for the chat's wording, `message` for the customer."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code


class FlashSession(Base):
    __tablename__ = "flash_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), unique=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    title: Mapped[str] = mapped_column(String(40), default="每日秒杀")
    #: Whether a coupon may apply to an order bought in this session (no, unless the manager
    #: says so on the session): then `buy` applies the customer's best usable coupon.
    coupons_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: open → settled (unsold units went back to the SKUs). Whether it is on is decided by
    #: the times: ending a session early moves ends_at to that moment.
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    items: Mapped[list[FlashItem]] = relationship(order_by="FlashItem.id",
                                                  back_populates="session")

    def is_on(self, now: datetime) -> bool:
        return as_utc(self.starts_at) <= now < as_utc(self.ends_at)


class FlashItem(Base):
    __tablename__ = "flash_items"
    __table_args__ = (
        UniqueConstraint("session_id", "sku_id", name="uq_flash_item_session_sku"),
        CheckConstraint("sold >= 0 AND sold <= stock", name="ck_flash_item_sold"),
        CheckConstraint("price_fen > 0", name="ck_flash_item_price"),
        CheckConstraint("limit_per_customer >= 1", name="ck_flash_item_limit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("flash_sessions.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("shop_skus.id"), index=True)
    price_fen: Mapped[int] = mapped_column(Integer)
    #: Units carved out of the SKU's stock for this session.
    stock: Mapped[int] = mapped_column(Integer)
    #: Units held by active purchases (paid or waiting for payment).
    sold: Mapped[int] = mapped_column(Integer, default=0)
    limit_per_customer: Mapped[int] = mapped_column(Integer, default=1)
    #: The struck-through 原价 the manager set, checked against the order history.
    reference_price_fen: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Units given back to the SKU: NULL until the session is settled (set exactly once),
    #: then grows by each later cancellation, whose units go to the SKU directly.
    returned: Mapped[int | None] = mapped_column(Integer, default=None)
    session: Mapped[FlashSession] = relationship(back_populates="items")
    sku: Mapped[Sku] = relationship()


class FlashPurchase(Base):
    __tablename__ = "flash_purchases"
    __table_args__ = (Index("ix_flash_purchase_item_openid", "item_id", "openid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("flash_items.id"))
    openid: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    #: The gate's admission token: lets reconciliation tell a committed purchase from one
    #: still in flight (promotions/flash_gate.py).
    token: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | returned
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class FlashReminder(Base):
    __tablename__ = "flash_reminders"
    __table_args__ = (UniqueConstraint("session_id", "openid", name="uq_flash_reminder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("flash_sessions.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    #: waiting → queued (the 即将开始 notice is in the outbox), or missed (the session had
    #: started before the job came round: no 即将开始 for something already on), or cancelled
    #: (the session was called off; the customer was told so instead).
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    #: The channel foreseen when the customer asked: custom, subscribe or "" (none).
    channel: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---- configuration and the day's sessions ---------------------------------------------

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_sessions(text: str) -> tuple[time, ...]:
    """"09:00,15:00,21:00" → the start times, sorted; ValueError on anything else."""
    starts = set()
    for part in filter(None, (p.strip() for p in str(text).replace("，", ",").split(","))):
        match = _TIME.match(part)
        if not match:
            raise ValueError(f"{part!r} is not HH:MM")
        starts.add(time(int(match.group(1)), int(match.group(2))))
    if not starts:
        raise ValueError("no session time")
    if len(starts) > MAX_SESSIONS_PER_DAY:
        raise ValueError(f"at most {MAX_SESSIONS_PER_DAY} sessions a day")
    return tuple(sorted(starts))


def check_config(config: dict[str, Any]) -> list[str]:
    """FLASH_SESSIONS parsed once at start (registered below)."""
    value = config.get("FLASH_SESSIONS", DEFAULTS["FLASH_SESSIONS"])
    if isinstance(value, tuple):
        return []
    try:
        config["FLASH_SESSIONS"] = parse_sessions(str(value or ""))
    except ValueError as error:
        return [f"FLASH_SESSIONS: {error} (e.g. 09:00,15:00,21:00)"]
    return []


def start_times(config: Any) -> tuple[time, ...]:
    value = (config or {}).get("FLASH_SESSIONS") or DEFAULTS["FLASH_SESSIONS"]
    return value if isinstance(value, tuple) else parse_sessions(str(value))


def setting(config: Any, name: str) -> int:
    return int((config or {}).get(name) or DEFAULTS[name])


def ensure_day(db: Session, day: date, starts: tuple[time, ...]) -> list[FlashSession]:
    """The default sessions of a Shanghai day (created once: starts_at is unique); each ends
    when the next starts, the last at midnight."""
    bounds = [datetime.combine(day, start, SHANGHAI) for start in starts]
    bounds.append(datetime.combine(day + timedelta(days=1), time(0), SHANGHAI))
    for start, end in itertools.pairwise(bounds):
        db.execute(upsert(db, FlashSession.__table__)
                   .values(starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC),
                           title="每日秒杀", coupons_allowed=False, state="open")
                   .on_conflict_do_nothing(index_elements=["starts_at"]))
    first = bounds[0].astimezone(UTC)
    return list(db.scalars(select(FlashSession)
                           .where(FlashSession.starts_at >= first,
                                  FlashSession.starts_at < bounds[-1].astimezone(UTC))
                           .order_by(FlashSession.starts_at)))


def shanghai_day(now: datetime) -> date:
    return as_utc(now).astimezone(SHANGHAI).date()


def upcoming(db: Session, now: datetime, *, after: FlashSession | None = None
             ) -> FlashSession | None:
    """The session on now, else the next one, that has items to sell (`after`: the first
    one starting after that session)."""
    query = (select(FlashSession)
             .where(FlashSession.state == "open", FlashSession.ends_at > now,
                    FlashSession.starts_at < now + LOOKAHEAD,
                    FlashSession.items.any())
             .order_by(FlashSession.starts_at).limit(1))
    if after is not None:
        query = query.where(FlashSession.starts_at > after.starts_at)
    return db.scalar(query)


def countdown(delta: timedelta) -> str:
    """「2小时15分」: how long until a session starts, as the chat says it."""
    minutes = max(0, int(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分钟" if minutes else "不到1分钟"


def session_label(session: FlashSession, now: datetime) -> str:
    """「15:00 场」, 「明天 09:00 场」 or 「11月23日 09:00 场」."""
    return label_for(session.starts_at, now)


def label_for(starts_at: datetime, now: datetime) -> str:
    start = as_utc(starts_at).astimezone(SHANGHAI)
    days = (start.date() - shanghai_day(now)).days
    hour = start.strftime("%H:%M")
    if days == 0:
        return f"{hour} 场"
    if days == 1:
        return f"明天 {hour} 场"
    return f"{start.month}月{start.day}日 {hour} 场"


@dataclass(frozen=True)
class Listing:
    """The session 抢 N refers to, as the hot path needs it: cached in Redis for a moment so
    the opening seconds' thousands of attempts cost no SQL until the gate admits them."""

    session_id: int
    starts_at: datetime
    ends_at: datetime
    items: tuple[tuple[int, int, str], ...]  # (item id, limit, name) in the chat's order

    def is_on(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


LISTING_KEY = "flash:listing"
LISTING_TTL_MS = 2000


def listing(sessions: Any, client: Any, now: datetime) -> Listing | None:
    """The session on now or next (see `upcoming`), from the cache or SQL. A cached one that
    has ended (or was cached at a later time: a test's clock) is read again; the gate checks
    the times itself anyway."""
    raw = client.get(LISTING_KEY)
    if raw:
        data = json.loads(raw)
        found = Listing(data["id"], datetime.fromisoformat(data["starts"]),
                        datetime.fromisoformat(data["ends"]),
                        tuple(tuple(item) for item in data["items"]))
        if data["at"] <= now.isoformat() and now < found.ends_at:
            return found
    with sessions() as db:
        session = upcoming(db, now)
        if session is None:
            return None
        found = Listing(session.id, as_utc(session.starts_at), as_utc(session.ends_at),
                        tuple((item.id, item.limit_per_customer,
                               f"{item.sku.product.name}（{item.sku.variant}）")
                              for item in session.items))
    client.set(LISTING_KEY, json.dumps({
        "id": found.session_id, "starts": found.starts_at.isoformat(),
        "ends": found.ends_at.isoformat(), "items": found.items, "at": now.isoformat()},
        ensure_ascii=False), px=LISTING_TTL_MS)
    return found


def forget_listing(client: Any) -> None:
    """The manager changed a session: the chat reads it again."""
    client.delete(LISTING_KEY)


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


CANCELLED_KIND = "flash_cancelled"


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


def is_called_off(session: FlashSession) -> bool:
    """Cancelled before it started: it ends where it starts (see `end_early`)."""
    return as_utc(session.ends_at) <= as_utc(session.starts_at)


def tell_cancelled(db: Session, session: FlashSession, now: datetime) -> int:
    """「本场秒杀已取消」 to everyone who asked for 提醒我 — waiting, and also those already
    sent 即将开始 (they were told to come, so they must be told not to); returns how many.
    Keyed per session and customer, so telling twice queues nothing."""
    label = session_label(session, now)
    text = (f"很抱歉，本场秒杀已取消：{label}不再开抢，开抢提醒也不会再发送。\n"
            "回复「秒杀」看看其他场次。")
    count = 0
    for reminder in db.scalars(select(FlashReminder).where(
            FlashReminder.session_id == session.id,
            FlashReminder.state.in_(("waiting", "queued")))):
        notices.queue(db, reminder.openid, CANCELLED_KIND, text,
                      key=f"flash:{session.id}:{reminder.openid}:cancelled",
                      title="本场秒杀已取消", due_at=now, event_at=as_utc(session.starts_at))
        reminder.state = "cancelled"
        count += 1
    db.flush()
    return count


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


# ---- buying ------------------------------------------------------------------------------


def held_by(db: Session, item_id: int, openid: str) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(FlashPurchase.quantity), 0))
                         .where(FlashPurchase.item_id == item_id,
                                FlashPurchase.openid == openid,
                                FlashPurchase.state == "active")) or 0)


def held_orders(db: Session, item_id: int, openid: str) -> list[Order]:
    """The orders behind the customer's active purchases of an item, oldest first: the chat
    words 限购 by their state (waiting for payment or paid), not by a guess."""
    return list(db.scalars(select(Order).join(FlashPurchase, FlashPurchase.order_id == Order.id)
                           .where(FlashPurchase.item_id == item_id,
                                  FlashPurchase.openid == openid,
                                  FlashPurchase.state == "active")
                           .order_by(Order.id)))


def buy(db: Session, item_id: int, openid: str, quantity: int, token: str, *,
        address: dict[str, Any] | None, now: datetime, payment_minutes: int) -> Order:
    """Place the order of an admitted purchase; raises FlashRefused (roll back, and give the
    admission back) when SQL says no."""
    item = db.get(FlashItem, item_id)
    session = item.session if item else None
    if item is None or session is None or session.state != "open":
        raise FlashRefused("ended")
    if now < as_utc(session.starts_at):
        raise FlashRefused("early")
    if now >= as_utc(session.ends_at):
        raise FlashRefused("ended")
    taken = db.execute(update(FlashItem)
                       .where(FlashItem.id == item_id,
                              FlashItem.sold + quantity <= FlashItem.stock,
                              FlashItem.returned.is_(None))
                       .values(sold=FlashItem.sold + quantity)
                       .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise FlashRefused("soldout")
    # The row lock taken above orders every purchase of this item: this count is current.
    if held_by(db, item_id, openid) + quantity > item.limit_per_customer:
        raise FlashRefused("limit")
    try:
        order = orders.place(db, openid, [(item.sku_id, quantity)], address=address, now=now,
                             payment_minutes=payment_minutes,
                             flash_prices={item.sku_id: (item.id, item.price_fen)})
    except OrderError as error:
        raise FlashRefused("gone", str(error)) from None
    db.add(FlashPurchase(item_id=item_id, openid=openid, quantity=quantity, order_id=order.id,
                         token=token, state="active", created_at=now))
    if session.coupons_allowed:
        _apply_best_coupon(db, order, now)
    db.flush()
    return order


def _apply_best_coupon(db: Session, order: Order, now: datetime) -> None:
    """A session that allows coupons takes the customer's best usable one at once: a flash
    order is placed in one reply, with no read-back to choose at, and a coupon only lowers
    what is paid (coupons.give_back returns it if the order is not paid in time)."""
    usable = coupons.usable(db, order.openid, order.total_fen, now)
    if not usable:
        return
    best, _ = usable[0]
    off = coupons.redeem(db, best.id, order.openid, order.id, order.total_fen, now)
    db.execute(update(Order).where(Order.id == order.id)
               .values(total_fen=order.total_fen - off, coupon_id=best.id, coupon_fen=off)
               .execution_options(synchronize_session=False))
    db.refresh(order)


@dataclass(frozen=True)
class Grabbed:
    """A flash order placed: what the chat tells the customer."""

    order_id: int
    number: str
    total_fen: int
    pay_by: datetime
    address_line: str  # "" when the order has no address yet
    coupon_fen: int = 0  # taken off by a coupon, in a session that allows them


def set_coupons_allowed(db: Session, session_id: int, allowed: bool, now: datetime) -> None:
    """Let coupons apply to this session's orders, or not; only before it ends."""
    session = db.get(FlashSession, session_id)
    if session is None or session.state != "open" or as_utc(session.ends_at) <= now:
        raise FlashError("这一场已经结束，不能再修改")
    session.coupons_allowed = allowed


LAST_ADDRESS: Any = object()


def grab(sessions: Any, client: Any, item_id: int, openid: str, now: datetime, *,
         payment_minutes: int, address: Any = LAST_ADDRESS, quantity: int = 1) -> Grabbed:
    """抢: the gate admits (or says why not), then SQL places the order; a refusal or a
    failure in SQL gives the admission back. Raises FlashRefused.

    `address`: by default the customer's last one (shop.checkout.last_address), looked up
    only once admitted; None places the order without one (the chat asks for it after)."""
    token = flash_gate.new_token()
    answer = _admit(sessions, client, item_id, openid, quantity, token, now)
    if answer != "ok":
        raise FlashRefused(answer)
    try:
        with sessions.begin() as db:
            if address is LAST_ADDRESS:
                last = checkout.last_address(db, openid)
                address = last.as_dict() if last is not None else None
            order = buy(db, item_id, openid, quantity, token, address=address, now=now,
                        payment_minutes=payment_minutes)
            grabbed = Grabbed(order.id, order.number, order.total_fen, as_utc(order.pay_by),
                              addresses.from_dict(address).one_line() if address else "",
                              order.coupon_fen)
    except BaseException:
        flash_gate.release(client, item_id, token)
        raise
    flash_gate.confirm(client, item_id, token)
    return grabbed


def _admit(sessions: Any, client: Any, item_id: int, openid: str, quantity: int, token: str,
           now: datetime) -> str:
    """The gate's answer; an item Redis does not know yet (first use, Redis restarted) is
    loaded from SQL by one caller while the others wait for it."""
    for _ in range(40):
        answer = flash_gate.admit(client, item_id, openid, quantity, token, now)
        if answer != "missing":
            return answer
        if client.set(f"flash:{{{item_id}}}:loading", "1", nx=True, px=2000):
            reconcile_item(sessions, client, item_id, now)
        else:
            clock.sleep(0.05)
    return "missing"


def _give_back(db: Session, order: Order, from_state: str, to_state: str,
               now: datetime) -> None:
    """Shop listener: a cancelled flash order's units go back to their session (or, once
    the session is settled, to the SKU), in the cancellation's transaction."""
    if to_state != "cancelled" or from_state not in ("pending_payment", "paid"):
        return
    for purchase in db.scalars(select(FlashPurchase).where(FlashPurchase.order_id == order.id,
                                                           FlashPurchase.state == "active")):
        moved = db.execute(update(FlashPurchase)
                           .where(FlashPurchase.id == purchase.id,
                                  FlashPurchase.state == "active")
                           .values(state="returned", returned_at=now)
                           .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            continue
        q = purchase.quantity
        to_session = db.execute(update(FlashItem)
                                .where(FlashItem.id == purchase.item_id,
                                       FlashItem.returned.is_(None))
                                .values(sold=FlashItem.sold - q)
                                .execution_options(synchronize_session=False)).rowcount
        if to_session != 1:  # settled: the session is over, the unit goes on regular sale
            item = db.get(FlashItem, purchase.item_id)
            db.execute(update(FlashItem).where(FlashItem.id == item.id)
                       .values(sold=FlashItem.sold - q, returned=FlashItem.returned + q)
                       .execution_options(synchronize_session=False))
            db.execute(update(Sku).where(Sku.id == item.sku_id).values(stock=Sku.stock + q)
                       .execution_options(synchronize_session=False))


# ---- Redis and SQL agree -----------------------------------------------------------------


def snapshot(db: Session, item_id: int) -> flash_gate.Snapshot | None:
    """The item as SQL has it; the purchases are read in one statement, so the tokens and
    the units held come from the same instant."""
    item = db.get(FlashItem, item_id)
    if item is None:
        return None
    tokens, held = set(), {}
    for openid, quantity, token, state in db.execute(
            select(FlashPurchase.openid, FlashPurchase.quantity, FlashPurchase.token,
                   FlashPurchase.state).where(FlashPurchase.item_id == item_id)):
        tokens.add(token)
        if state == "active":
            held[openid] = held.get(openid, 0) + quantity
    session = item.session
    ends = as_utc(session.ends_at) if session.state == "open" else as_utc(session.starts_at)
    return flash_gate.Snapshot(opens=as_utc(session.starts_at), ends=ends,
                               limit=item.limit_per_customer, stock=item.stock,
                               tokens=frozenset(tokens), held=held)


def reconcile_item(sessions: Any, client: Any, item_id: int, now: datetime,
                   tries: int = 5) -> tuple[int, int] | None:
    """Make the gate agree with SQL for one item: (units left, crashed admissions dropped),
    or None when purchases kept confirming during every try (the next run will do)."""
    for _ in range(tries):
        gen = flash_gate.generation(client, item_id)  # before the snapshot: see flash_gate
        with sessions() as db:
            snap = snapshot(db, item_id)
        if snap is None:
            return None
        done = flash_gate.sync(client, item_id, gen, snap, now)
        if done is not None:
            return done
    return None


def live_item_ids(db: Session, now: datetime) -> list[int]:
    """Items the gate must know: of open sessions not ended long ago nor far ahead."""
    return list(db.scalars(
        select(FlashItem.id).join(FlashSession)
        .where(FlashSession.state == "open", FlashSession.ends_at > now - timedelta(hours=1),
               FlashSession.starts_at < now + timedelta(days=2))
        .order_by(FlashItem.id)))


def reconcile_all(storage: Storage, now: datetime | None = None) -> dict[int, tuple[int, int]]:
    """Job: every live item's counters in Redis recomputed from SQL."""
    now = now or datetime.now(UTC)
    with storage.sessions() as db:
        ids = live_item_ids(db, now)
    done = {}
    for item_id in ids:
        result = reconcile_item(storage.sessions, storage.redis, item_id, now)
        if result is None:
            log.info("flash item %s: purchases kept confirming; reconciled next run", item_id)
            continue
        if result[1]:
            log.warning("flash item %s: %d admissions of a dead process given back",
                        item_id, result[1])
        done[item_id] = result
    return done


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


# ---- 提醒我 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderAnswer:
    session: FlashSession
    new: bool  # False: already asked for this session
    channel: str | None  # "custom", "subscribe" or None, as foreseen now
    remind_at: datetime


def ask_reminder(db: Session, session: FlashSession, openid: str, now: datetime, *,
                 minutes: int, template_id: str | None) -> ReminderAnswer:
    """Record 提醒我 and foresee the channel at the reminder time: the customer is writing
    now, so their 48-hour window runs from now (WECHAT_API.md §5A); else an opt-in to the
    subscription notice template; else none, and the customer must be told."""
    remind_at = as_utc(session.starts_at) - timedelta(minutes=minutes)
    if remind_at < now + notices.WINDOW:
        channel: str | None = "custom"
    elif notices.has_opt_in(db, openid, template_id):
        channel = "subscribe"
    else:
        channel = None
    made = inserted(db, upsert(db, FlashReminder.__table__)
                    .values(session_id=session.id, openid=openid, state="waiting",
                            channel=channel or "", created_at=now)
                    .on_conflict_do_nothing(index_elements=["session_id", "openid"]))
    return ReminderAnswer(session, made, channel, remind_at)


def reminder_text(session: FlashSession, items: list[FlashItem], now: datetime) -> str:
    names = "、".join(item.sku.product.name for item in items[:3])
    more = "等" if len(items) > 3 else ""
    return (f"⏰ {session_label(session, now)}秒杀即将开始：{names}{more}限量秒杀。\n"
            "回复「秒杀」查看，开始后回复「抢 序号」抢购。")


def queue_due_reminders(db: Session, now: datetime, minutes: int) -> int:
    """Reminders of sessions starting within `minutes` go to the shop's notice outbox, keyed
    per session and customer so a second run (or a second scheduler) queues nothing. The
    notice carries the session's start as its event time (the subscription notice shows it).

    Only sessions still ahead: a 「即将开始」 for a session already on (the job was down, or
    the session started between two runs) would be false, so those reminders are marked
    missed and never queued; the customer finds the session on when they next write."""
    started = select(FlashSession.id).where(FlashSession.starts_at <= now)
    db.execute(update(FlashReminder)
               .where(FlashReminder.state == "waiting", FlashReminder.session_id.in_(started))
               .values(state="missed").execution_options(synchronize_session=False))
    sessions = list(db.scalars(select(FlashSession).where(
        FlashSession.state == "open", FlashSession.starts_at > now,
        FlashSession.starts_at <= now + timedelta(minutes=minutes))))
    count = 0
    for session in sessions:
        text = reminder_text(session, list(session.items), now)
        for reminder in db.scalars(select(FlashReminder).where(
                FlashReminder.session_id == session.id, FlashReminder.state == "waiting")):
            notices.queue(db, reminder.openid, REMINDER_KIND, text,
                          key=f"flash:{session.id}:{reminder.openid}", title="每日秒杀即将开始",
                          due_at=now, event_at=as_utc(session.starts_at))
            reminder.state = "queued"
            count += 1
    return count


def queue_reminders(storage: Storage, now: datetime | None = None) -> int:
    """Job: due 提醒我 queued for shop/notices' sender."""
    now = now or datetime.now(UTC)
    with storage.sessions.begin() as db:
        return queue_due_reminders(db, now, setting(storage.settings, "FLASH_REMINDER_MINUTES"))


# ---- wiring ------------------------------------------------------------------------------


def register(registry: Registry) -> None:
    """Tables, the order listener, the jobs and the console pages."""
    registry.add_models("promotions.flash")
    registry.add_config_check(check_config)
    orders.on_change(_give_back)
    registry.add_job("promotions", "flash_reconcile", 30, reconcile_all)
    registry.add_job("promotions", "flash_settle", 30, settle_ended)
    registry.add_job("promotions", "flash_reminders", 30, queue_reminders)
    registry.add_web(_init_web)


def _init_web(app: Any) -> None:
    from console.shell import add_nav
    from promotions import flash_views

    app.register_blueprint(flash_views.bp)
    add_nav(app, "秒杀", "flash_admin.list_sessions", "promotions")


def seed_demo_flash(db: Session, now: datetime) -> FlashSession | None:
    """The demo: the session on now (to try 抢 at once) and the next one (to try 提醒我) get
    two on-shelf SKUs at 60% of their price; returns the next one."""
    starts = parse_sessions(DEFAULTS["FLASH_SESSIONS"])
    for day in (shanghai_day(now), shanghai_day(now) + timedelta(days=1)):
        ensure_day(db, day, starts)
    sessions = db.scalars(select(FlashSession).where(FlashSession.state == "open",
                                                     FlashSession.ends_at > now)
                          .order_by(FlashSession.starts_at).limit(2)).all()
    skus = db.scalars(select(Sku).join(Product).where(Product.on_shelf, Sku.stock >= 20)
                      .order_by(Sku.id).limit(2)).all()
    for session in sessions:
        for sku in skus:
            try:
                add_item(db, session.id, sku.id, price_fen=max(1, sku.price_fen * 6 // 10),
                         stock=10, limit=1, reference_fen=None, now=now)
            except FlashError as error:
                log.info("demo flash item for sku %s skipped: %s", sku.id, error)
    return sessions[-1] if sessions else None
