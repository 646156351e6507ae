"""How coupons read: to the customer in the chat (满199减20（有效期至12月31日）, a gift just
received, 我的优惠券) and to the manager in the console (state labels, who was not issued).

Only functions of the models, with no queries: the chat, the console and the notices call the
same ones, so a coupon reads the same wherever it is shown.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from core.clock import SHANGHAI, as_utc
from promotions.coupons import Coupon, CouponBatch, _amount, _day, _terms

BATCH_STATES = {"active": "发放中", "paused": "已暂停", "ended": "已结束"}
COUPON_STATES = {"available": "可使用", "used": "已使用", "expired": "已过期"}


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


def gift_text(coupons: list[Coupon]) -> str:
    """The lines that tell a customer what they just received."""
    return "\n".join(f"· {describe(coupon)}" for coupon in coupons)


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


def skipped_summary(skipped: dict[str, str]) -> str:
    """未发放 3 人：已领满每人限领张数 2，OpenID 格式不对 1 (for the console's notice)."""
    if not skipped:
        return ""
    counts = Counter(skipped.values())
    parts = "，".join(f"{reason} {count}" for reason, count in counts.most_common())
    return f"未发放 {len(skipped)} 人：{parts}"
