"""Coupons: batches the merchant defines, copies customers hold, each redeemed by one order.

Every limit is decided by the database, so it holds however many workers race:
- the total limit: one conditional UPDATE of the batch's counter
  (`issued = issued + 1 WHERE issued < total_limit AND state = 'active'`);
- the per-customer limit: each copy a customer holds has a number, unique per (batch, openid,
  copy), so two simultaneous claims of the last allowed copy cannot both insert it;
- redemption: one conditional UPDATE (`WHERE state = 'available' AND openid = ? AND` the
  window is open), so a coupon taps for one order only, whoever else reaches for it;
- the give-back of a cancelled or refunded order: one conditional UPDATE on the coupon still
  marked used by that order, so it comes back once.

Expiry needs no job: a coupon is read against its valid_until, and 我的优惠券 shows one past it
as 已过期. Pausing or ending a batch stops issuing only: coupons customers already hold stay
usable until their own expiry (taking back a gift is a broken promise).

No savepoints here: pysqlite turns a released savepoint into a commit, so what must be undone
inside the caller's transaction (a counter taken for a copy that could not be inserted) is
undone by hand.

Around it, each owning one thing: coupon_batches (defining and managing batches),
coupon_issuing (the occasions that issue), coupon_text (how coupons read) and coupon_usage
(usage and cost, 我的优惠券). They import this module; it imports them only inside functions
(registration, the demo), so the models load without them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
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
from sqlalchemy.orm.util import identity_key

from core.clock import SHANGHAI, as_utc
from core.db import Base, inserted, upsert
from core.registry import Registry


class CouponError(ValueError):
    """Why a coupon cannot be issued, claimed or used; the message is for the customer."""


class LimitReached(CouponError):
    """This customer already holds as many copies of the batch as it allows."""


class CouponBatch(Base):
    """What the merchant defines: the terms, the validity, the limits, how it is handed out.

    The terms never change once customers hold copies (the console edits only the state),
    so a discount computed at the read-back is the one the order gets.
    """

    __tablename__ = "promo_coupon_batches"
    __table_args__ = (
        CheckConstraint("total_limit IS NULL OR issued <= total_limit",
                        name="ck_promo_coupon_batches_issued"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # coupon_batches.KINDS
    #: Goods total from which it applies (满减, optionally 折扣); 0 for 无门槛.
    threshold_fen: Mapped[int] = mapped_column(Integer, default=0)
    off_fen: Mapped[int] = mapped_column(Integer, default=0)  # 满减 and 无门槛
    percent: Mapped[int] = mapped_column(Integer, default=0)  # 折扣: 88 = 8.8折
    cap_fen: Mapped[int] = mapped_column(Integer, default=0)  # 折扣: the most it takes off
    #: Either a fixed window (both set) or valid_days from the day of issue.
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    valid_days: Mapped[int | None] = mapped_column(Integer, default=None)
    per_customer: Mapped[int] = mapped_column(Integer, default=1)
    total_limit: Mapped[int | None] = mapped_column(Integer, default=None)  # None: no limit
    issued: Mapped[int] = mapped_column(Integer, default=0)
    #: A claim code, stored upper-case (NFKC), so claims are case-insensitive and unique.
    code: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    #: "" | "follow" | "birthday" | "tier:<tier name>": issued by that event.
    trigger: Mapped[str] = mapped_column(String(40), default="", index=True)
    #: Batches with one bundle label are handed out together (a new-customer gift).
    bundle: Mapped[str] = mapped_column(String(40), default="", index=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64), default="")


class Coupon(Base):
    """One copy a customer holds. Stored states are available and used; 已过期 is read."""

    __tablename__ = "promo_coupons"
    __table_args__ = (
        UniqueConstraint("batch_id", "openid", "copy", name="uq_promo_coupons_copy"),
        Index("ix_promo_coupons_openid_state", "openid", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("promo_coupon_batches.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    copy: Mapped[int] = mapped_column(Integer)  # 1 … batch.per_customer
    state: Mapped[str] = mapped_column(String(16), default="available")
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: How it came: "code", "follow", "birthday:2026", "tier:白银", "console:<user>", …
    source: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    batch: Mapped[CouponBatch] = relationship(lazy="joined")


# --- terms ------------------------------------------------------------------------------------


def _terms(item: Coupon | CouponBatch) -> CouponBatch:
    return item.batch if isinstance(item, Coupon) else item


def discount_of(coupon_or_batch: Coupon | CouponBatch, goods_fen: int) -> int:
    """What the coupon takes off `goods_fen` (0 below its threshold); at least 1 fen is left
    to pay, because WeChat Pay takes no order of 0 fen."""
    batch = _terms(coupon_or_batch)
    if goods_fen < 2 or goods_fen < batch.threshold_fen:
        return 0
    if batch.kind == "discount":
        off = min(goods_fen * (100 - batch.percent) // 100, batch.cap_fen)
    else:
        off = batch.off_fen
    return max(0, min(off, goods_fen - 1))


# How coupons spell yuan and days: redeem's messages need them, so they live here, and
# coupon_text spells its texts with them too.


def _amount(fen: int) -> str:
    """199 or 19.9: how coupons spell yuan (满199减20), without the ¥."""
    whole, cents = divmod(fen, 100)
    return str(whole) if not cents else f"{fen / 100:.2f}".rstrip("0")


def _day(at: datetime, with_year: bool) -> str:
    local = as_utc(at).astimezone(SHANGHAI)
    text = f"{local.month}月{local.day}日"
    return f"{local.year}年{text}" if with_year else text


# --- issuing ----------------------------------------------------------------------------------


def end_of_day(at: datetime, days: int = 1) -> datetime:
    """Midnight (Shanghai) ending the `days`-th day counting the day of `at` as the first."""
    local = as_utc(at).astimezone(SHANGHAI).date() + timedelta(days=days)
    return datetime.combine(local, time(0), tzinfo=SHANGHAI).astimezone(UTC)


def window_for(batch: CouponBatch, now: datetime) -> tuple[datetime, datetime]:
    """The validity of a copy issued now: the batch's fixed window, or from now to the end
    of the valid_days-th Shanghai day."""
    if batch.valid_days:
        return as_utc(now), end_of_day(now, batch.valid_days)
    return as_utc(batch.valid_from), as_utc(batch.valid_until)


def _held(db: Session, batch_id: int, openid: str) -> int:
    return db.scalar(select(func.count()).select_from(Coupon)
                     .where(Coupon.batch_id == batch_id, Coupon.openid == openid)) or 0


def _why_not_issued(batch: CouponBatch, now: datetime) -> str:
    if batch.state == "ended":
        return "该优惠券活动已结束"
    if batch.state == "paused":
        return "该优惠券暂停发放"
    if batch.valid_until is not None and as_utc(batch.valid_until) <= now:
        return "该优惠券已过期"
    return "该优惠券已经被领完了"


def issue(db: Session, batch_id: int, openid: str, now: datetime, *, source: str) -> Coupon:
    """Give `openid` one copy of the batch, inside the caller's transaction.

    Raises LimitReached when the customer holds as many copies as the batch allows, and
    CouponError when the batch is unknown, paused, ended, past its window or all issued.
    The counter is taken first: on PostgreSQL that locks the batch's row, so the copies
    counted next are everyone's committed ones; on SQLite the write lock does the same.
    """
    now = as_utc(now)
    batch = db.get(CouponBatch, batch_id)
    if batch is None:
        raise CouponError("没有这批优惠券")
    limit = LimitReached(f"每人限领{batch.per_customer}张，你已经领过了")
    if _held(db, batch.id, openid) >= batch.per_customer:
        raise limit
    taken = db.execute(
        update(CouponBatch)
        .where(CouponBatch.id == batch.id, CouponBatch.state == "active",
               or_(CouponBatch.total_limit.is_(None),
                   CouponBatch.issued < CouponBatch.total_limit),
               or_(CouponBatch.valid_until.is_(None), CouponBatch.valid_until > now))
        .values(issued=CouponBatch.issued + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.refresh(batch)
        raise CouponError(_why_not_issued(batch, now))
    valid_from, valid_until = window_for(batch, now)
    for copy in range(_held(db, batch.id, openid) + 1, batch.per_customer + 1):
        if inserted(db, upsert(db, Coupon.__table__)
                    .values(batch_id=batch.id, openid=openid, copy=copy, state="available",
                            valid_from=valid_from, valid_until=valid_until, issued_at=now,
                            source=source[:64], order_id=None, used_at=None)
                    .on_conflict_do_nothing(index_elements=["batch_id", "openid", "copy"])):
            return db.scalar(select(Coupon).where(Coupon.batch_id == batch.id,
                                                  Coupon.openid == openid, Coupon.copy == copy))
    # Another worker inserted the last allowed copy between the count and the insert.
    db.execute(update(CouponBatch).where(CouponBatch.id == batch.id)
               .values(issued=CouponBatch.issued - 1)
               .execution_options(synchronize_session=False))
    raise limit


# --- using ------------------------------------------------------------------------------------


def usable(db: Session, openid: str, goods_fen: int, now: datetime) -> list[tuple[Coupon, int]]:
    """The customer's coupons this order could take, with what each takes off, best first
    (largest discount, then the soonest to expire). Flash-sale prices take none unless their
    session allows it (promotions/flash_buying.py asks only then)."""
    now = as_utc(now)
    held = db.scalars(select(Coupon).where(Coupon.openid == openid,
                                           Coupon.state == "available",
                                           Coupon.valid_from <= now, Coupon.valid_until > now))
    pairs = [(coupon, discount_of(coupon, goods_fen)) for coupon in held]
    pairs = [(coupon, fen) for coupon, fen in pairs if fen > 0]
    pairs.sort(key=lambda pair: (-pair[1], as_utc(pair[0].valid_until), pair[0].id))
    return pairs


def redeem(db: Session, coupon_id: int, openid: str, order_id: int, goods_fen: int,
           now: datetime) -> int:
    """Mark the coupon used by `order_id` and return its discount, exactly once.

    One conditional UPDATE decides, so of many checkouts racing for one coupon one wins.
    Raises CouponError (不是你的券, 已使用, 已过期, 未满足门槛 满199可用, 尚未生效).
    """
    now = as_utc(now)
    coupon = db.get(Coupon, coupon_id)
    if coupon is None or coupon.openid != openid:
        raise CouponError("这张优惠券不是你的")
    batch = coupon.batch
    if goods_fen < batch.threshold_fen:
        raise CouponError(f"未满足门槛：满{_amount(batch.threshold_fen)}元可用")
    discount = discount_of(batch, goods_fen)
    if discount <= 0:
        raise CouponError("订单金额太低，不能使用优惠券")
    used = db.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.openid == openid, Coupon.state == "available",
               Coupon.valid_from <= now, Coupon.valid_until > now)
        .values(state="used", order_id=order_id, used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.refresh(coupon)
    if used == 1:
        return discount
    if coupon.state == "used":
        raise CouponError("这张优惠券已使用")
    if as_utc(coupon.valid_until) <= now:
        raise CouponError("这张优惠券已过期")
    raise CouponError(f"这张优惠券{_day(coupon.valid_from, False)}起才能使用")


def apply_to_order(db: Session, order: Any, coupon_id: int, now: datetime) -> int:
    """Redeem `coupon_id` for `order` (placed in this transaction) and take it off what the
    order charges; returns the discount. Raises CouponError (the transaction must roll back)."""
    off = redeem(db, coupon_id, order.openid, order.id, order.goods_fen, now)
    db.execute(update(type(order)).where(type(order).id == order.id)
               .values(total_fen=type(order).total_fen - off, coupon_id=coupon_id,
                       coupon_fen=off)
               .execution_options(synchronize_session=False))
    db.refresh(order)
    return off


def give_back(db: Session, order: Any, from_state: str, to_state: str, now: datetime) -> None:
    """An order that used a coupon was cancelled or refunded: the coupon is the customer's
    again if its window is still open, once (the UPDATE matches only while the coupon is
    still marked used by this order). Past its window it stays used: a coupon never comes
    back expired, and a refund does not stretch a promotion that has ended."""
    if to_state not in ("cancelled", "refunded") or not getattr(order, "coupon_id", None):
        return
    db.execute(
        update(Coupon)
        .where(Coupon.id == order.coupon_id, Coupon.order_id == order.id,
               Coupon.state == "used", Coupon.valid_until > as_utc(now))
        .values(state="available", order_id=None, used_at=None)
        .execution_options(synchronize_session=False)
    )
    coupon = db.identity_map.get(identity_key(Coupon, order.coupon_id))
    if coupon is not None:  # loaded earlier in this session: read it again when next used
        db.expire(coupon)


# --- the demo and registration ----------------------------------------------------------------


def register(registry: Registry) -> None:
    """The coupon tables, the give-back on cancellation or refund, the tier-upgrade gift and
    the console pages."""
    from promotions.coupon_issuing import on_tier_upgrade
    from shop import orders, tiers

    registry.add_models("promotions.coupons")
    orders.on_change(give_back)
    tiers.on_tier_change(on_tier_upgrade)
    registry.add_web(_init_web)


def _init_web(app: Any) -> None:
    from console.shell import add_nav
    from promotions import coupon_views

    app.register_blueprint(coupon_views.bp)
    add_nav(app, "优惠券", "promotions_coupons.list_batches", "promotions")
