"""Coupons in the chat: 我的优惠券, and 领券 / 兑换 <code>.

Choosing a coupon at checkout belongs to the buying flow (handlers/order.py); the rules are in
promotions/coupons.py and its coupon_* modules.
"""

from __future__ import annotations

import re

from bot.inbound import Inbound
from bot.router import Router
from core.text import normalize
from handlers import commands
from handlers.context import ChatContext
from promotions import coupon_issuing, coupon_text, coupon_usage, coupons

router = Router("coupons")

#: 优惠券 alone is not a command (at the read-back it means 换券), so it is only heard here.
MY_COUPONS = (*commands.MY_COUPONS, "优惠券")
#: 领券 takes anything after it (and explains a bad code); 兑换 only a code, so that
#: 兑换积分 and other questions starting with 兑换 go on to the FAQ.
CLAIM = re.compile(r"^(?:(?:领取优惠券|领优惠券|领券)\s*[:：]?\s*(.*)"
                   r"|(?:兑换码|兑换券|兑换)\s*[:：]?\s*([A-Za-z0-9_\-]{1,200}))$", re.DOTALL)
#: A code is at most 20 characters; anything much longer is not one.
TYPED_MAX = 40


@router.text(*MY_COUPONS)
@router.click("MENU_COUPONS")
def show_coupons(msg: Inbound, ctx: ChatContext) -> str:
    """The customer's usable coupons first, then those used or expired lately."""
    with ctx.db() as db:
        return coupon_text.summary(coupon_usage.for_customer(db, msg.openid, ctx.now()))


@router.regex(CLAIM.pattern, re.DOTALL)
def claim(msg: Inbound, ctx: ChatContext) -> str:
    """领券 NEW2026: the code's coupons (a bundle gives several), or why not."""
    typed = CLAIM.match(normalize(msg.text or ""))
    code = (typed.group(1) or typed.group(2) or "").strip() if typed else ""
    if not code:
        return "请在「领券」后面加上券码，例如：领券 VIP88"
    if len(code) > TYPED_MAX:
        return "券码不存在，请核对后重新发送。"
    try:
        with ctx.db() as db:
            given = coupon_issuing.claim_code(db, msg.openid, code, ctx.now())
            text = coupon_text.gift_text(given)
    except coupons.CouponError as error:
        return f"{error}。"
    return f"领取成功！\n{text}\n下单时会自动为你选用最划算的券。回复「我的优惠券」查看。"
