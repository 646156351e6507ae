"""The customer's order page offers a WeChat Pay Native QR code beside the JSAPI button.

`shop` (tests/shop/conftest.py) is the app on a real port with a paying sandbox.
"""

from __future__ import annotations

import requests
from sqlalchemy import select

from shop import after_sale, orders
from shop.catalog import Product, Sku
from shop.orders import Order
from shop.payments import native_trade_no
from shop.storefront_views import qr_image
from tests.shop.test_payments import ADDRESS, order_state, place, wait_for

POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src data:"


def order_page(shop, number: str):
    token = orders.page_token(str(shop.app.config.get("SECRET_KEY") or ""), number)
    return shop.app.test_client().get(f"/shop/o/{number}?t={token}")


def test_an_unpaid_order_shows_a_native_qr_that_pays_the_order(shop):
    order = place(shop.storage)  # as the chat does: a JSAPI transaction first
    page = order_page(shop, order.number)
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == POLICY  # no inline script; data: images
    html = page.text
    assert 'id="pay"' in html and "长按识别或用另一台手机扫码支付" in html
    # WeChat Pay refuses a second trade type under one number, so Native has its own.
    native = native_trade_no(order.number)
    # The sandbox answers a Native create with this code_url: the same image means the same URL.
    assert f'<img src="{qr_image(f"weixin://wxpay/bizpayurl?pr={native}")}"' in html
    assert html.count("<script") == html.count('<script src="/shop/static/')
    tx = requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{native}").json()
    assert (tx["trade_type"], tx["trade_state"]) == ("NATIVE", "NOTPAY")
    # Another phone scans and pays: the notification marks this order paid.
    paid = requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": native})
    assert paid.ok
    assert wait_for(lambda: order_state(shop.storage, order.number) == "paid")
    after = order_page(shop, order.number).text
    assert "<img" not in after and "扫码支付" not in after
    # Paid twice (the JSAPI button too): the second payment goes back, the order stays paid.
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": order.number})
    assert wait_for(lambda: requests.get(
        f"{shop.sandbox}/sandbox/pay/transactions/{order.number}").json()["refunded"])
    assert order_state(shop.storage, order.number) == "paid"
    # A refund of the order names the transaction that paid it: the Native one.
    with shop.storage.sessions.begin() as db:
        row = db.get(Order, order.id)
        after_sale.refund(db, row, shop.storage.wxpay, actor="manager", reason="缺货",
                          refund_no=f"M{order.number}")
    tx = requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{native}").json()
    assert tx["refunded"] == order.total_fen


def test_an_unpaid_order_closes_both_transactions_when_cancelled(shop):
    order = place(shop.storage)
    order_page(shop, order.number)  # opens the Native one too
    with shop.storage.sessions.begin() as db:
        after_sale.cancel(db, db.get(Order, order.id), shop.storage.wxpay, actor="o-buyer")
    for trade_no in (order.number, native_trade_no(order.number)):
        tx = requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{trade_no}").json()
        assert tx["trade_state"] == "CLOSED"


def test_the_page_still_works_when_wechat_pay_refuses_the_qr(shop):
    with shop.storage.sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        order = orders.place(db, "o-buyer", [(sku.id, 1)], address=ADDRESS)
    # The Native number is already taken at WeChat Pay for another amount: refused.
    shop.storage.wxpay.native(native_trade_no(order.number), "test", order.total_fen + 1)
    page = order_page(shop, order.number)
    assert page.status_code == 200
    assert "扫码支付暂不可用" in page.text and "<img" not in page.text
    assert "合计 ¥" in page.text


def test_a_guessed_link_creates_nothing_at_wechat_pay(shop):
    with shop.storage.sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        order = orders.place(db, "o-buyer", [(sku.id, 1)])
    assert shop.app.test_client().get(f"/shop/o/{order.number}?t=0").status_code == 404
    tx = requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{order.number}")
    assert tx.status_code == 404


def test_an_order_without_its_address_cannot_be_paid_yet(shop):
    """A flash-sale order is placed before the chat has the address: nothing is paid for that
    cannot be shipped, and nothing is opened at WeChat Pay from the page."""
    with shop.storage.sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        order = orders.place(db, "o-buyer", [(sku.id, 1)])
    page = order_page(shop, order.number).text
    assert "还没有收货地址：请在公众号聊天中发送" in page
    assert 'id="pay"' not in page and "<img" not in page
    tx = requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{native_trade_no(order.number)}")
    assert tx.status_code == 404
