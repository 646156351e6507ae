"""The coupon a push may carry (Push.coupon_batch_id): the playbook's wake-up coupon for 沉睡
customers, or any live batch the manager picks. Each recipient of a main run who is called
gets one copy of the batch; the holdout, the skipped and an announcement's recipients get none.

- Choosing (`live_batches`): the batches the console offers — issuing, inside their window,
  not all issued — each in words (满50减10，领取后7天内有效，剩余80张).
- Checking (`check`, called by push_rules.check): an unknown or ended batch, one whose stock
  cannot cover the recipients the dry run counts, or whose validity ends before the first
  send is refused; copy that never mentions a coupon is warned about, because a customer told
  nothing about a coupon will not look for it.
- Issuing (`issue_for`): inside the sender's `_start` transaction, the one that commits
  `calling` right before the WeChat call, so a coupon and the message announcing it commit
  together and a message never promises a coupon that was not issued. A recipient the batch
  refuses (their per-customer limit, stock out, batch paused or ended) is skipped with the
  reason and not called. Each copy is recorded on its delivery (PushDelivery.coupon_id) and
  carries `source="push:<delivery id>"`: a delivery retried after -1, resent after its chat-log
  check or deferred to the next day finds its coupon there and is never given a second. Only
  the sender holding a delivery's claim reaches `_start` for it (campaigns/sender.py), which
  is the guarantee the message itself relies on.
- Reading back (`usage`, `push_usage`): coupons issued by a run or a push and how many of
  them were used.

A recipient whose call then fails for good (43004, 45015 …) keeps the coupon: it is in their
我的优惠券, and taking back a gift is a broken promise (promotions/coupons.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from campaigns import planner, push_rules, segments
from campaigns.push_rules import PushDraft
from campaigns.pushes import Push, PushDelivery, PushRun
from core.clock import as_utc, shanghai_text
from promotions.coupon_text import terms_text
from promotions.coupons import Coupon, CouponBatch, CouponError, LimitReached, issue

#: Words that tell a customer the message carries a coupon.
COUPON_WORDS = ("券", "优惠", "红包")
#: The starting push of a segment whose playbook offers a coupon, and the form's hint.
HINTS = {segments.Segment.DORMANT: "沉睡客户的唤醒券：在此选择一个优惠券批次"}
SOURCE_PREFIX = "push:"
UNKNOWN_REASON = "优惠券批次不存在，未发送"
STOCK_OUT_REASON = "优惠券已发完，未发送"


def source(delivery_id: int) -> str:
    """The coupon's `source`: which delivery gave it (shown on the batch's console page)."""
    return f"{SOURCE_PREFIX}{delivery_id}"


# --- words ----------------------------------------------------------------------------------


def validity_text(batch: CouponBatch) -> str:
    """领取后7天内有效, or 有效期2026-12-01至2026-12-31 (Shanghai days, both included)."""
    if batch.valid_days:
        return f"领取后{batch.valid_days}天内有效"
    last = as_utc(batch.valid_until) - timedelta(microseconds=1)
    return (f"有效期{shanghai_text(batch.valid_from, '%Y-%m-%d')}至"
            f"{shanghai_text(last, '%Y-%m-%d')}")


def batch_text(batch: CouponBatch) -> str:
    """The batch's terms in words: 满50减10，领取后7天内有效，剩余80张 (or 不限量)."""
    left = ("不限量" if batch.total_limit is None
            else f"剩余{max(batch.total_limit - batch.issued, 0)}张")
    return f"{terms_text(batch)}，{validity_text(batch)}，{left}"


@dataclass(frozen=True)
class Offer:
    """A batch the push form offers."""

    id: int
    name: str
    text: str


def _live(now: datetime) -> list[Any]:
    return [CouponBatch.state == "active",
            or_(CouponBatch.valid_until.is_(None), CouponBatch.valid_until > as_utc(now)),
            or_(CouponBatch.total_limit.is_(None), CouponBatch.issued < CouponBatch.total_limit)]


def live_batches(db: Session, now: datetime) -> list[Offer]:
    """Batches a push may carry now, newest first: issuing, inside their window, not all
    issued (promotions/coupon_batches.py defines them; its console lists every batch)."""
    found = db.scalars(select(CouponBatch).where(*_live(now)).order_by(CouponBatch.id.desc()))
    return [Offer(batch.id, batch.name, batch_text(batch)) for batch in found]


