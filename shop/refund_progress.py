"""退款进度: every refund a customer had, whatever caused it, and each return under way.

A refund happens in several places — a paid order cancelled before shipping, a merchant's
refund from the console, a return, a payment WeChat Pay delivered for an order already closed
(shop/payments.py) — so this reads them where they are recorded, the order's history and the
payments, rather than from the return requests alone. A customer whose cancelled order was
refunded is then not told "您没有退货申请".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.clock import as_utc, shanghai_text
from core.money import yuan
from shop import carriers
from shop.after_sale import REFUND_NOTE_SUFFIX, ReturnRequest
from shop.carriers import CARRIERS
from shop.orders import COUNTED_SOLD, Order, OrderEvent
from shop.payments import Payment

NONE = "您没有退款或退货申请。需要退货请回复「退货」。"
STEPS = ("提交申请", "商家同意", "寄回商品", "商家收货", "退款")
STEPS_DONE = {"requested": 1, "approved": 2, "returning": 3}


def text(db: Session, openid: str, limit: int = 5) -> str:
    """The customer's latest refunds and returns, newest first, one paragraph each."""
    entries = [*_refunds(db, openid, limit), *_returns(db, openid, limit),
               *_payment_refunds(db, openid, limit)]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    return "\n\n".join(line for _, line in entries[:limit]) or NONE


def _when(at: datetime | None) -> str:
    return shanghai_text(at, "%m-%d %H:%M")


def _refunds(db: Session, openid: str, limit: int) -> list[tuple[datetime, str]]:
    """Refunds through shop/after_sale.refund: the order moved to 已退款, or was cancelled
    after it was paid (the only way a paid order is cancelled)."""
    query = (
        select(OrderEvent, Order).join(Order, Order.id == OrderEvent.order_id)
        .where(Order.openid == openid, or_(
            OrderEvent.to_state == "refunded",
            (OrderEvent.to_state == "cancelled") & OrderEvent.from_state.in_(COUNTED_SOLD),
        ))
        .order_by(OrderEvent.id.desc()).limit(limit)
    )
    found = []
    for event, order in db.execute(query):
        cause = event.note.removesuffix(REFUND_NOTE_SUFFIX) or "退款"
        found.append((as_utc(event.at), f"订单 {order.number}：{yuan(order.total_fen)} 已原路退回"
                                        f"（{cause}），{_when(event.at)}"))
    return found


def _returns(db: Session, openid: str, limit: int) -> list[tuple[datetime, str]]:
    """Return requests not refunded yet (a refunded one is told by its refund)."""
    query = (
        select(ReturnRequest, Order).join(Order, Order.id == ReturnRequest.order_id)
        .where(ReturnRequest.openid == openid, ReturnRequest.state != "refunded")
        .order_by(ReturnRequest.id.desc()).limit(limit)
    )
    found = []
    for request, order in db.execute(query):
        latest = max(as_utc(at) for at in (request.created_at, request.decided_at,
                                           request.sent_back_at) if at)
        found.append((latest, return_step(request, order)))
    return found


def return_step(request: ReturnRequest, order: Order) -> str:
    """Where one return stands and what the customer is to do next."""
    head = f"订单 {order.number}（{yuan(order.total_fen)}）"
    if request.state == "rejected":
        why = f"：{request.note}" if request.note else ""
        return f"{head}退货申请未通过{why}。如有疑问请回复「客服」。"
    done = STEPS_DONE[request.state]
    trail = " → ".join(f"✓{step}" if n < done else f"【{step}】" if n == done else step
                       for n, step in enumerate(STEPS))
    if request.state == "requested":
        now = f"退货申请已提交（{_when(request.created_at)}），等待商家处理。"
    elif request.state == "approved":
        now = (f"商家已同意退货，请将商品寄回：\n{request.return_address}\n"
               f"寄出后直接回复快递单号，例如：顺丰 {CARRIERS[0].example}")
    else:
        parcel = carriers.label(request.return_carrier, request.return_tracking_no)
        now = f"退货已寄回（{parcel}），商家确认收货后原路退款。"
    return f"{head}{now}\n{trail}"


def _payment_refunds(db: Session, openid: str, limit: int) -> list[tuple[datetime, str]]:
    """Payments WeChat Pay delivered for an order already closed or paid, given back by
    shop/payments.py on arrival (or waiting for a person when that refund failed)."""
    query = (
        select(Payment, Order).join(Order, Order.id == Payment.order_id)
        .where(Order.openid == openid, Payment.outcome.in_(("refunded", "refund_pending")))
        .order_by(Payment.id.desc()).limit(limit)
    )
    found = []
    for payment, order in db.execute(query):
        amount = yuan(payment.amount_fen)
        if payment.outcome == "refunded":
            line = (f"订单 {order.number}：一笔 {amount} 的付款（订单已关闭或已付过款）"
                    f"已原路退回，{_when(payment.at)}")
        else:
            line = (f"订单 {order.number}：一笔 {amount} 的付款（订单已关闭或已付过款）"
                    "正在等待退回，我们会尽快处理，也可以回复「客服」。")
        found.append((as_utc(payment.at), line))
    return found
