"""The order page link and the payment opened with it: every way of placing an order in the
chat (下单, 结算, 抢) ends with the same two lines."""

from __future__ import annotations

from handlers.context import ChatContext
from shop import orders
from shop.wxpay import PayError


def order_link(ctx: ChatContext, number: str) -> str:
    """The order's page, signed so that order numbers cannot be walked through."""
    base = str(ctx.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    token = orders.page_token(str(ctx.config.get("SECRET_KEY") or ""), number)
    return f"{base}/shop/o/{number}?t={token}"


def open_payment(ctx: ChatContext, number: str, total: int, openid: str) -> str:
    """Create the WeChat Pay transaction now, so the order page can pay at once; the words
    that lead to the link."""
    client = ctx.wxpay
    if client is None:
        return "（微信支付尚未开通，请联系客服付款）查看订单："
    try:
        client.jsapi(number, f"微商城订单 {number}", total, openid)
    except PayError as error:
        ctx.log.warning("could not open payment for order %s: %s", number, error)
        return "支付通道繁忙，请稍后在订单页支付："
    return "去支付："
