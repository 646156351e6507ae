"""The money side of a checkout in the chat: which coupon, how many points, what is left.

The read-back suggests the best coupon the customer holds (it only ever lowers the price, so
suggesting it pre-selects nothing that costs money) and offers points without spending them
until asked. What the read-back showed is what is charged: the coupon is resolved to one id
when the bill is shown, and placing the order re-checks every amount in the order's own
transaction (the coupon redeemed by one conditional UPDATE, the points spent by another),
so a coupon used meanwhile on another phone or a balance spent twice fails the whole order
instead of charging something the customer did not see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.money import yuan
from promotions import coupon_text, coupons, points
from shop import orders
from shop.orders import Order, OrderError, PriceChanged

#: The coupon choice kept in the conversation: the best one (resolved to an id when the bill
#: is shown), none, or a coupon id.
BEST = "best"
NO_COUPON = "none"

CHANGE_COUPON = {"换券", "换优惠券", "选券", "选优惠券", "用券", "使用优惠券", "优惠券"}
NO_COUPON_WORDS = {"不用券", "不用优惠券", "不使用优惠券", "不要券"}
NO_POINTS_WORDS = {"不用积分", "不使用积分", "不要积分"}
_USE_POINTS = re.compile(r"^(?:用|使用)积分\s*(\d{1,7})?\s*(?:分|个)?$")
#: 用积分 without a number: as many as the order may take (the bill caps it).
ALL_POINTS = 10**9


class CheckoutError(OrderError):
    """A coupon or the points no longer hold: the read-back must be shown again."""


@dataclass(frozen=True)
class Bill:
    """What the read-back shows and the order charges."""

    goods_fen: int
    coupon_id: int | None
    coupon_label: str
    coupon_fen: int
    coupons_usable: int  # how many of the customer's coupons this order could take
    points_balance: int
    points_usable: int  # the most this order may take (share limit, at least 1 fen to pay)
    points_usable_fen: int  # what those take off
    points_used: int
    points_fen: int

    @property
    def pay_fen(self) -> int:
        return self.goods_fen - self.coupon_fen - self.points_fen

    def lines(self) -> list[str]:
        """The money lines of the read-back, with what the customer may reply to change them;
        the plain total when the customer has neither a coupon nor points for this order."""
        if not (self.coupons_usable or self.points_usable or self.points_used):
            return [f"合计 {yuan(self.goods_fen)}，包邮"]
        rows = [f"商品金额 {yuan(self.goods_fen)}"]
        if self.coupon_id is not None:
            more = "「换券」更换，" if self.coupons_usable > 1 else ""
            rows.append(f"优惠券：{self.coupon_label} −{yuan(self.coupon_fen)}"
                        f"（回复{more}「不用券」不使用）")
        elif self.coupons_usable:
            rows.append(f"有 {self.coupons_usable} 张优惠券可用，回复「换券」选择")
        if self.points_used:
            rows.append(f"积分抵现：{self.points_used} 分 −{yuan(self.points_fen)}"
                        "（回复「不用积分」取消）")
        elif self.points_usable:
            rows.append(f"积分 {self.points_balance} 分，本单最多可用 {self.points_usable} 分"
                        f"抵 {yuan(self.points_usable_fen)}"
                        "（回复「用积分」使用）")
        rows.append(f"应付 {yuan(self.pay_fen)}，包邮")
        return rows


def bill(db: Session, openid: str, goods_fen: int, now: datetime, config: dict[str, Any], *,
         coupon: int | str = BEST, points_wanted: int = 0) -> Bill:
    """The bill for `goods_fen` with the coupon chosen (BEST, NO_COUPON or an id) and up to
    `points_wanted` points (never more than the order may take)."""
    usable = coupons.usable(db, openid, goods_fen, now)
    chosen = None
    if coupon == BEST and usable:
        chosen = usable[0]
    elif isinstance(coupon, int):
        chosen = next((pair for pair in usable if pair[0].id == coupon), None)
    coupon_fen = chosen[1] if chosen else 0
    balance = points.balance(db, openid, now)
    limit = points_limit(db, openid, goods_fen - coupon_fen, now, config, balance=balance)
    used = min(max(points_wanted, 0), limit)
    return Bill(
        goods_fen=goods_fen,
        coupon_id=chosen[0].id if chosen else None,
        coupon_label=coupon_text.describe(chosen[0]) if chosen else "",
        coupon_fen=coupon_fen,
        coupons_usable=len(usable),
        points_balance=balance,
        points_usable=limit,
        points_usable_fen=points.value_fen(limit, config),
        points_used=used,
        points_fen=points.value_fen(used, config),
    )


def points_limit(db: Session, openid: str, payable_fen: int, now: datetime,
                 config: dict[str, Any], *, balance: int | None = None) -> int:
    """The most points an order still costing `payable_fen` may take: 积分抵现 is a 青铜
    benefit (below it the balance is shown in 我的会员, not offered here), at most the
    configured share, and WeChat Pay takes no order of 0 fen, so 1 fen is left to pay."""
    limit = points.max_usable(points.spendable(db, openid, now, have=balance), payable_fen,
                              config)
    # the most points worth at most payable − 1 fen (value_fen rounds down)
    return max(min(limit, (payable_fen * points.per_yuan_off(config) - 1) // 100), 0)


def coupon_menu(db: Session, openid: str, goods_fen: int, now: datetime) -> tuple[str, list[int]]:
    """The coupons this order could take, numbered (0 is none), and their ids in that order."""
    usable = coupons.usable(db, openid, goods_fen, now)
    if not usable:
        return "这笔订单没有可用的优惠券。", []
    rows = ["请选择优惠券（回复序号）："]
    for number, (coupon, fen) in enumerate(usable, start=1):
        rows.append(f"{number}. {coupon_text.describe(coupon)}，本单减 {yuan(fen)}")
    rows.append("0. 不使用优惠券")
    return "\n".join(rows), [coupon.id for coupon, _ in usable]


def points_request(text: str) -> int | None:
    """用积分 (all the order may take: a large number) or 用积分 500; None if not that."""
    match = _USE_POINTS.match(text.strip())
    if not match:
        return None
    return int(match.group(1)) if match.group(1) else ALL_POINTS


def place(db: Session, openid: str, items: list[tuple[int, int]], *, address: dict[str, Any],
          coupon_id: int | None, points_used: int, expected_total: int | None, now: datetime,
          config: dict[str, Any], payment_minutes: int, checkout_key: str | None) -> Order:
    """Place the order, redeem its coupon and spend its points in the caller's transaction.

    Raises PriceChanged when what would be charged is not what was shown, CheckoutError when
    the coupon or the points no longer hold, and the shop's OrderError for stock and goods.
    """
    order = orders.place(db, openid, items, address=address, now=now,
                         payment_minutes=payment_minutes, checkout_key=checkout_key)
    try:
        if coupon_id is not None:
            coupons.apply_to_order(db, order, coupon_id, now)
        points_fen = points.value_fen(points_used, config) if points_used > 0 else 0
        if points_fen:
            if points_used > points_limit(db, openid, order.total_fen, now, config):
                raise CheckoutError("本单可用积分有变动")
            points.spend(db, openid, points_used, order.id, now)
            db.execute(update(Order).where(Order.id == order.id)
                       .values(total_fen=Order.total_fen - points_fen, points_used=points_used,
                               points_fen=points_fen)
                       .execution_options(synchronize_session=False))
            db.refresh(order)
    except (coupons.CouponError, points.PointsError) as error:
        raise CheckoutError(str(error)) from None
    if expected_total is not None and order.total_fen != expected_total:
        raise PriceChanged(order.total_fen)
    return order
