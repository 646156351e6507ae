"""The occasions that issue coupons: a claim code (with the rest of its bundle), a pasted list
or a campaign's segment, and the shop's events (following, a birthday, reaching a tier).

Every copy goes through coupons.issue, which decides the limits. This module decides which
batches an occasion gives, and what a refusal means there: a claim tells the customer why, a
list skips that customer and the console says why, an event skips without a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SHANGHAI, as_utc
from promotions.coupon_batches import CODE, TIER_TRIGGER, normalize_code
from promotions.coupon_text import gift_text
from promotions.coupons import Coupon, CouponBatch, CouponError, LimitReached, issue

OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


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
