"""The customer's product page, /shop/p/<id>: what the chat's product card opens on the phone.

Served by the app itself with no external assets (the page must load inside WeChat on any
network); prices, stock and 已售N件 come straight from the catalog.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from shop.browse import price_label
from shop.catalog import Product
from shop.money import yuan

bp = Blueprint("storefront", __name__, url_prefix="/shop", template_folder="templates")


@bp.get("/p/<int:product_id>")
def product_page(product_id: int):
    """One product: its variants with price and stock, sold count and description."""
    with current_app.extensions["storage"].sessions() as db:
        product = db.get(Product, product_id)
        if product is None or not product.on_shelf:
            abort(404)
        page = render_template(
            "storefront/product.html", product=product, skus=list(product.skus),
            price=price_label(product), yuan=yuan,
        )
    return page, 200, {"Cache-Control": "public, max-age=30",
                       "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


@bp.get("/o/<number>")
def order_page(number: str):
    """The order the chat linked to: lines, total, address, state and payment deadline."""
    import hmac as hmac_lib

    from flask import request
    from sqlalchemy import select

    from bot.clock import shanghai_text
    from handlers.order import order_token
    from shop.addresses import from_dict
    from shop.orders import STATES, Order

    expected = order_token(str(current_app.config.get("SECRET_KEY") or ""), number)
    if not hmac_lib.compare_digest(expected, request.args.get("t", "")):
        abort(404)  # no hint whether the number exists
    with current_app.extensions["storage"].sessions() as db:
        order = db.scalar(select(Order).where(Order.number == number))
        if order is None:
            abort(404)
        page = render_template(
            "storefront/order.html", order=order, lines=list(order.lines),
            state=STATES[order.state], address=from_dict(order.address_fields).one_line(),
            pay_by=shanghai_text(order.pay_by), yuan=yuan,
        )
    return page, 200, {"Cache-Control": "no-store",
                       "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
