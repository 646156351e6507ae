"""The manager's after-sale and customer pages: return requests, refunds, customers.

Kept apart from shop/admin_views.py (catalog and shipping) so each file owns one job. The
rules are in shop/after_sale.py, shop/returns.py, shop/members.py and shop/tiers.py; these
views decide nothing themselves. Every refund goes through WeChat Pay first and the customer
is told in the chat afterwards, as at each step of a return (approved with the address,
refunded, rejected).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import console_blueprint
from core.money import yuan
from shop import after_sale, carriers, members, order_status, returns, tiers
from shop.addresses import from_dict
from shop.after_sale import RETURN_STATES, ReturnRequest
from shop.orders import STATES, Order, OrderError
from shop.returns_config import return_address

bp = console_blueprint("shop_service", __name__, "/admin/shop", template_folder="templates")


def _pay_client():
    return getattr(current_app.extensions["storage"], "wxpay", None)


def _tell(openid: str, text: str) -> None:
    current_app.extensions["outbox"].send(openid, text)


def _tiers() -> tiers.Tiers:
    return tiers.tiers_from(current_app.config.get("MEMBER_TIERS"))


@bp.get("/returns")
@requires("orders")
def list_returns():
    """Return requests by step, waiting ones first: each with its order, the parcel coming
    back and the actions that step allows."""
    state = request.args.get("state", "requested")
    rows = []
    db = get_db()
    for item in after_sale.return_requests(db, state):
        rows.append((item, db.get(Order, item.order_id)))
    return render_template("shop_service/returns.html", rows=rows, state=state,
                           states=RETURN_STATES, order_states=STATES, yuan=yuan,
                           counts=returns.counts(db), label=carriers.label,
                           return_address=return_address(current_app.config),
                           notice=request.args.get("notice", ""),
                           error=request.args.get("error", ""))


@bp.post("/returns/<int:request_id>/<any(approve, refund_only, received, reject):decision>")
@requires("orders")
def decide_return(request_id: int, decision: str):
    """One step of a return: approve (the customer is sent the address), 仅退款, the goods
    received (refund), or reject with a reason."""
    db = get_db()
    item = get_or_404(ReturnRequest, request_id)
    was = item.state  # back to the queue the manager is working through
    note = request.form.get("note", "").strip()[:200]
    actor = current_account().username
    address = return_address(current_app.config)
    try:
        if decision == "approve":
            order = returns.approve(db, item, return_address=address, actor=actor)
        elif decision == "refund_only":
            order = returns.refund_without_return(db, item, _pay_client(), actor=actor)
        elif decision == "received":
            order = returns.receive(db, item, _pay_client(), actor=actor)
        else:
            order = returns.reject(db, item, actor=actor, note=note)
    except OrderError as error:
        db.rollback()
        return redirect(url_for("shop_service.list_returns", state=was, error=str(error)))
    audit_log.record(db, f"return.{decision}", actor=current_account(), target=order.number,
                     note=note, address=client_address())
    db.commit()
    told, notice = {
        "approve": (order_status.return_approved(order, address),
                    f"已同意订单 {order.number} 退货，退货地址已发给顾客"),
        "refund_only": (order_status.refunded_without_return(order),
                        f"订单 {order.number} 已仅退款"),
        "received": (order_status.return_refunded(order), f"订单 {order.number} 已退款"),
        "reject": (order_status.return_rejected(order, note),
                   f"已拒绝订单 {order.number} 的退货申请"),
    }[decision]
    _tell(order.openid, told)
    return redirect(url_for("shop_service.list_returns", state=was, notice=notice))


@bp.post("/orders/<int:order_id>/refund")
@requires("orders")
def refund_order(order_id: int):
    """A refund the merchant decides on (a damaged parcel, a goodwill gesture): whole order."""
    db = get_db()
    order = get_or_404(Order, order_id)
    reason = request.form.get("reason", "").strip()[:80]
    if not reason:
        return redirect(url_for("shop_admin.show_order", order_id=order_id,
                                error="请填写退款原因"))
    try:
        after_sale.merchant_refund(db, order, _pay_client(), actor=current_account().username,
                                   reason=reason)
    except OrderError as error:
        db.rollback()
        return redirect(url_for("shop_admin.show_order", order_id=order_id, error=str(error)))
    audit_log.record(db, "order.refund", actor=current_account(), target=order.number,
                     reason=reason, address=client_address())
    db.commit()
    _tell(order.openid, order_status.refunded(order, reason))
    return redirect(url_for("shop_admin.show_order", order_id=order_id))


@bp.get("/customers")
@requires("customers")
def list_customers():
    """Customers by spend, filterable by tier or openid: who the segments will be made of."""
    tier = request.args.get("tier", "")
    search = request.args.get("q", "").strip()[:64]
    table = _tiers()
    db = get_db()
    level = table.level_of(tier) if tier else None
    unknown_tier = bool(tier) and level is None
    found = [] if unknown_tier else members.listing(db, level=level, search=search)
    balances = members.points_balances(db, [c.openid for c in found], datetime.now(UTC))
    rows = [(c, table.name(c.tier_level), balances.get(c.openid, 0)) for c in found]
    return render_template("shop_service/customers.html", rows=rows, tier=tier, q=search,
                           tiers=table.all_names(), yuan=yuan,
                           debt_note=members.POINTS_DEBT_NOTE)


@bp.get("/customers/<openid>")
@requires("customers")
def show_customer(openid: str):
    """Who the customer is: tier since when (and a downgrade waiting for next month), points
    with what expires and their history, orders and returns."""
    db = get_db()
    customer = members.get(db, openid[:64])
    if customer is None:
        abort(404)
    now = datetime.now(UTC)
    placed = list(db.scalars(select(Order).where(Order.openid == customer.openid)
                             .order_by(Order.id.desc()).limit(50)))
    returns = list(db.scalars(select(ReturnRequest).where(ReturnRequest.openid == customer.openid)
                              .order_by(ReturnRequest.id.desc()).limit(20)))
    last = from_dict(placed[0].address_fields).one_line() if placed else ""
    points = members.points_summary(db, customer.openid, now, limit=50)
    return render_template("shop_service/customer.html", customer=customer,
                           standing=tiers.standing(db, customer.openid, now, _tiers(),
                                                   points=points.balance),
                           points=points, orders=placed, returns=returns, states=STATES,
                           return_states=RETURN_STATES, yuan=yuan, last_address=last,
                           debt_note=members.POINTS_DEBT_NOTE)
