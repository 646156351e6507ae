"""The customer's pages (/shop/p/<id>, the signed /shop/o/<number>) and WeChat Pay's notify URL.

Served by the app itself with no external assets (the pages must load inside WeChat on any
network); prices, stock and 已售N件 come straight from the catalog.
"""

from __future__ import annotations

import json
import logging

import segno
from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from bot.jssdk import page_config
from core.clock import shanghai_text
from core.money import yuan
from shop import address_picker, payments
from shop.addresses import from_dict
from shop.browse import price_label
from shop.carriers import shipment_label
from shop.catalog import Product
from shop.images import picture_path
from shop.orders import STATES, Order, page_token_matches
from shop.payments import native_trade_no
from shop.wxpay import BadNotification, PayError, WxPay

bp = Blueprint("storefront", __name__, url_prefix="/shop", template_folder="templates",
               static_folder="static", static_url_path="/static")


#: The product page: our own pictures and an object store's https ones; one script of ours
#: (the copy button), no inline script.
PRODUCT_PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https:; "
                       "script-src 'self'")


@bp.get("/p/<int:product_id>")
def product_page(product_id: int):
    """One product: its pictures, variants with price and stock, sold count and description,
    and how to buy it in the chat (the code to send, with a copy button)."""
    with current_app.extensions["storage"].sessions() as db:
        product = db.get(Product, product_id)
        if product is None or not product.on_shelf:
            abort(404)
        skus = list(product.skus)
        pictures = [picture_path(image) for image in product.images]
        if not pictures and product.image_url.startswith("https://"):
            pictures = [product.image_url]  # the old single picture (http would be blocked)
        page = render_template(
            "storefront/product.html", product=product, skus=skus, pictures=pictures,
            price=price_label(product), yuan=yuan, stock=sum(sku.stock for sku in skus),
            code=f"商品 {product.id}",
        )
    return page, 200, {"Cache-Control": "public, max-age=30",
                       "Content-Security-Policy": PRODUCT_PAGE_POLICY}


@bp.get("/o/<number>")
def order_page(number: str):
    """The order the chat linked to: lines, total, address, state, payment deadline and,
    once shipped, the carrier and tracking number."""
    secret = str(current_app.config.get("SECRET_KEY") or "")
    if not page_token_matches(secret, number, request.args.get("t", "")):
        abort(404)  # no hint whether the number exists
    with current_app.extensions["storage"].sessions() as db:
        order = db.scalar(select(Order).where(Order.number == number))
        if order is None:
            abort(404)
        pay_params, qr = None, None
        client = current_app.extensions["storage"].wxpay
        address = from_dict(order.address_fields)
        # A flash-sale order may be placed before its address: nothing is paid for that
        # cannot be shipped, so payment opens once the chat has the address.
        addressed = not address.missing
        if order.state == "pending_payment" and client is not None and addressed:
            try:
                pay_params = client.jsapi(order.number, f"微商城订单 {order.number}",
                                          order.total_fen, order.openid)
            except PayError:
                pay_params = None
            qr = native_qr(client, order)
        page = render_template(
            "storefront/order.html", order=order, lines=list(order.lines),
            state=STATES[order.state], address=address.one_line(), addressed=addressed,
            pay_by=shanghai_text(order.pay_by), yuan=yuan,
            pay_params=json.dumps(pay_params) if pay_params else "", qr=qr,
            pay_open=client is not None, parcel=shipment_label(order),
        )
    policy = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src data:"
    return page, 200, {"Cache-Control": "no-store", "Content-Security-Policy": policy}


def native_qr(client: WxPay, order: Order) -> str | None:
    """The order's Native payment as a QR image (a data: URI), for paying from another phone
    or from outside WeChat; None when WeChat Pay will not make one (the page says so).

    A PNG <img>, not inline SVG: WeChat's 长按识别二维码 only recognises images. Drawn on the
    server, so the page needs no script, image request or CDN.
    """
    try:
        code_url = client.native(native_trade_no(order.number), f"微商城订单 {order.number}",
                                 order.total_fen)
    except (PayError, KeyError):
        logging.getLogger("shop.wxpay").warning("no Native QR for order %s", order.number)
        return None
    return qr_image(code_url)


