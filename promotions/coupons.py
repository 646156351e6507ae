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
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
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
    and_,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

from core.clock import SHANGHAI, as_utc
from core.db import Base, inserted, upsert
from core.money import MAX_FEN
from core.registry import Registry

KINDS = {"threshold": "满减", "discount": "折扣", "flat": "无门槛"}
BATCH_STATES = {"active": "发放中", "paused": "已暂停", "ended": "已结束"}
COUPON_STATES = {"available": "可使用", "used": "已使用", "expired": "已过期"}
#: Order states whose discount is a cost the shop bears: the money was taken and kept.
COUNTED_ORDERS = ("paid", "shipped", "completed")
TRIGGERS = {"": "不自动发放", "follow": "关注时发放", "birthday": "生日当天发放"}
TIER_TRIGGER = "tier:"
CODE = re.compile(r"^[A-Z0-9_-]{4,20}$")
OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
NAME_MAX = 20
MAX_PER_CUSTOMER = 20
MAX_TOTAL = 10_000_000
MAX_DAYS = 366


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
    kind: Mapped[str] = mapped_column(String(16))  # KINDS
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


# --- terms and text ---------------------------------------------------------------------------


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


def _amount(fen: int) -> str:
    """199 or 19.9: how coupons spell yuan (满199减20), without the ¥."""
    whole, cents = divmod(fen, 100)
    return str(whole) if not cents else f"{fen / 100:.2f}".rstrip("0")


def _fold(percent: int) -> str:
    """88 → 8.8折, 90 → 9折, 5 → 0.5折."""
    return (f"{percent // 10}" if percent % 10 == 0 else f"{percent / 10:g}") + "折"


def terms_text(coupon_or_batch: Coupon | CouponBatch) -> str:
    """满199减20, 8.8折（最多减30元）, 满100享9折（最多减50元）, 无门槛减5元."""
    batch = _terms(coupon_or_batch)
    if batch.kind == "discount":
        head = f"满{_amount(batch.threshold_fen)}享" if batch.threshold_fen else ""
        return f"{head}{_fold(batch.percent)}（最多减{_amount(batch.cap_fen)}元）"
    if batch.kind == "flat" or not batch.threshold_fen:
        return f"无门槛减{_amount(batch.off_fen)}元"
    return f"满{_amount(batch.threshold_fen)}减{_amount(batch.off_fen)}"


def _day(at: datetime, with_year: bool) -> str:
    local = as_utc(at).astimezone(SHANGHAI)
    text = f"{local.month}月{local.day}日"
    return f"{local.year}年{text}" if with_year else text


def validity_text(valid_from: datetime, valid_until: datetime, issued_at: datetime) -> str:
    """有效期至12月31日 (through that Shanghai day), …至12月31日 15:00 otherwise; a window
    that opens later says when."""
    start, end = as_utc(valid_from), as_utc(valid_until)
    last = end - timedelta(microseconds=1)
    with_year = last.astimezone(SHANGHAI).year != as_utc(issued_at).astimezone(SHANGHAI).year
    local_end = end.astimezone(SHANGHAI)
    if local_end.time() == time(0):
        text = f"有效期至{_day(last, with_year)}"
    else:
        text = f"有效期至{_day(end, with_year)} {local_end:%H:%M}"
    if start > as_utc(issued_at) + timedelta(minutes=1):
        text = f"{_day(start, with_year)}起可用，{text}"
    return text


def describe(coupon: Coupon) -> str:
    """How the chat names a coupon: 满199减20（有效期至12月31日）."""
    return (f"{terms_text(coupon)}（"
            f"{validity_text(coupon.valid_from, coupon.valid_until, coupon.issued_at)}）")


def state_at(coupon: Coupon, now: datetime) -> str:
    """available, used or expired, read against the window (no job marks expiry)."""
    if coupon.state == "available" and as_utc(coupon.valid_until) <= as_utc(now):
        return "expired"
    return coupon.state


# --- batches ----------------------------------------------------------------------------------


def normalize_code(code: str) -> str:
    """Full-width letters and case do not matter: ｎｅｗ２０２６ is NEW2026."""
    return unicodedata.normalize("NFKC", code or "").strip().upper()


