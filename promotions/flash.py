"""每日秒杀: sessions of SKUs at a flash price, with their own stock and a per-customer limit.

This module owns what a session *is*: the tables, the errors and the day's session times.
What is done with a session lives beside it: flash_manager.py (the manager's changes and
settling), flash_buying.py (抢, the hot path, and the Redis gate kept in line with SQL) and
flash_reminders.py (提醒我). Each imports this module, never the other way round: register()
reaches them inside the function.

Sessions start at FLASH_SESSIONS each day (Asia/Shanghai) and each runs until the next one of
the day starts (the last until midnight); ending a session early moves its ends_at.

Domain code: no Flask; the chat (handlers/flash_sale.py), the console (flash_views.py) and the
jobs share these functions.
"""

from __future__ import annotations

import itertools
import logging
import re
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
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.clock import SHANGHAI, as_utc
from core.config import DEFAULTS
from core.db import Base, upsert
from core.registry import Registry
from shop import orders
from shop.catalog import Sku

log = logging.getLogger(__name__)

MAX_SESSIONS_PER_DAY = 12
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


def is_called_off(session: FlashSession) -> bool:
    """Cancelled before it started: it ends where it starts (see flash_manager.end_early)."""
    return as_utc(session.ends_at) <= as_utc(session.starts_at)


# ---- wiring ------------------------------------------------------------------------------


def register(registry: Registry) -> None:
    """Tables, the order listener, the jobs and the console pages."""
    # Imported here: each of these imports this module for its tables and session times.
    from promotions import flash_buying, flash_manager, flash_reminders

    registry.add_models("promotions.flash")
    registry.add_config_check(check_config)
    orders.on_change(flash_buying.give_back)
    registry.add_job("promotions", "flash_reconcile", 30, flash_buying.reconcile_all)
    registry.add_job("promotions", "flash_settle", 30, flash_manager.settle_ended)
    registry.add_job("promotions", "flash_reminders", 30, flash_reminders.queue_reminders)
    registry.add_web(_init_web)


def _init_web(app: Any) -> None:
    from console.shell import add_nav
    from promotions import flash_views

    app.register_blueprint(flash_views.bp)
    add_nav(app, "秒杀", "flash_admin.list_sessions", "promotions")


