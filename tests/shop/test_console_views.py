"""The manager's shop pages: ship an order (the customer is told), stock and the shelf."""

from __future__ import annotations

import time

import requests
from sqlalchemy import select

from bot.demo import seed_catalog
from shop import catalog, orders
from shop.catalog import Product, Sku
from shop.orders import Order
from tests.console.conftest import signed_in


def paid_order(app, openid: str = "o-ship") -> Order:
    with app.extensions["storage"].sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        order = orders.place(db, openid, [(sku.id, 1)], address={
            "name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州市",
            "district": "西湖区", "street": "文三路100号"})
        orders.transition(db, order, "paid", actor="wxpay")
    return order


def test_a_manager_ships_and_the_customer_hears_of_it(console_app, sandbox):
    seed_catalog(console_app.extensions["storage"].sessions)
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": "o-ship", "kind": "message"})
    order = paid_order(console_app)
    manager = signed_in(console_app, "manager")
    listing = manager.get("/admin/shop/orders").text
    assert f'data-order="{order.number}"' in listing
    page = manager.get(f"/admin/shop/orders/{order.id}").text
    assert "张三 13800138000 浙江杭州市西湖区文三路100号" in page  # the full phone, for shipping
    bad = manager.post(f"/admin/shop/orders/{order.id}/ship", {"tracking": "x"},
                       follow_redirects=True)
    assert "请填写正确的快递单号" in bad.text
    ship = {"carrier": "顺丰", "tracking": "SF1234567"}
    manager.post(f"/admin/shop/orders/{order.id}/ship", ship)
    with console_app.extensions["storage"].sessions() as db:
        shipped = db.get(Order, order.id)
        assert (shipped.state, shipped.tracking_no) == ("shipped", "顺丰 SF1234567")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": "o-ship"}).json()
        if sent["messages"]:
            break
        time.sleep(0.05)
    assert "顺丰 SF1234567" in str(sent["messages"][0])
    again = manager.post(f"/admin/shop/orders/{order.id}/ship",
                         {"carrier": "顺丰", "tracking": "SF7654321"}, follow_redirects=True)
    assert "不能改为已发货" in again.text


def test_stock_and_shelf_with_the_content_gate(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        good = catalog.add_product(db, name="手工红糖", skus=[("400g", 3200, 5)], on_shelf=False)
        bad = catalog.add_product(db, name="全网最好的红糖", skus=[("400g", 3200, 5)],
                                  on_shelf=False)
        good_id, bad_id, sku_id = good.id, bad.id, good.skus[0].id
    manager = signed_in(console_app, "manager")
    manager.get("/admin/shop/products")
    manager.post(f"/admin/shop/products/{good_id}/shelf")
    refused = manager.post(f"/admin/shop/products/{bad_id}/shelf", follow_redirects=True)
    assert "「最好」" in refused.text
    manager.post(f"/admin/shop/skus/{sku_id}/stock", {"stock": "42"})
    assert "库存需为" in manager.post(f"/admin/shop/skus/{sku_id}/stock", {"stock": "-1"},
                                      follow_redirects=True).text
    with console_app.extensions["storage"].sessions() as db:
        assert db.get(Product, good_id).on_shelf and not db.get(Product, bad_id).on_shelf
        assert db.get(Sku, sku_id).stock == 42


def test_agents_and_reviewers_are_refused_the_shop_pages(console_app):
    for name in ("agent", "reviewer"):
        person = signed_in(console_app, name)
        assert person.get("/admin/shop/orders").status_code == 403
        assert person.get("/admin/shop/products").status_code == 403
