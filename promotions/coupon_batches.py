"""Coupon batches as the manager defines them: the terms a batch may have and why a form's are
refused, creating a batch, pausing, resuming and ending its issuing, and the console's list.

A batch's terms are set once, here, and never edited (coupons.CouponBatch says why); the
console only moves its state. Issuing its copies is coupons.py's and coupon_issuing.py's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.money import MAX_FEN
from promotions.coupon_text import BATCH_STATES
from promotions.coupons import CouponBatch, CouponError

KINDS = {"threshold": "满减", "discount": "折扣", "flat": "无门槛"}
TRIGGERS = {"": "不自动发放", "follow": "关注时发放", "birthday": "生日当天发放"}
TIER_TRIGGER = "tier:"
CODE = re.compile(r"^[A-Z0-9_-]{4,20}$")
NAME_MAX = 20
MAX_PER_CUSTOMER = 20
MAX_TOTAL = 10_000_000
MAX_DAYS = 366


def normalize_code(code: str) -> str:
    """Full-width letters and case do not matter: ｎｅｗ２０２６ is NEW2026."""
    return unicodedata.normalize("NFKC", code or "").strip().upper()


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


def batches(db: Session) -> list[CouponBatch]:
    """Every batch, the active ones first, newest first within a state."""
    order = case((CouponBatch.state == "active", 0), (CouponBatch.state == "paused", 1),
                 else_=2)
    return list(db.scalars(select(CouponBatch).order_by(order, CouponBatch.id.desc())))