def end_of_day(at: datetime, days: int = 1) -> datetime:
    """Midnight (Shanghai) ending the `days`-th day counting the day of `at` as the first."""
    local = as_utc(at).astimezone(SHANGHAI).date() + timedelta(days=days)
    return datetime.combine(local, time(0), tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class BatchTerms:
    """A batch as the console's form describes it (amounts in fen, times aware)."""

    name: str
    kind: str
    threshold_fen: int = 0
    off_fen: int = 0
    percent: int = 0
    cap_fen: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None
    per_customer: int = 1
    total_limit: int | None = None
    code: str = ""
    trigger: str = ""
    bundle: str = ""


def terms_problem(terms: BatchTerms, now: datetime) -> str | None:
    """Why a batch cannot be created (Chinese, for the console), or None."""
    name = terms.name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        return f"请填写券名称（最多{NAME_MAX}个字）"
    if terms.kind not in KINDS:
        return "请选择券类型（满减、折扣或无门槛）"
    amounts = (terms.threshold_fen, terms.off_fen, terms.cap_fen)
    if any(fen < 0 or fen > MAX_FEN for fen in amounts):
        return "金额需在 0 到 100 万元之间"
    if terms.kind == "threshold":
        if terms.off_fen < 1:
            return "满减券需填写减免金额"
        if terms.threshold_fen <= terms.off_fen:
            return "满减券的门槛需高于减免金额（例如满199减20）"
    elif terms.kind == "discount":
        if not 1 <= terms.percent <= 99:
            return "折扣需在 1–99 之间（88 表示 8.8 折）"
        if terms.cap_fen < 1:
            return "折扣券需设置最多减免金额"
    elif terms.off_fen < 1:
        return "无门槛券需填写减免金额"
    return _validity_problem(terms, now) or _limits_problem(terms)


def _validity_problem(terms: BatchTerms, now: datetime) -> str | None:
    if terms.valid_days is not None:
        if terms.valid_from or terms.valid_until:
            return "有效期请二选一：固定日期，或领取后若干天"
        if not 1 <= terms.valid_days <= MAX_DAYS:
            return f"领取后有效天数需在 1–{MAX_DAYS} 之间"
        return None
    if terms.valid_from is None or terms.valid_until is None:
        return "请填写有效期：固定日期，或领取后若干天"
    start, end = as_utc(terms.valid_from), as_utc(terms.valid_until)
    if end <= start:
        return "有效期的结束日期需晚于开始日期"
    if end <= as_utc(now):
        return "有效期的结束日期已经过去"
    if end - start > timedelta(days=MAX_DAYS):
        return f"有效期最长 {MAX_DAYS} 天"
    return None


def _limits_problem(terms: BatchTerms) -> str | None:
    if not 1 <= terms.per_customer <= MAX_PER_CUSTOMER:
        return f"每人限领需在 1–{MAX_PER_CUSTOMER} 张之间"
    if terms.total_limit is not None:
        if not 1 <= terms.total_limit <= MAX_TOTAL:
            return f"发放总量需在 1–{MAX_TOTAL} 张之间（不限请留空）"
        if terms.total_limit < terms.per_customer:
            return "发放总量不能少于每人限领张数"
    if terms.code and not CODE.match(normalize_code(terms.code)):
        return "券码需为 4–20 位字母、数字、- 或 _"
    trigger = terms.trigger
    if trigger not in TRIGGERS and not (
            trigger.startswith(TIER_TRIGGER) and 1 <= len(trigger) - len(TIER_TRIGGER) <= 8):
        return "请选择发放方式"
    if len(terms.bundle.strip()) > NAME_MAX:
        return f"礼包名称最多{NAME_MAX}个字"
    return None


def create_batch(db: Session, terms: BatchTerms, now: datetime, *,
                 created_by: str = "") -> CouponBatch:
    """A new active batch; raises CouponError with the first problem of the terms."""
    now = as_utc(now)
    if problem := terms_problem(terms, now):
        raise CouponError(problem)
    code = normalize_code(terms.code) or None
    if code and (holder := db.scalar(select(CouponBatch.name).where(CouponBatch.code == code))):
        raise CouponError(f"券码 {code} 已被「{holder}」使用")
    discount = terms.kind == "discount"
    batch = CouponBatch(
        name=terms.name.strip(), kind=terms.kind,
        threshold_fen=0 if terms.kind == "flat" else terms.threshold_fen,
        off_fen=0 if discount else terms.off_fen,
        percent=terms.percent if discount else 0, cap_fen=terms.cap_fen if discount else 0,
        valid_from=as_utc(terms.valid_from) if terms.valid_from else None,
        valid_until=as_utc(terms.valid_until) if terms.valid_until else None,
        valid_days=terms.valid_days, per_customer=terms.per_customer,
        total_limit=terms.total_limit, issued=0, code=code, trigger=terms.trigger,
        bundle=terms.bundle.strip(), state="active", created_at=now, created_by=created_by[:64],
    )
    db.add(batch)
    db.flush()
    return batch


#: The console's buttons: (from states, to state, the verb); an ended batch stays ended.
MOVES = {"pause": (("active",), "paused", "暂停"), "resume": (("paused",), "active", "恢复"),
         "end": (("active", "paused"), "ended", "结束")}


def set_state(db: Session, batch_id: int, move: str) -> CouponBatch:
    """Pause, resume or end issuing (held coupons stay usable); one conditional UPDATE."""
    froms, to, verb = MOVES[move]
    moved = db.execute(update(CouponBatch)
                       .where(CouponBatch.id == batch_id, CouponBatch.state.in_(froms))
                       .values(state=to).execution_options(synchronize_session=False)).rowcount
    batch = db.get(CouponBatch, batch_id)
    if batch is None:
        raise CouponError("没有这批优惠券")
    db.refresh(batch)
    if moved != 1:
        raise CouponError(f"这批券{BATCH_STATES[batch.state]}，不能{verb}")
    return batch


def window_for(batch: CouponBatch, now: datetime) -> tuple[datetime, datetime]:
    """The validity of a copy issued now: the batch's fixed window, or from now to the end
    of the valid_days-th Shanghai day."""
    if batch.valid_days:
        return as_utc(now), end_of_day(now, batch.valid_days)
    return as_utc(batch.valid_from), as_utc(batch.valid_until)


# --- issuing ----------------------------------------------------------------------------------


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


def issue_to_list(db: Session, batch_id: int, openids: Iterable[str], now: datetime, *,
                  source: str) -> dict[str, Any]:
    """Issue one copy to each openid (duplicates once); what a console list or a campaign's
    segment gets. Returns {"issued": n, "coupons": [Coupon], "skipped": {openid: reason}};
    once the batch itself refuses (all issued, paused, ended), the rest are skipped with that
    reason."""
    given: list[Coupon] = []
    skipped: dict[str, str] = {}
    stop = ""
    for openid in dict.fromkeys(o.strip() for o in openids if o and o.strip()):
        if stop:
            skipped[openid] = stop
        elif not OPENID.match(openid):
            skipped[openid] = "OpenID 格式不对"
        else:
            try:
                given.append(issue(db, batch_id, openid, now, source=source))
            except LimitReached:
                skipped[openid] = "已领满每人限领张数"
            except CouponError as error:
                stop = skipped[openid] = str(error)
    return {"issued": len(given), "coupons": given, "skipped": skipped}


def skipped_summary(skipped: dict[str, str]) -> str:
    """未发放 3 人：已领满每人限领张数 2，OpenID 格式不对 1 (for the console's notice)."""
    if not skipped:
        return ""
    counts = Counter(skipped.values())
    parts = "，".join(f"{reason} {count}" for reason, count in counts.most_common())
    return f"未发放 {len(skipped)} 人：{parts}"


def bundle_of(db: Session, batch: CouponBatch) -> list[CouponBatch]:
    """The batch first, then the other active batches of its bundle (if it has one)."""
    if not batch.bundle:
        return [batch]
    others = db.scalars(select(CouponBatch).where(CouponBatch.bundle == batch.bundle,
                                                  CouponBatch.id != batch.id,
                                                  CouponBatch.state == "active")
                        .order_by(CouponBatch.id))
    return [batch, *others]


def _trigger_source(trigger: str, now: datetime) -> str:
    """A birthday comes every year: its source names the year, so one year gives once."""
    if trigger == "birthday":
        return f"birthday:{as_utc(now).astimezone(SHANGHAI).year}"
    return trigger


def issue_on(db: Session, openid: str, trigger: str, now: datetime) -> list[Coupon]:
    """Every active batch with this trigger ("follow", "birthday", "tier:<name>"), once per
    occasion (a re-follow or a job run twice gives nothing more); limits reached are skipped
    without a word, because the customer asked for nothing."""
    source = _trigger_source(trigger, now)
    given = []
    batches = db.scalars(select(CouponBatch).where(CouponBatch.trigger == trigger,
                                                   CouponBatch.state == "active")
                         .order_by(CouponBatch.id))
    for batch in list(batches):
        had = db.scalar(select(Coupon.id).where(Coupon.batch_id == batch.id,
                                                Coupon.openid == openid,
                                                Coupon.source == source).limit(1))
        if had is not None:
            continue
        try:
            given.append(issue(db, batch.id, openid, now, source=source))
        except CouponError:
            continue
    return given


def claim_code(db: Session, openid: str, code: str, now: datetime) -> list[Coupon]:
    """领券 <code>: the code's batch, and the rest of its bundle if it is one.

    Raises CouponError for an unknown code, a batch that is paused, ended, expired or all
    claimed, or a customer who already holds the batch's limit (then nothing is issued)."""
    key = normalize_code(code)
    batch = None
    if CODE.match(key):
        batch = db.scalar(select(CouponBatch).where(CouponBatch.code == key))
    if batch is None:
        raise CouponError("券码不存在，请核对后重新发送")
    given = [issue(db, batch.id, openid, now, source="code")]
    for other in bundle_of(db, batch)[1:]:
        try:
            given.append(issue(db, other.id, openid, now, source="code"))
        except CouponError:
            continue
    return given


def gift_text(coupons: list[Coupon]) -> str:
    """The lines that tell a customer what they just received."""
    return "\n".join(f"· {describe(coupon)}" for coupon in coupons)


# --- using ------------------------------------------------------------------------------------


def usable(db: Session, openid: str, goods_fen: int, now: datetime, *,
           flash: bool = False) -> list[tuple[Coupon, int]]:
    """The customer's coupons this order could take, with what each takes off, best first
    (largest discount, then the soonest to expire). Flash-sale prices take none: the caller
    passes flash=False only when the session allows coupons."""
    if flash:
        return []
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


# --- 我的优惠券 --------------------------------------------------------------------------------

RECENT = timedelta(days=30)


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


def summary(rows: list[tuple[Coupon, str]]) -> str:
    """The 我的优惠券 reply."""
    ready = [coupon for coupon, state in rows if state == "available"]
    rest = [(coupon, state) for coupon, state in rows if state != "available"]
    if not rows:
        return "你还没有优惠券。\n有券码的话，回复「领券 券码」领取。"
    lines = [f"我的优惠券（可用 {len(ready)} 张）："] if ready else ["你暂时没有可用的优惠券。"]
    for number, coupon in enumerate(ready, start=1):
        lines.append(f"{number}. {coupon.batch.name}：{describe(coupon)}")
    if ready:
        lines.append("下单时会自动为你选用最划算的一张，也可以更换或不用。")
    if rest:
        lines.append("\n最近使用或过期：")
        lines += [f"· {coupon.batch.name}：{terms_text(coupon)} {COUPON_STATES[state]}"
                  for coupon, state in rest]
    lines.append("有券码的话，回复「领券 券码」领取。")
    return "\n".join(lines)


# --- usage and cost ---------------------------------------------------------------------------


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


def batches(db: Session) -> list[CouponBatch]:
    """Every batch, the active ones first, newest first within a state."""
    order = case((CouponBatch.state == "active", 0), (CouponBatch.state == "paused", 1),
                 else_=2)
    return list(db.scalars(select(CouponBatch).order_by(order, CouponBatch.id.desc())))


def recent_copies(db: Session, batch_id: int, limit: int = 50) -> list[Coupon]:
    return list(db.scalars(select(Coupon).where(Coupon.batch_id == batch_id)
                           .order_by(Coupon.id.desc()).limit(limit)))


# --- events from the rest of the shop ------------------------------------------------------------


def on_tier_upgrade(db: Session, openid: str, old_tier: str, new_tier: str,
                    now: datetime) -> list[Coupon]:
    """A customer reached a tier: its gift batches, and a notice of them (sent later through
    a channel WeChat allows)."""
    from shop import notices

    given = issue_on(db, openid, f"{TIER_TRIGGER}{new_tier}", now)
    if given:
        notices.queue(db, openid, "coupon_gift",
                      f"恭喜升级为{new_tier}会员！送你优惠券：\n{gift_text(given)}\n"
                      "回复「我的优惠券」查看。",
                      key=f"coupons:tier:{new_tier}:{openid}", title=f"{new_tier}会员礼券已到账")
    return given


def seed_demo_coupons(db: Session, now: datetime) -> list[CouponBatch]:
    """The demo's batches (once): a new-follower bundle, a claim code, a silver-tier gift."""
    if db.scalar(select(func.count()).select_from(CouponBatch)):
        return []
    made = [
        BatchTerms(name="新人礼 满199减20", kind="threshold", threshold_fen=19900, off_fen=2000,
                   valid_days=30, trigger="follow", bundle="新人礼", total_limit=100_000),
        BatchTerms(name="新人礼 无门槛5元", kind="flat", off_fen=500, valid_days=7,
                   trigger="follow", bundle="新人礼", total_limit=100_000),
        BatchTerms(name="会员日 8.8折", kind="discount", percent=88, cap_fen=3000,
                   valid_from=now, valid_until=end_of_day(now, 30), code="VIP88",
                   total_limit=1000),
        BatchTerms(name="白银会员礼 满300减50", kind="threshold", threshold_fen=30000,
                   off_fen=5000, valid_days=30, trigger=f"{TIER_TRIGGER}白银"),
        # one copy a year: the per-customer limit is the number of birthdays it can serve
        BatchTerms(name="生日礼包 无门槛20元", kind="flat", off_fen=2000, valid_days=7,
                   trigger="birthday", per_customer=20),
    ]
    return [create_batch(db, terms, now, created_by="demo") for terms in made]


def register(registry: Registry) -> None:
    """The coupon tables, the give-back on cancellation or refund, the tier-upgrade gift and
    the console pages."""
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
