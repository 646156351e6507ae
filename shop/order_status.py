"""What a customer is told about their own orders in the chat: the list, the parcel, a cancel,
and the merchant's decisions sent from the console (shipped, refunded, each step of a return).
退款进度 is shop/refund_progress.py.

No Flask and no WeChat: handlers/order.py sends these texts as they are.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.money import yuan
from shop.after_sale import CANCELLABLE, OPEN_RETURN, ReturnRequest
from shop.carriers import CARRIERS, shipment_label
from shop.orders import STATES, Order

NO_ORDERS = "您还没有订单。回复「逛逛」看看吧～"


def latest(db: Session, openid: str, states: tuple[str, ...] = ()) -> Order | None:
    """The customer's newest order, of one of `states` if given."""
    query = select(Order).where(Order.openid == openid)
    if states:
        query = query.where(Order.state.in_(states))
    return db.scalar(query.order_by(Order.id.desc()).limit(1))


def recent(db: Session, openid: str, limit: int = 5) -> str:
    """我的订单: the latest orders with their state, total and items."""
    query = select(Order).where(Order.openid == openid).order_by(Order.id.desc()).limit(limit)
    found = list(db.scalars(query))
    returning = set(db.scalars(select(ReturnRequest.order_id).where(
        ReturnRequest.order_id.in_([o.id for o in found]), ReturnRequest.state.in_(OPEN_RETURN))))
    lines = [
        f"{n}. {o.number} {STATES[o.state]}{'（退货申请中）' if o.id in returning else ''}"
        f" {yuan(o.total_fen)}\n   "
        + "、".join(f"{line.product_name}×{line.quantity}" for line in o.lines)
        for n, o in enumerate(found, start=1)
    ]
    return "您最近的订单：\n" + "\n".join(lines) if lines else NO_ORDERS


def parcel(db: Session, openid: str) -> str:
    """快递到哪了: the latest order's shipping state and tracking number."""
    order = latest(db, openid)
    if order is None:
        return NO_ORDERS
    if order.state == "shipped":
        return f"订单 {order.number} 已发货：{shipment_label(order)}。可在快递公司查询最新位置。"
    if order.state == "paid":
        return f"订单 {order.number} 已付款，正在备货，发货后会第一时间通知您。"
    return f"订单 {order.number} 当前状态：{STATES[order.state]}。"


def cancellable(db: Session, openid: str) -> tuple[int | None, str]:
    """(the order that 取消订单 would cancel, the question to ask), or (None, why not)."""
    order = latest(db, openid, CANCELLABLE)
    if order is None:
        return None, "没有可以取消的订单（已发货的订单请回复「客服」申请退货）。"
    refund = "，已付款项将原路退回" if order.state == "paid" else ""
    summary = f"{order.number}（{STATES[order.state]} {yuan(order.total_fen)}）"
    question = f"确定取消订单 {summary} 吗{refund}？\n回复「确认取消」继续，回复其他内容放弃。"
    return order.id, question


def shipped(order: Order) -> str:
    return f"您的订单 {order.number} 已发货：{shipment_label(order)}。请留意查收。"


def return_approved(order: Order, return_address: str) -> str:
    """Sent on approval: where to post the goods, and that the number comes back here."""
    return (f"您的退货申请已通过（订单 {order.number}）。请将商品寄回：\n{return_address}\n"
            f"寄出后请直接回复快递单号（例如：顺丰 {CARRIERS[0].example}），"
            f"商家收到退货后 {yuan(order.total_fen)} 原路退回。回复「退款进度」随时查看。")


def parcel_recorded(order: Order, label: str) -> str:
    return (f"已记下订单 {order.number} 的退货快递：{label}。商家收到后会原路退款，"
            "回复「退款进度」查看。如单号有误，直接发送正确的单号即可。")


def return_refunded(order: Order) -> str:
    return (f"商家已收到您退回的商品，订单 {order.number} 的 {yuan(order.total_fen)}"
            " 已原路退回，请留意微信支付通知。")


def refunded_without_return(order: Order) -> str:
    return (f"您的退货申请已通过，商品无需寄回，订单 {order.number} 的 {yuan(order.total_fen)}"
            " 已原路退回，请留意微信支付通知。")


def return_rejected(order: Order, reason: str) -> str:
    return f"很抱歉，订单 {order.number} 的退货申请未通过：{reason}。如有疑问请回复「客服」。"


def refunded(order: Order, reason: str) -> str:
    return f"订单 {order.number} 已退款 {yuan(order.total_fen)}（{reason}），款项将原路退回。"
