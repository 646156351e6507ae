"""After the sale: cancel, change the address, confirm receipt, return within 7 days, refund.

A pending order is closed at WeChat Pay before it is cancelled here, so no payment can land
on it afterwards; a paid one is refunded in full, and if the refund is refused the caller's
transaction rolls back (every refusal here is an OrderError), so the order stays as it was and
the customer is sent to customer service instead of losing money.

Returns follow 7天无理由退货: a request within RETURN_DAYS of receipt (the customer's 确认收货,
or AUTO_RECEIVE_DAYS after shipping), refused for the statutory exceptions of
shop/catalog.RETURN_EXCEPTIONS — hygiene goods only once opened. The money goes back only when
the goods have: the merchant approves (the customer is sent the return address, RETURN_ADDRESS),
the customer sends the parcel's tracking number in the chat, the merchant confirms the parcel
arrived, and that refunds. For goods not worth posting back (cheap, perishable) the merchant
may choose 仅退款 instead, refunding at once. Each step is a conditional UPDATE on the request
(two managers clicking at once act once) and a line in the order's history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Boolean, DateTime, Integer, String, false, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import as_utc
from core.db import Base
from shop import catalog, orders, payments
from shop.addresses import Address
from shop.orders import Order, OrderError, OrderEvent
from shop.wxpay import PayError, WxPay

CANCELLABLE = ("pending_payment", "paid")
ADDRESS_CHANGEABLE = ("pending_payment", "paid")
RETURNABLE = ("shipped", "completed")
REFUNDABLE = ("paid", "shipped", "completed")
RETURN_DAYS = 7
AUTO_RECEIVE_DAYS = 10  # the usual 自动确认收货 after shipping

RETURN_STATES = {
    "requested": "待商家处理",
    "approved": "待顾客寄回",
    "returning": "顾客已寄回",
    "refunded": "已退款",
    "rejected": "已拒绝",
}
#: A request still under way: one per order, and a merchant refund answers it.
OPEN_RETURN = ("requested", "approved", "returning")


class ReturnRequest(Base):
    """A customer's 退货退款 request; the order itself changes only when it is refunded."""

    __tablename__ = "shop_return_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    #: The address the customer was sent on approval (kept: RETURN_ADDRESS may change later).
    return_address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: The parcel the customer posted back: shop/carriers.py code ("" if not known) and number.
    return_carrier: Mapped[str] = mapped_column(String(16), default="", server_default="")
    return_tracking_no: Mapped[str] = mapped_column(String(40), default="",
                                                    server_default="")
    sent_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The merchant chose 仅退款: refunded without the goods coming back.
    refund_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


def record_note(db: Session, order: Order, actor: str, note: str, now: datetime) -> None:
    """A change that is not a state change (address, return request) in the order's history."""
    db.add(OrderEvent(order_id=order.id, at=now, from_state=order.state, to_state=order.state,
                      actor=actor, note=note))


def cancel(db: Session, order: Order, client: WxPay | None, *, actor: str) -> str:
    """Cancel `order`; returns what the customer should be told. Raises OrderError."""
    if order.state not in CANCELLABLE:
        raise OrderError(f"订单{orders.STATES[order.state]}，不能取消")
    if order.state == "pending_payment":
        if client is not None:
            try:
                payments.close_all(client, order.number)
            except PayError as error:
                if error.code == "ORDERPAID":
                    raise OrderError("这笔订单刚刚付款成功，请稍后再试") from None
                if error.code != "ORDER_NOT_EXIST":
                    raise OrderError("支付系统繁忙，请稍后再试") from None
        if not orders.transition(db, order, "cancelled", actor=actor, note="顾客取消"):
            raise OrderError("订单状态刚刚变了，请稍后再试")
        return f"订单 {order.number} 已取消。"
    refund(db, order, client, to_state="cancelled", actor=actor, reason="顾客发货前取消",
           refund_no=f"C{order.number}")
    return f"订单 {order.number} 已取消，{order.total_fen / 100:.2f} 元将原路退回。"


#: What a refund's order event note ends with, after its reason (refund_progress reads the
#: reason back from it).
REFUND_NOTE_SUFFIX = "，全额退款"


def refund(db: Session, order: Order, client: WxPay | None, *, actor: str, reason: str,
           refund_no: str, to_state: str = "refunded") -> None:
    """Give the whole amount back through WeChat Pay and move the order (points, tier and
    已售 follow in shop/orders.py). The refund number is fixed per cause, so a retried
    request cannot refund twice: WeChat Pay answers the same refund for the same number."""
    if order.state not in REFUNDABLE:
        raise OrderError(f"订单{orders.STATES[order.state]}，不能退款")
    if not orders.transition(db, order, to_state, actor=actor,
                             note=f"{reason}{REFUND_NOTE_SUFFIX}"):
        raise OrderError("订单状态刚刚变了，请稍后再试")
    if client is None:
        raise OrderError("暂时无法退款，请联系客服")
    try:
        client.refund(payments.paid_trade_no(db, order), refund_no, order.total_fen,
                      order.total_fen, reason[:80])
    except PayError:
        raise OrderError("退款没有成功，请联系客服处理") from None


def merchant_refund(db: Session, order: Order, client: WxPay | None, *, actor: str,
                    reason: str, now: datetime | None = None) -> None:
    """A refund the merchant decides on (a damaged parcel, goodwill): the whole order. A return
    request still waiting is answered by it too, so the customer sees it 已退款."""
    refund(db, order, client, actor=actor, reason=reason, refund_no=f"M{order.number}")
    now = now or datetime.now(UTC)
    db.execute(
        update(ReturnRequest)
        .where(ReturnRequest.order_id == order.id, ReturnRequest.state.in_(OPEN_RETURN))
        .values(state="refunded", decided_at=now, decided_by=actor, note=reason[:200],
                refunded_at=now)
        .execution_options(synchronize_session=False)
    )


