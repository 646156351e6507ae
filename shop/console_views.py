"""The manager's shop pages in the console: orders (ship, see history) and products (stock,
shelf). Shipping tells the customer through the customer-service API."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.console import audit_log
from bot.console.auth import client_address, current_account, get_db, get_or_404, requires
from bot.console.shell import console_blueprint
from content_audit import gate, live_screener
from shop import orders
from shop.addresses import from_dict
from shop.catalog import Product, Sku
from shop.money import yuan
from shop.orders import STATES, Order, OrderError

bp = console_blueprint("shop_admin", __name__, "/admin/shop", template_folder="templates")


@bp.get("/orders")
@requires("orders")
def list_orders():
    """Orders newest first, filterable by state; paid ones are waiting to be shipped."""
    state = request.args.get("state", "paid")
    query = select(Order).order_by(Order.id.desc()).limit(200)
    if state in STATES:
        query = query.where(Order.state == state)
    rows = list(get_db().scalars(query))
    return render_template("shop_admin/orders.html", rows=rows, state=state, states=STATES,
                           yuan=yuan, notice=request.args.get("notice", ""))


@bp.get("/orders/<int:order_id>")
@requires("orders")
def show_order(order_id: int):
    order = get_or_404(Order, order_id)
    return render_template(
        "shop_admin/order.html", order=order, lines=list(order.lines), states=STATES, yuan=yuan,
        address=from_dict(order.address_fields).one_line(hide_phone=False),
        events=orders.history(get_db(), order.id), error=request.args.get("error", ""),
    )


@bp.post("/orders/<int:order_id>/ship")
@requires("orders")
def ship_order(order_id: int):
    """Ship with a carrier and tracking number; the customer is told in the chat."""
    db = get_db()
    order = get_or_404(Order, order_id)
    carrier = request.form.get("carrier", "").strip()[:16]
    tracking = request.form.get("tracking", "").strip()[:40]
    if not tracking.isalnum() or len(tracking) < 6:
        return redirect(url_for("shop_admin.show_order", order_id=order_id,
                                error="请填写正确的快递单号（6–40 位字母或数字）"))
    try:
        moved = orders.transition(db, order, "shipped", actor=current_account().username,
                                  note=f"{carrier} {tracking}".strip())
    except OrderError as error:
        db.rollback()
        return redirect(url_for("shop_admin.show_order", order_id=order_id, error=str(error)))
    if not moved:
        db.rollback()
        return redirect(url_for("shop_admin.show_order", order_id=order_id,
                                error="订单状态刚刚被改变，请刷新后再试"))
    order.tracking_no = f"{carrier} {tracking}".strip()
    audit_log.record(db, "order.ship", actor=current_account(), target=order.number,
                     tracking=order.tracking_no, address=client_address())
    db.commit()
    current_app.extensions["outbox"].send(
        order.openid, f"您的订单 {order.number} 已发货：{order.tracking_no}。请留意查收。"
    )
    return redirect(url_for("shop_admin.list_orders", notice=f"订单 {order.number} 已发货"))


@bp.get("/products")
@requires("catalog")
def list_products():
    """Every product with its variants' price and stock, on or off the shelf."""
    rows = list(get_db().scalars(select(Product).order_by(Product.id)))
    return render_template("shop_admin/products.html", rows=rows, yuan=yuan,
                           notice=request.args.get("notice", ""),
                           error=request.args.get("error", ""))


@bp.post("/skus/<int:sku_id>/stock")
@requires("catalog")
def set_stock(sku_id: int):
    db = get_db()
    sku = get_or_404(Sku, sku_id)
    try:
        stock = int(request.form.get("stock", ""))
        if not 0 <= stock <= 1_000_000:
            raise ValueError
    except ValueError:
        return redirect(url_for("shop_admin.list_products", error="库存需为 0–1000000 的整数"))
    before, sku.stock = sku.stock, stock
    audit_log.record(db, "product.stock", actor=current_account(), target=f"sku:{sku.id}",
                     stock=[before, stock], address=client_address())
    db.commit()
    return redirect(url_for("shop_admin.list_products", notice="库存已更新"))


@bp.post("/products/<int:product_id>/shelf")
@requires("catalog")
def toggle_shelf(product_id: int):
    """Putting a product on the shelf passes its copy through the content gate first."""
    db = get_db()
    product = get_or_404(Product, product_id)
    if not product.on_shelf:
        outcome = gate.check(db, f"{product.name} {product.description}".strip(),
                             source="product", author=current_account().username,
                             source_ref=f"product:{product.id}", screener=live_screener())
        if not outcome.may_send:
            db.commit()  # keeps the review item the gate may have queued
            return redirect(url_for("shop_admin.list_products", error=outcome.message))
    product.on_shelf = not product.on_shelf
    audit_log.record(db, "product.shelf", actor=current_account(), target=f"product:{product.id}",
                     on_shelf=product.on_shelf, address=client_address())
    db.commit()
    return redirect(url_for("shop_admin.list_products",
                            notice=f"「{product.name}」已{'上架' if product.on_shelf else '下架'}"))