def batch_label(db: Session, batch_id: int | None) -> str:
    """「回归礼」满50减10，领取后7天内有效 for a push's page; "" without a batch."""
    if batch_id is None:
        return ""
    batch = db.get(CouponBatch, batch_id)
    if batch is None:
        return f"优惠券批次{batch_id}（已不存在）"
    return f"「{batch.name}」{terms_text(batch)}，{validity_text(batch)}"


# --- checking a draft -----------------------------------------------------------------------


def _planned(db: Session, draft: PushDraft, now: datetime,
             thresholds: segments.Thresholds | None, template_id: str | None) -> int | None:
    """The recipients the dry run counts (planned: neither held out nor skipped), or None
    when the draft cannot be planned (check() says why elsewhere)."""
    try:
        dry = planner.dry_run(db, draft, now, sample=0, thresholds=thresholds,
                              template_id=template_id)
    except (ValueError, OverflowError):
        return None
    return dry.counts.get("planned", 0)


def check(db: Session, draft: PushDraft, now: datetime, checked: push_rules.Checked, *,
          thresholds: segments.Thresholds | None = None,
          template_id: str | None = None) -> None:
    """Add the coupon's errors and warnings to `checked` (see the module's note). The stock is
    counted against a dry run only when nothing else is wrong: planning classifies every
    customer again, and a refused draft would not be created anyway."""
    if draft.coupon_batch_id is None:
        return
    errors, warnings = checked.errors, checked.warnings
    batch = db.get(CouponBatch, draft.coupon_batch_id)
    if batch is None:
        errors.append("未知的优惠券批次：请从列表中选择")
        return
    label = f"优惠券「{batch.name}」"
    if batch.state == "ended":
        errors.append(f"{label}已结束发放，请换一个批次")
        return
    if batch.state == "paused":
        warnings.append(f"{label}已暂停发放：发送时仍暂停的话，顾客会被跳过，收不到推送")
    first = push_rules.first_fire(draft, now) if not errors else None
    if first is not None and batch.valid_until is not None:
        if as_utc(batch.valid_until) <= first:
            errors.append(f"{label}{validity_text(batch)}，在推送首次发送"
                          f"（{shanghai_text(first)}）前就结束了：请换一个批次或提前发送")
        elif batch.valid_from is not None and as_utc(batch.valid_from) > first:
            warnings.append(f"{label}{shanghai_text(batch.valid_from, '%Y-%m-%d')}起才能使用，"
                            "推送发出时顾客还用不了")
    if batch.total_limit is not None:
        left = max(batch.total_limit - batch.issued, 0)
        wanted = _planned(db, draft, now, thresholds, template_id) if not errors else None
        if left == 0:
            errors.append(f"{label}已经发完，请换一个批次或增加发放总量")
        elif wanted is not None and left < wanted:
            errors.append(f"{label}只剩{left}张，不够发给预演中会收到推送的{wanted}位顾客："
                          "请增加发放总量或换一个批次")
        elif wanted is not None and draft.trigger != "once":
            warnings.append(f"每次发送都会给收到的顾客发券：{label}剩余{left}张，"
                            f"只按下一次预演的{wanted}人核对过")
    silent = [label for label, text in _variant_texts(draft)
              if text.strip() and not any(word in text for word in COUPON_WORDS)]
    if silent:
        warnings.append(f"{'、'.join(silent)}没有提到优惠券：顾客不知道有券就不会去用，"
                        "建议写明（如「回复『我的优惠券』查看」）")


def _variant_texts(draft: PushDraft) -> list[tuple[str, str]]:
    keys = push_rules.VARIANT_KEYS
    if len(draft.variants) == 1:
        return [("文案", draft.variants[0])]
    return [(f"文案{key}", text) for key, text in zip(keys, draft.variants, strict=False)]


# --- issuing --------------------------------------------------------------------------------


class Refused(NamedTuple):
    """A recipient the batch refused: not called, skipped with `reason`."""

    openid: str
    reason: str


def batch_of_run(db: Session, run_id: int) -> int | None:
    """The batch a run's recipients are given: its push's, for a main run only (an
    announcement promises; the coupon comes with the push itself)."""
    return db.scalar(select(Push.coupon_batch_id).join(PushRun, PushRun.push_id == Push.id)
                     .where(PushRun.id == run_id, PushRun.kind == "main"))


