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
