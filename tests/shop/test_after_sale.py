"""After the sale: address changes, receipt, 7-day returns with their exceptions, refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from promotions import points as ledger
from shop import after_sale, cart, catalog, members, orders, returns
from shop.addresses import parse
from shop.catalog import Product, Sku
from shop.orders import Order, OrderError
from tests.shop.test_payments import place, wait_for

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
HOME = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州市",
        "district": "西湖区", "street": "文三路100号"}


def product(db, name: str, exception: str = "", stock: int = 9) -> int:
    made = catalog.add_product(db, name=name, category_name="杂货", skus=[("默认", 5_000, stock)])
    made.return_exception = exception
    return made.skus[0].id


def order_in(storage, state: str, *skus: int, at=NOW) -> int:
    """An order walked to `state` through the real transitions."""
    with storage.sessions.begin() as db:
        order = orders.place(db, "o1", [(sku, 1) for sku in skus], address=HOME, now=at)
        path = {"pending_payment": [], "paid": ["paid"], "shipped": ["paid", "shipped"],
                "completed": ["paid", "shipped", "completed"]}[state]
        for step in path:
            assert orders.transition(db, order, step, actor="test", now=at)
        return order.id


def points(storage, openid: str) -> int:
    with storage.sessions() as db:
        return ledger.balance(db, openid, datetime.now(UTC))


def test_the_address_changes_until_the_parcel_ships(storage):
    with storage.sessions.begin() as db:
        honey = product(db, "土蜂蜜")
    paid = order_in(storage, "paid", honey)
    new = parse("李四 13900139000 上海市浦东新区世纪大道1号")
    with storage.sessions.begin() as db:
        after_sale.change_address(db, db.get(Order, paid), new, actor="o1", now=NOW)
    with storage.sessions() as db:
        order = db.get(Order, paid)
        assert order.address_fields["name"] == "李四" and order.state == "paid"
        assert orders.history(db, paid)[-1].note.startswith("修改收货地址：李四 139****9000")
    shipped = order_in(storage, "shipped", honey)
    with pytest.raises(OrderError, match="已发货"), storage.sessions.begin() as db:
        after_sale.change_address(db, db.get(Order, shipped), new, actor="o1")
    with pytest.raises(OrderError, match="不完整"), storage.sessions.begin() as db:
        after_sale.change_address(db, db.get(Order, paid), parse("李四"), actor="o1")


def test_returns_within_seven_days_of_receipt_and_the_statutory_exceptions(storage):
    with storage.sessions.begin() as db:
        honey, orange = product(db, "土蜂蜜"), product(db, "赣南脐橙", "fresh")
        lipstick = product(db, "口红", "hygiene")
    received = order_in(storage, "completed", honey)
    with storage.sessions() as db:
        order = db.get(Order, received)
        assert after_sale.return_problem(db, order, opened=None, now=NOW + timedelta(days=6)) \
            is None
        assert "7 天" in after_sale.return_problem(db, order, opened=None,
                                                   now=NOW + timedelta(days=8))
        fresh = db.get(Order, order_in(storage, "shipped", honey, orange))
        assert "「赣南脐橙」属于鲜活易腐商品" in after_sale.return_problem(db, fresh, opened=None)
        hygiene = db.get(Order, order_in(storage, "shipped", lipstick))
        assert after_sale.needs_opened_question(db, hygiene)
        assert "依法不适用" in after_sale.return_problem(db, hygiene, opened=True)
        assert after_sale.return_problem(db, hygiene, opened=False) is None
        unpaid = db.get(Order, order_in(storage, "pending_payment", honey))
        assert "取消订单" in after_sale.return_problem(db, unpaid, opened=None)


def test_a_category_exception_applies_unless_the_product_overrides_it(storage):
    with storage.sessions.begin() as db:
        honey = product(db, "土蜂蜜")
        catalog.category(db, "杂货").return_exception = "custom"
    with storage.sessions() as db:
        product_id = db.get(Sku, honey).product_id
        assert catalog.return_exception(db, product_id) == "custom"
    with storage.sessions.begin() as db:
        db.get(Product, product_id).return_exception = "digital"
    with storage.sessions() as db:
        assert catalog.return_exception(db, product_id) == "digital"


RETURN_TO = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def test_a_return_refunds_once_the_goods_are_back_and_takes_back_points(shop):
    storage, sandbox = shop.storage, shop.sandbox
    order = place(storage, product="土蜂蜜", count=2)
    assert requests.post(f"{sandbox}/sandbox/pay", json={"openid": "o-buyer"}).ok
    assert wait_for(lambda: points(storage, "o-buyer"))
    with storage.sessions.begin() as db:
        paid = db.get(Order, order.id)
        orders.transition(db, paid, "shipped", actor="manager")
        after_sale.confirm_receipt(db, paid, actor="o-buyer")
        request = after_sale.request_return(db, paid, reason="不喜欢", opened=None)
    with pytest.raises(OrderError, match="已经申请过"), storage.sessions.begin() as db:
        after_sale.request_return(db, db.get(Order, order.id), reason="again", opened=None)
    with storage.sessions.begin() as db:
        returns.approve(db, db.get(after_sale.ReturnRequest, request.id),
                        return_address=RETURN_TO, actor="manager")
    tx = requests.get(f"{sandbox}/sandbox/pay/transactions/{order.number}").json()
    assert tx["refunded"] == 0  # approving only sends the address: the goods come back first
    with storage.sessions.begin() as db:
        returns.receive(db, db.get(after_sale.ReturnRequest, request.id), storage.wxpay,
                        actor="manager")
    with pytest.raises(OrderError, match="已经处理过"), storage.sessions.begin() as db:
        returns.receive(db, db.get(after_sale.ReturnRequest, request.id), storage.wxpay,
                        actor="manager2")
    tx = requests.get(f"{sandbox}/sandbox/pay/transactions/{order.number}").json()
    assert tx["refunded"] == order.total_fen
    with storage.sessions() as db:
        assert db.get(Order, order.id).state == "refunded"
        facts = members.get(db, "o-buyer")
        assert (facts.paid_orders, facts.spend_fen) == (0, 0)
        assert ledger.balance(db, "o-buyer", datetime.now(UTC)) == 0
        assert db.scalar(select(Product.sold_count).where(Product.name == "土蜂蜜")) == 0


def test_a_refused_refund_leaves_the_order_and_the_request_as_they_were(shop):
    storage, sandbox = shop.storage, shop.sandbox
    order = place(storage, product="土蜂蜜")
    requests.post(f"{sandbox}/sandbox/pay", json={"openid": "o-buyer"})
    assert wait_for(lambda: points(storage, "o-buyer"))
    with storage.sessions.begin() as db:
        paid = db.get(Order, order.id)
        orders.transition(db, paid, "shipped", actor="manager")
        request = after_sale.request_return(db, paid, reason="", opened=None)
    # Someone refunded it by hand in the merchant platform: WeChat Pay refuses a second one.
    storage.wxpay.refund(order.number, "MANUAL1", order.total_fen, order.total_fen, "手工退款")
    with pytest.raises(OrderError, match="退款没有成功"), storage.sessions.begin() as db:
        returns.refund_without_return(db, db.get(after_sale.ReturnRequest, request.id),
                                      storage.wxpay, actor="manager")
    with storage.sessions() as db:
        assert db.get(Order, order.id).state == "shipped"
        assert db.get(after_sale.ReturnRequest, request.id).state == "requested"
        assert ledger.balance(db, "o-buyer", datetime.now(UTC)) > 0


def test_parcels_are_received_automatically_ten_days_after_shipping(storage):
    with storage.sessions.begin() as db:
        honey = product(db, "土蜂蜜")
    old = order_in(storage, "shipped", honey, at=NOW - timedelta(days=11))
    recent = order_in(storage, "shipped", honey, at=NOW - timedelta(days=2))
    with storage.sessions.begin() as db:
        done = after_sale.receive_overdue(db, NOW)
    with storage.sessions() as db:
        assert done == [db.get(Order, old).number]
        assert db.get(Order, recent).state == "shipped"


def test_the_cart_keeps_one_line_per_variant_and_orders_what_can_be_bought(storage):
    with storage.sessions.begin() as db:
        honey, gone = product(db, "土蜂蜜"), product(db, "米")
        assert cart.add(db, "o1", honey, 2) == 2
        assert cart.add(db, "o1", honey, 1) == 3
        cart.add(db, "o1", gone, 1)
        db.get(Product, db.get(Sku, gone).product_id).on_shelf = False
        with pytest.raises(OrderError, match="最多购买 99"):
            cart.add(db, "o1", honey, 97)
    with storage.sessions.begin() as db:
        lines = cart.lines(db, "o1")
        assert [(line.name, line.quantity, line.problem) for line in lines] == [
            ("土蜂蜜", 3, ""), ("米", 1, "已下架")]
        assert cart.checkout_items(lines) == [(honey, 3)]
        assert "合计 ¥150（不含缺货/下架商品）" in cart.summary(lines)
        cart.set_quantity(db, "o1", 1, 5)
        assert cart.remove(db, "o1", 2) == "米"
        with pytest.raises(OrderError, match="只有 1 种"):
            cart.remove(db, "o1", 2)
        assert [(line.name, line.quantity) for line in cart.lines(db, "o1")] == [("土蜂蜜", 5)]