def runs_with_coupons(db: Session, run_ids: Iterable[int]) -> set[int]:
    """Those of `run_ids` whose recipients are given a coupon (`batch_of_run`): the sender
    asks once per batch of deliveries, not once per call."""
    return set(db.scalars(select(PushRun.id).join(Push, PushRun.push_id == Push.id)
                          .where(PushRun.id.in_(list(run_ids)), PushRun.kind == "main",
                                 Push.coupon_batch_id.is_not(None))))


def _why(batch: CouponBatch, now: datetime) -> str:
    """Why the batch itself refused (issue() refreshed it): the rest of the call gets the
    same answer."""
    if batch.state == "ended":
        return "优惠券活动已结束，未发送"
    if batch.state == "paused":
        return "优惠券已暂停发放，未发送"
    if batch.valid_until is not None and as_utc(batch.valid_until) <= now:
        return "优惠券已过期，未发送"
    return STOCK_OUT_REASON


def issue_for(db: Session, run_id: int, delivery_ids: Iterable[int],
              now: datetime) -> dict[int, Refused]:
    """Give each recipient of a call one copy of the run's batch, in the caller's transaction
    (the sender's `_start`); returns those refused, by delivery id.

    A delivery that already holds its coupon (an earlier attempt) is given nothing. Once the
    batch itself refuses (all issued, paused, ended, expired), the rest of the call is
    refused with the same reason without asking again.
    """
    batch_id = batch_of_run(db, run_id)
    if batch_id is None:
        return {}
    now = as_utc(now)
    rows = db.execute(select(PushDelivery.id, PushDelivery.openid, PushDelivery.coupon_id)
                      .where(PushDelivery.id.in_(list(delivery_ids)))
                      .order_by(PushDelivery.id)).all()
    batch = db.get(CouponBatch, batch_id)
    stop = "" if batch is not None else UNKNOWN_REASON
    refused: dict[int, Refused] = {}
    for delivery_id, openid, coupon_id in rows:
        if coupon_id is not None:
            continue
        if stop:
            refused[delivery_id] = Refused(openid, stop)
            continue
        assert batch is not None
        try:
            coupon = issue(db, batch_id, openid, now, source=source(delivery_id))
        except LimitReached:
            refused[delivery_id] = Refused(
                openid, f"已领过这批优惠券（每人限领{batch.per_customer}张），未发送")
            continue
        except CouponError:
            stop = _why(batch, now)
            refused[delivery_id] = Refused(openid, stop)
            continue
        db.execute(update(PushDelivery).where(PushDelivery.id == delivery_id)
                   .values(coupon_id=coupon.id).execution_options(synchronize_session=False))
    return refused


# --- reading back ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Coupons a push (or a run) gave and how many of them orders have used."""

    issued: int = 0
    used: int = 0

    @property
    def text(self) -> str:
        return f"发放 {self.issued} 张，已使用 {self.used} 张"


def _figures(query: Iterable[Any]) -> Mapping[int, Figures]:
    return {key: Figures(issued, used or 0) for key, issued, used in query}


def usage(db: Session, run_ids: list[int]) -> dict[int, Figures]:
    """Per run: coupons issued with its deliveries, and how many are used now."""
    if not run_ids:
        return {}
    used = func.sum(case((Coupon.state == "used", 1), else_=0))
    return dict(_figures(db.execute(
        select(PushDelivery.run_id, func.count(Coupon.id), used)
        .join(Coupon, Coupon.id == PushDelivery.coupon_id)
        .where(PushDelivery.run_id.in_(run_ids)).group_by(PushDelivery.run_id))))


def push_usage(db: Session, push_id: int) -> Figures:
    """All of a push's runs together."""
    used = func.sum(case((Coupon.state == "used", 1), else_=0))
    found = _figures(db.execute(
        select(PushRun.push_id, func.count(Coupon.id), used)
        .join(PushDelivery, PushDelivery.run_id == PushRun.id)
        .join(Coupon, Coupon.id == PushDelivery.coupon_id)
        .where(PushRun.push_id == push_id).group_by(PushRun.push_id)))
    return found.get(push_id, Figures())
