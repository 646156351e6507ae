"""The manager's return requests, refunds and customer pages, with WeChat Pay's sandbox."""

from __future__ import annotations

import json

import pytest
import requests

from console import accounts
from shop import after_sale, orders
from shop.after_sale import ReturnRequest
from shop.orders import Order
from tests.console.conftest import PASSWORD, signed_in
from tests.shop.test_payments import order_state, place, wait_for


@pytest.fixture()
def paid(shop):
    """A followed customer's order, paid in the sandbox."""
    for name, role in (("manager", "manager"), ("agent", "agent"), ("reviewer", "compliance")):
        with shop.storage.sessions.begin() as db:
            accounts.create(db, name, role, PASSWORD)
    follow = {"openid": "o-buyer", "kind": "subscribe"}
    requests.post(f"{shop.sandbox}/sandbox/inbound", json=follow)
    order = place(shop.storage, product="土蜂蜜", count=2)
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"openid": "o-buyer"})
    assert wait_for(lambda: order_state(shop.storage, order.number) == "paid")
    return order


def returned(shop, order) -> int:
    """The parcel shipped and the customer asked for a 7天无理由 return."""
    with shop.storage.sessions.begin() as db:
        row = db.get(Order, order.id)
        orders.transition(db, row, "shipped", actor="manager")
        return after_sale.request_return(db, row, reason="七天无理由退货", opened=None).id


def told(shop, words: str) -> list[str]:
    sent = requests.get(f"{shop.sandbox}/sandbox/sent", params={"touser": "o-buyer"}).json()
    texts = [json.dumps(m, ensure_ascii=False) for m in sent["messages"]]
    return [t for t in texts if words in t]


def refunded(shop, number: str) -> int:
    return requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{number}").json()["refunded"]


RETURN_TO = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def test_approving_a_return_sends_the_address_and_refunds_once_the_goods_are_back(shop, paid):
    shop.app.config["RETURN_ADDRESS"] = RETURN_TO
    request_id = returned(shop, paid)
    manager = signed_in(shop.app, "manager")
    page = manager.get("/admin/shop/returns").text
    assert f'data-return="{request_id}"' in page and "同意退货（顾客寄回）" in page
    answer = manager.post(f"/admin/shop/returns/{request_id}/approve")
    assert answer.status_code == 302 and "退货地址已发给顾客" in requests.utils.unquote(
        answer.location)
    assert refunded(shop, paid.number) == 0 and order_state(shop.storage, paid.number) == "shipped"
    assert wait_for(lambda: told(shop, "文一西路1500号"))
    again = manager.post(f"/admin/shop/returns/{request_id}/approve")
    assert "待顾客寄回" in requests.utils.unquote(again.location)
    received = manager.post(f"/admin/shop/returns/{request_id}/received")
    assert "已退款" in requests.utils.unquote(received.location)
    twice = manager.post(f"/admin/shop/returns/{request_id}/received")
    assert "已经处理过" in requests.utils.unquote(twice.location)
    assert order_state(shop.storage, paid.number) == "refunded"
    assert refunded(shop, paid.number) == paid.total_fen
    assert wait_for(lambda: told(shop, "商家已收到您退回的商品"))
    listing = manager.get("/admin/shop/returns?state=refunded").text
    assert "已退款 · manager" in listing


def test_a_rejection_needs_a_reason_the_customer_reads(shop, paid):
    request_id = returned(shop, paid)
    manager = signed_in(shop.app, "manager")
    manager.get("/admin/shop/returns")
    blank = manager.post(f"/admin/shop/returns/{request_id}/reject", {"note": " "})
    assert "请写明原因" in requests.utils.unquote(blank.location)
    manager.post(f"/admin/shop/returns/{request_id}/reject", {"note": "商品已使用，影响二次销售"})
    with shop.storage.sessions() as db:
        assert db.get(ReturnRequest, request_id).state == "rejected"
    assert order_state(shop.storage, paid.number) == "shipped" and refunded(shop, paid.number) == 0
    assert wait_for(lambda: told(shop, "商品已使用，影响二次销售"))


def test_a_manager_refunds_from_the_order_page(shop, paid):
    manager = signed_in(shop.app, "manager")
    page = manager.get(f"/admin/shop/orders/{paid.id}")
    assert f'action="/admin/shop/orders/{paid.id}/refund"' in page.text
    missing = manager.post(f"/admin/shop/orders/{paid.id}/refund", {"reason": ""})
    assert "请填写退款原因" in requests.utils.unquote(missing.location)
    no_token = manager.post(f"/admin/shop/orders/{paid.id}/refund", {"reason": "缺货"},
                            with_token=False)
    assert no_token.status_code == 400 and order_state(shop.storage, paid.number) == "paid"
    manager.post(f"/admin/shop/orders/{paid.id}/refund", {"reason": "仓库缺货"})
    assert order_state(shop.storage, paid.number) == "refunded"
    assert refunded(shop, paid.number) == paid.total_fen
    twice = manager.post(f"/admin/shop/orders/{paid.id}/refund", {"reason": "仓库缺货"})
    assert "不能退款" in requests.utils.unquote(twice.location)
    assert refunded(shop, paid.number) == paid.total_fen
    assert wait_for(lambda: told(shop, "仓库缺货"))


def test_only_managers_may_refund(shop, paid):
    reviewer = signed_in(shop.app, "reviewer")
    assert reviewer.post(f"/admin/shop/orders/{paid.id}/refund",
                         {"reason": "x"}).status_code == 403
    assert reviewer.get("/admin/shop/returns").status_code == 403
    assert order_state(shop.storage, paid.number) == "paid"


def test_customers_show_tier_points_and_orders(shop, paid):
    agent = signed_in(shop.app, "agent")
    listing = agent.get("/admin/shop/customers").text
    row = listing.split('data-customer="o-buyer"')[1].split("</tr>")[0]
    points = paid.total_fen // 100
    assert f"<td>普通会员</td><td>{points}</td>" in row
    assert "o-buyer" not in agent.get("/admin/shop/customers?tier=黄金").text
    assert "o-buyer" in agent.get("/admin/shop/customers?tier=普通会员").text
    detail = agent.get("/admin/shop/customers/o-buyer").text
    assert f'data-order="{paid.number}"' in detail and "已付款" in detail
    assert f'<dd data-points="{points}">{points}</dd>' in detail
    entry = detail.split("data-points-entry>")[1].split("</tr>")[0]
    assert f"<td>获得</td><td>+{points}</td><td>{paid.number}</td>" in entry
    assert "再消费¥" in detail and "升级青铜" in detail
    assert agent.get("/admin/shop/customers/nobody").status_code == 404
    assert signed_in(shop.app, "reviewer").get("/admin/shop/customers").status_code == 403


def test_a_refund_from_the_order_page_answers_a_waiting_return_request(shop, paid):
    request_id = returned(shop, paid)
    manager = signed_in(shop.app, "manager")
    manager.get(f"/admin/shop/orders/{paid.id}")
    manager.post(f"/admin/shop/orders/{paid.id}/refund", {"reason": "商品破损，直接退款"})
    with shop.storage.sessions() as db:
        request = db.get(ReturnRequest, request_id)
        assert (request.state, request.decided_by) == ("refunded", "manager")
    assert refunded(shop, paid.number) == paid.total_fen