def qr_image(text: str) -> str:
    """`text` as a PNG QR code data: URI, with the 4-module quiet zone scanners need."""
    return segno.make(text, error="m").png_data_uri(scale=6, border=4)


@bp.post("/wxpay/notify")
def wxpay_notify():
    """WeChat Pay's payment notification: verified, decrypted, applied once, acknowledged.

    A forged or unreadable one gets 401/400 (WeChat Pay would retry a real one); a failure
    while applying it gets 500, so WeChat Pay retries later; otherwise 204.
    """
    log = logging.getLogger("shop.wxpay")
    storage = current_app.extensions["storage"]
    client = storage.wxpay
    if client is None:
        return {"code": "FAIL", "message": "payment is not configured"}, 404
    try:
        event, data = client.read_notification(request.headers, request.get_data())
    except BadNotification as error:
        log.warning("refused a payment notification: %s", error)
        return {"code": "FAIL", "message": "bad notification"}, 401
    if event != "TRANSACTION.SUCCESS":
        return "", 204
    try:
        with storage.sessions.begin() as db:
            outcome = payments.on_transaction(db, data, client)
    except payments.DuplicatePayment:
        return "", 204  # applied by another worker just now, which announces it
    except Exception:
        log.exception("payment notification for %s not applied; WeChat Pay will retry",
                      data.get("out_trade_no"))
        return {"code": "FAIL", "message": "try again"}, 500
    log.info("payment notification for %s: %s", data.get("out_trade_no"), outcome)
    # After the commit, and on a duplicate too: a process killed between the commit and
    # this point left the payment unannounced, and WeChat Pay's retry announces it now.
    with storage.sessions.begin() as db:
        told = payments.claim_announcement(db, str(data.get("transaction_id", "")))
    if told is not None:
        current_app.extensions["outbox"].send(told.openid, _payment_text(told))
    return "", 204


def _payment_text(told: payments.Announcement) -> str:
    if told.outcome == "refunded":
        return f"订单 {told.out_trade_no} 已取消，您的付款已原路退回。"
    return f"支付成功！订单 {told.out_trade_no} 已付款，我们会尽快为您发货。"


ADDRESS_PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; "
                       "script-src 'self' https://res.wx.qq.com; connect-src 'self'")


def _address_owner(token: str) -> str:
    owner = address_picker.page_owner(current_app.extensions["storage"].redis, token)
    if owner is None:
        abort(404)
    return owner


@bp.get("/address/<token>")
def address_page(token: str):
    """使用微信收货地址: the chat links here when a typed address is incomplete."""
    _address_owner(token)
    config = ""
    api = current_app.extensions.get("wechat_api")
    base = str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    try:
        ticket = api.jsapi_ticket() if api is not None else ""
        if ticket:
            config = json.dumps(page_config(api.app_id, ticket, base + request.path,
                                            ["openAddress"]))
    except Exception:  # WeChat unreachable or refusing: the page says to type the address
        logging.getLogger(__name__).warning("no jsapi_ticket for the address page", exc_info=True)
    page = render_template("storefront/address.html", config=config)
    return page, 200, {"Cache-Control": "no-store", "Content-Security-Policy": ADDRESS_PAGE_POLICY}


@bp.post("/address/<token>")
def address_picked(token: str):
    """The address openAddress returned, checked against the division list and kept for the
    chat. JSON only, so no other site's form can post here."""
    openid = _address_owner(token)
    fields = request.get_json(silent=True) if request.is_json else None
    if not isinstance(fields, dict):
        return {"error": "请求格式不正确"}, 400
    try:
        picked = address_picker.from_wechat(fields)
    except ValueError as error:
        return {"error": str(error)}, 400
    address_picker.remember(current_app.extensions["storage"].redis, openid, picked)
    return {"address": picked.one_line(), "next": "请回到聊天，回复「好了」继续下单。",
            "missing": picked.missing}
