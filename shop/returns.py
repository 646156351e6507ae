"""A return request as the merchant runs it, one step at a time.

    requested ─approve→ approved ─customer sends the number→ returning ─goods arrived→ refunded
        │                  └──────────────goods arrived without a number──────────────↗
        ├─仅退款 (from requested or approved)→ refunded, nothing posted back
        └─reject with a reason (from any open step)→ rejected

Money goes back only when the goods have, unless the merchant chooses 仅退款 for goods not
worth posting (cheap, perishable). Every step is one conditional UPDATE from the steps it may
follow, so two managers clicking at once act once, and a customer's number arriving after the
merchant gave up on the parcel changes nothing. A refund refused by WeChat Pay raises
OrderError and the caller's rollback puts the request back where it was.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shop import carriers
from shop.after_sale import OPEN_RETURN, RETURN_STATES, ReturnRequest, record_note, refund
from shop.orders import Order, OrderError
from shop.wxpay import WxPay

#: Reasons written into the order's history and WeChat Pay's refund; 退款进度 shows them.
REFUND_RETURNED = "七天无理由退货，商家已收到退回的商品"
REFUND_ONLY = "七天无理由退货，仅退款（无需寄回商品）"


def _move(db: Session, request: ReturnRequest, from_states: tuple[str, ...],
          **values: Any) -> Order:
    """Move the request if it is still at one of `from_states`; its order, or OrderError."""
    moved = db.execute(
        update(ReturnRequest)
        .where(ReturnRequest.id == request.id, ReturnRequest.state.in_(from_states))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.refresh(request)
    if moved != 1:
        if request.state in ("refunded", "rejected"):
            raise OrderError("这条退货申请已经处理过了")
        raise OrderError(f"这条退货申请现在是「{RETURN_STATES[request.state]}」，请刷新后再试")
    return db.get(Order, request.order_id)


def approve(db: Session, request: ReturnRequest, *, return_address: str, actor: str,
            now: datetime | None = None) -> Order:
    """Agree to the return: the customer is to post the goods to `return_address`."""
    if not return_address:
        raise OrderError("还没有设置退货地址（RETURN_ADDRESS），顾客无处寄回；"
                         "可以选择「仅退款」或拒绝")
    now = now or datetime.now(UTC)
    order = _move(db, request, ("requested",), state="approved", decided_at=now,
                  decided_by=actor, return_address=return_address[:200])
    record_note(db, order, actor, f"同意退货，请顾客寄回：{return_address[:120]}", now)
    db.flush()
    return order


def refund_without_return(db: Session, request: ReturnRequest, client: WxPay | None, *,
                          actor: str, now: datetime | None = None) -> Order:
    """仅退款: refund now and let the customer keep the goods (the merchant's explicit choice)."""
    now = now or datetime.now(UTC)
    order = _move(db, request, ("requested", "approved"), state="refunded", decided_at=now,
                  decided_by=actor, refunded_at=now, refund_only=True)
    refund(db, order, client, actor=actor, reason=REFUND_ONLY, refund_no=f"T{order.number}")
    db.flush()
    return order


def record_parcel(db: Session, request: ReturnRequest, carrier_code: str, number: str, *,
                  now: datetime | None = None) -> Order:
    """The customer posted the goods back; a second number sent corrects the first."""
    now = now or datetime.now(UTC)
    order = _move(db, request, ("approved", "returning"), state="returning",
                  return_carrier=carrier_code, return_tracking_no=number[:40], sent_back_at=now)
    parcel = carriers.label(carrier_code, number)
    record_note(db, order, request.openid, f"顾客寄回退货：{parcel}", now)
    db.flush()
    return order


def record_sent(db: Session, openid: str, text: str) -> tuple[Order, str] | None:
    """A tracking number the customer sent, recorded on the return waiting for it; returns the
    order and the parcel's label (顺丰速运 SF…).

    None when no return waits for a parcel (the caller answers the text as any other); while
    one waits, a text that is no carrier's number raises TrackingError, saying why.
    """
    request = awaiting_parcel(db, openid)
    if request is None:
        return None
    carrier, number = carriers.read_sent(text)
    code = carrier.code if carrier else ""
    return record_parcel(db, request, code, number), carriers.label(code, number)


def receive(db: Session, request: ReturnRequest, client: WxPay | None, *, actor: str,
            now: datetime | None = None) -> Order:
    """The goods came back (with or without the customer's number): refund the whole order."""
    now = now or datetime.now(UTC)
    order = _move(db, request, ("approved", "returning"), state="refunded", decided_by=actor,
                  refunded_at=now)
    refund(db, order, client, actor=actor, reason=REFUND_RETURNED, refund_no=f"T{order.number}")
    db.flush()
    return order


def reject(db: Session, request: ReturnRequest, *, actor: str, note: str,
           now: datetime | None = None) -> Order:
    """Refuse the return with a reason the customer reads (the goods were used, never came)."""
    note = note.strip()
    if not note:
        raise OrderError("拒绝时请写明原因，顾客会看到")
    now = now or datetime.now(UTC)
    order = _move(db, request, OPEN_RETURN, state="rejected", decided_at=now, decided_by=actor,
                  note=note[:200])
    record_note(db, order, actor, f"拒绝退货申请：{note[:60]}", now)
    db.flush()
    return order


def awaiting_parcel(db: Session, openid: str) -> ReturnRequest | None:
    """The customer's approved return a tracking number they send belongs to: the oldest one
    still without a number, else the latest already posted (a correction)."""
    waiting = db.scalar(select(ReturnRequest).where(
        ReturnRequest.openid == openid, ReturnRequest.state == "approved"
    ).order_by(ReturnRequest.id).limit(1))
    return waiting or db.scalar(select(ReturnRequest).where(
        ReturnRequest.openid == openid, ReturnRequest.state == "returning"
    ).order_by(ReturnRequest.id.desc()).limit(1))


def counts(db: Session) -> dict[str, int]:
    """Requests per state, for the console's tabs (every state present)."""
    found = dict.fromkeys(RETURN_STATES, 0)
    query = select(ReturnRequest.state, func.count()).group_by(ReturnRequest.state)
    for state, count in db.execute(query):
        found[state] = count
    return found
