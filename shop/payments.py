"""Payments: a WeChat Pay notification marks an order paid exactly once — or refunds it.

WeChat Pay retries a notification until it is acknowledged, may send it twice, and may deliver
it after the order was cancelled here (the customer paid in the last second). So:
- one Payment row per transaction_id (unique): a repeat is acknowledged and changes nothing;
- the amount must equal the order's total, else nothing is marked paid and it is logged loudly;
- a payment for a cancelled order re-reserves the stock if it is still there, otherwise it is
  refunded at once — never silently marked paid (a known bug of open-source malls);
- a second payment for an order already paid is refunded.
An unpaid order past its deadline is queried at WeChat Pay and closed there before its stock
is released, so a payment cannot slip in after the release.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import Base
from shop import orders
from shop.catalog import Sku
from shop.orders import Order
from shop.wxpay import PayError, WxPay

log = logging.getLogger(__name__)

#: An order can be paid in WeChat (JSAPI, out_trade_no = the order number) or by scanning its
#: QR code (Native). WeChat Pay refuses a second transaction type under one out_trade_no
#: (201 商户订单号重复), so the Native one is the order number plus this suffix.
NATIVE_SUFFIX = "N"


def native_trade_no(number: str) -> str:
    return number + NATIVE_SUFFIX


def trade_nos(number: str) -> tuple[str, str]:
    """Every WeChat Pay transaction an order may have: asked about and closed together."""
    return number, native_trade_no(number)


def order_number_of(out_trade_no: str) -> str:
    return out_trade_no.removesuffix(NATIVE_SUFFIX)


def paid_trade_no(db: Session, order: Order) -> str:
    """The transaction that paid `order` (JSAPI or Native): the one a refund must name."""
    found = db.scalar(select(Payment.out_trade_no).where(
        Payment.order_id == order.id, Payment.outcome.in_(("paid", "reserved_again"))
    ).order_by(Payment.id.desc()).limit(1))
    return found or order.number


def close_all(client: WxPay, number: str) -> None:
    """Close every transaction of an unpaid order; raises PayError("ORDERPAID") if one was
    paid meanwhile. Transactions that were never opened are fine."""
    for trade_no in trade_nos(number):
        try:
            client.close(trade_no)
        except PayError as error:
            if error.code != "ORDER_NOT_EXIST":
                raise


class Payment(Base):
    __tablename__ = "shop_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("shop_orders.id"), index=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), index=True)
    transaction_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(24))  # paid | reserved_again | refunded | …
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: When the customer was told (支付成功, or the refund). Set by `claim_announcement` after
    #: the payment's commit: a process killed in between leaves it empty, and WeChat Pay's
    #: retry of the same notification (a duplicate) announces it then.
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


def _reserve_again(db: Session, order: Order) -> bool:
    """Take the stock of a cancelled order again, all lines or none.

    Lines already taken are given back by hand when a later one is short: a SAVEPOINT would
    do it, but pysqlite turns a released savepoint into a commit. An order that used a
    coupon, points or a flash-sale unit is never revived: the cancellation gave those back
    and another order may hold them now, so its late payment is refunded instead.
    """
    if order.coupon_id or order.points_used or any(
            line.flash_item_id is not None for line in order.lines):
        return False
    taken_lines = []
    for line in sorted(order.lines, key=lambda line: line.sku_id):
        taken = db.execute(
            update(Sku).where(Sku.id == line.sku_id, Sku.stock >= line.quantity)
            .values(stock=Sku.stock - line.quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            for done in taken_lines:
                db.execute(update(Sku).where(Sku.id == done.sku_id)
                           .values(stock=Sku.stock + done.quantity)
                           .execution_options(synchronize_session=False))
            return False
        taken_lines.append(line)
    return True


def on_transaction(db: Session, data: dict[str, Any], client: WxPay | None,
                   now: datetime | None = None) -> str:
    """Apply one decrypted TRANSACTION notification; returns what happened (for logs/tests)."""
    now = now or datetime.now(UTC)
    if data.get("trade_state") != "SUCCESS":
        return "ignored"
    number = str(data.get("out_trade_no", ""))
    transaction_id = str(data.get("transaction_id", ""))
    amount = int((data.get("amount") or {}).get("total", -1))
    if db.scalar(select(Payment).where(Payment.transaction_id == transaction_id)):
        return "duplicate"
    order = db.scalar(select(Order).where(Order.number == order_number_of(number)))
    if order is None:
        log.error("payment %s for unknown order %s", transaction_id, number)
        outcome = "unknown_order"
    elif amount != order.total_fen:
        log.error("payment %s for order %s: amount %s fen, order total %s fen — not marked paid",
                  transaction_id, number, amount, order.total_fen)
        outcome = "amount_mismatch"
    elif order.state == "pending_payment":
        orders.transition(db, order, "paid", actor="wxpay", note=transaction_id, now=now)
        outcome = "paid"
    elif order.state == "cancelled" and _reserve_again(db, order):
        orders.transition(db, order, "paid", actor="wxpay", now=now,
                          note=f"{transaction_id}：取消后到账，库存仍有，已重新占用")
        outcome = "reserved_again"
    else:
        outcome = _refund(order, number, transaction_id, amount, client)
    db.add(Payment(order_id=order.id if order else None, out_trade_no=number,
                   transaction_id=transaction_id, amount_fen=amount, outcome=outcome, at=now))
    try:
        db.flush()
    except IntegrityError:
        # The same notification, applied by another worker a moment ago: the caller's
        # transaction must roll back (it does, on this exception) and acknowledge.
        raise DuplicatePayment(transaction_id) from None
    return outcome


#: Outcomes the customer hears of (the storefront's notify view words them).
ANNOUNCED = ("paid", "reserved_again", "refunded")


@dataclass(frozen=True)
class Announcement:
    outcome: str
    out_trade_no: str
    openid: str


def claim_announcement(db: Session, transaction_id: str,
                       now: datetime | None = None) -> Announcement | None:
    """What to tell the customer about this transaction, to the one caller that may tell it.

    A conditional UPDATE marks the payment announced, so concurrent or repeated notifications
    announce once; None when it was announced already or there is nothing to say.
    """
    payment = db.scalar(select(Payment).where(Payment.transaction_id == transaction_id))
    if payment is None or payment.outcome not in ANNOUNCED or payment.order_id is None:
        return None
    claimed = db.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.announced_at.is_(None))
        .values(announced_at=now or datetime.now(UTC))
        .execution_options(synchronize_session=False)
    ).rowcount
    order = db.get(Order, payment.order_id)
    if claimed != 1 or order is None:
        return None
    return Announcement(payment.outcome, payment.out_trade_no, order.openid)


class DuplicatePayment(Exception):
    """This transaction was recorded concurrently; roll back and treat as a repeat."""


def _refund(order: Order, number: str, transaction_id: str, amount: int,
            client: WxPay | None) -> str:
    why = "订单已取消且库存不足" if order.state == "cancelled" else "订单已有一笔支付"
    if client is None:
        log.error("payment %s for order %s must be refunded (%s) but payment is not set up",
                  transaction_id, number, why)
        return "refund_pending"
    try:
        client.refund(number, f"R{transaction_id[-20:]}", amount, amount, why)
    except PayError as error:
        log.error("refund of payment %s for order %s failed: %s", transaction_id, number, error)
        return "refund_pending"
    log.warning("payment %s for order %s refunded: %s", transaction_id, number, why)
    return "refunded"


def expire_unpaid(sessions: sessionmaker, client: WxPay | None,
                  now: datetime | None = None) -> list[str]:
    """Orders past their deadline: paid after all → marked paid; else closed, then released.

    Each order gets its own transaction, and WeChat Pay is asked outside of it, so one order
    WeChat Pay cannot answer for delays only itself and never holds the database lock.
    """
    now = now or datetime.now(UTC)
    with sessions() as db:
        due = list(db.scalars(select(Order.id).where(Order.state == "pending_payment",
                                                     Order.pay_by <= now)))
    done = []
    for order_id in due:
        with sessions() as db:
            number = db.get(Order, order_id).number
        paid_state = None
        if client is not None:
            try:
                paid_state = _paid_meanwhile(client, number)
                if paid_state is None:
                    close_all(client, number)
            except PayError as error:
                log.warning("order %s: WeChat Pay query/close failed (%s); retrying later",
                            number, error)
                continue
        try:
            with sessions.begin() as db:
                order = db.get(Order, order_id)
                if paid_state is not None:
                    done.append(f"{number}:{on_transaction(db, paid_state, client, now)}")
                elif order.state == "pending_payment" and orders.transition(
                    db, order, "cancelled", actor="system", note="超时未支付", now=now
                ):
                    done.append(f"{number}:released")
        except DuplicatePayment:
            done.append(f"{number}:duplicate")
    return done


def _paid_meanwhile(client: WxPay, number: str) -> dict[str, Any] | None:
    """The order's transaction that WeChat Pay says was paid (its notification was lost)."""
    for trade_no in trade_nos(number):
        try:
            answer = client.query(trade_no)
        except PayError as error:
            if error.code == "ORDER_NOT_EXIST":
                continue
            raise
        if answer.get("trade_state") == "SUCCESS":
            return answer
    return None