def change_address(db: Session, order: Order, address: Address, *, actor: str,
                   now: datetime | None = None) -> None:
    """Ship somewhere else — only while nothing has shipped (decided by the UPDATE itself,
    so a manager shipping at the same moment wins cleanly)."""
    if address.missing:
        raise OrderError("收货信息不完整")
    if order.state not in ADDRESS_CHANGEABLE:
        raise OrderError(f"订单{orders.STATES[order.state]}，不能修改地址")
    now = now or datetime.now(UTC)
    changed = db.execute(
        update(Order)
        .where(Order.id == order.id, Order.state.in_(ADDRESS_CHANGEABLE))
        .values(address=json.dumps(address.as_dict(), ensure_ascii=False))
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise OrderError("订单已发货，不能修改地址")
    db.refresh(order)
    record_note(db, order, actor, f"修改收货地址：{address.one_line()}", now)
    db.flush()


def confirm_receipt(db: Session, order: Order, *, actor: str,
                    now: datetime | None = None) -> None:
    """确认收货: the 7-day return window starts now."""
    if order.state != "shipped":
        raise OrderError(f"订单{orders.STATES[order.state]}，不需要确认收货")
    if not orders.transition(db, order, "completed", actor=actor, note="确认收货", now=now):
        raise OrderError("订单状态刚刚变了，请稍后再试")


def _event_time(db: Session, order_id: int, to_state: str) -> datetime | None:
    return db.scalar(
        select(OrderEvent.at).where(OrderEvent.order_id == order_id,
                                    OrderEvent.to_state == to_state,
                                    OrderEvent.from_state != to_state)
        .order_by(OrderEvent.id.desc()).limit(1)
    )


def receive_overdue(db: Session, now: datetime | None = None,
                    days: int = AUTO_RECEIVE_DAYS) -> list[str]:
    """自动确认收货: shipped orders `days` after shipping are completed (a job runs this)."""
    now = now or datetime.now(UTC)
    done = []
    for order in db.scalars(select(Order).where(Order.state == "shipped")):
        shipped_at = _event_time(db, order.id, "shipped")
        if shipped_at and as_utc(shipped_at) <= now - timedelta(days=days) and \
                orders.transition(db, order, "completed", actor="system",
                                  note="自动确认收货", now=now):
            done.append(order.number)
    return done


def return_problem(db: Session, order: Order, *, opened: bool | None,
                   now: datetime | None = None) -> str | None:
    """Why a 7天无理由 return of `order` is refused (Chinese, for the customer), or None.

    `opened` is what the customer says of the packaging; None when not asked yet — an order
    with hygiene goods needs the answer (see needs_opened_question).
    """
    now = now or datetime.now(UTC)
    if order.state not in RETURNABLE:
        if order.state in CANCELLABLE:
            return "订单还没有发货，可以直接回复「取消订单」"
        return f"订单{orders.STATES[order.state]}，不能申请退货"
    if (pending := pending_return(db, order.id)) is not None:
        if pending.state == "approved":
            return "这笔订单的退货已同意，请把商品寄回后回复快递单号（回复「退货地址」查看地址）"
        return "这笔订单已经申请过退货，正在等待商家处理"
    if order.state == "completed":
        received = _event_time(db, order.id, "completed")
        if received and as_utc(received) + timedelta(days=RETURN_DAYS) < now:
            return f"已超过签收后 {RETURN_DAYS} 天的无理由退货期限"
    for line in order.lines:
        kind = catalog.return_exception(db, line.product_id)
        if kind == "hygiene" and opened is False:
            continue
        if kind:
            why = catalog.RETURN_EXCEPTIONS[kind]
            return f"「{line.product_name}」属于{why}，依法不适用七天无理由退货"
    return None


def needs_opened_question(db: Session, order: Order) -> bool:
    """Whether the order holds goods returnable only unopened (化妆品, 贴身衣物…)."""
    return any(catalog.return_exception(db, line.product_id) == "hygiene"
               for line in order.lines)


def pending_return(db: Session, order_id: int) -> ReturnRequest | None:
    """The order's return request still under way (requested, approved or posted back)."""
    return db.scalar(select(ReturnRequest).where(ReturnRequest.order_id == order_id,
                                                 ReturnRequest.state.in_(OPEN_RETURN)))


def request_return(db: Session, order: Order, *, reason: str, opened: bool | None,
                   now: datetime | None = None) -> ReturnRequest:
    """File a return request after checking return_problem; raises OrderError."""
    now = now or datetime.now(UTC)
    if problem := return_problem(db, order, opened=opened, now=now):
        raise OrderError(problem)
    request = ReturnRequest(order_id=order.id, openid=order.openid, state="requested",
                            reason=reason[:200], created_at=now, decided_by="", note="")
    db.add(request)
    record_note(db, order, order.openid, f"申请退货退款：{reason[:60]}", now)
    db.flush()
    return request


def return_requests(db: Session, state: str = "requested", limit: int = 200
                    ) -> list[ReturnRequest]:
    query = select(ReturnRequest).order_by(ReturnRequest.id.desc()).limit(limit)
    if state in RETURN_STATES:
        query = query.where(ReturnRequest.state == state)
    return list(db.scalars(query))
