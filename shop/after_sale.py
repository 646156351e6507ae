"""After the sale: cancelling before shipping (stock back, money back).

A pending order is closed at WeChat Pay before it is cancelled here, so no payment can land
on it afterwards; a paid one is refunded in full, and if the refund is refused the order
stays as it was (the customer is sent to customer service instead of losing money).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from shop import orders
from shop.orders import Order, OrderError
from shop.wxpay import PayError, WxPay

CANCELLABLE = ("pending_payment", "paid")


def cancel(db: Session, order: Order, client: WxPay | None, *, actor: str) -> str:
    """Cancel `order`; returns what the customer should be told. Raises OrderError."""
    if order.state not in CANCELLABLE:
        raise OrderError(f"订单{orders.STATES[order.state]}，不能取消")
    if order.state == "pending_payment":
        if client is not None:
            try:
                client.close(order.number)
            except PayError as error:
                if error.code == "ORDERPAID":
                    raise OrderError("这笔订单刚刚付款成功，请稍后再试") from None
                if error.code != "ORDER_NOT_EXIST":
                    raise OrderError("支付系统繁忙，请稍后再试") from None
        if not orders.transition(db, order, "cancelled", actor=actor, note="顾客取消"):
            raise OrderError("订单状态刚刚变了，请稍后再试")
        return f"订单 {order.number} 已取消。"
    if not orders.transition(db, order, "cancelled", actor=actor, note="顾客取消，全额退款"):
        raise OrderError("订单状态刚刚变了，请稍后再试")
    if client is None:
        raise OrderError("暂时无法退款，请联系客服")
    try:
        client.refund(order.number, f"C{order.number}", order.total_fen, order.total_fen,
                      "顾客发货前取消")
    except PayError:
        raise OrderError("退款没有成功，请联系客服处理") from None
    return f"订单 {order.number} 已取消，{order.total_fen / 100:.2f} 元将原路退回。"
