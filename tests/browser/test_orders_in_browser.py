"""A manager's order tools and a return, run in a real browser: counts and search, shipping
with a carrier from the list, a shipping CSV with its report, and a return from approval to the
refund (against the WeChat Pay sandbox); the customer's order page then shows the parcel."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from console import accounts
from content_audit import default_screener
from devtools.demo import seed_catalog
from shop import after_sale, orders, returns
from shop.after_sale import ReturnRequest
from shop.catalog import Product, Sku
from shop.orders import Order
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.console.conftest import PASSWORD
from tests.shop.conftest import keys, shop  # noqa: F401 - the app with a paying sandbox
from tests.shop.test_payments import order_state, place, wait_for

LI = {"name": "李四", "phone": "13912345678", "province": "上海", "city": "上海市",
      "district": "浦东新区", "street": "世纪大道1号"}
ZHANG = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州市",
         "district": "西湖区", "street": "文三路100号"}
RETURN_TO = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def paid_orders(app, *addresses: dict) -> list[Order]:
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    with app.extensions["storage"].sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        made = []
        for n, address in enumerate(addresses):
            order = orders.place(db, f"o-{n}", [(sku.id, 1)], address=address)
            orders.transition(db, order, "paid", actor="wxpay")
            made.append(order)
        db.flush()
        db.expunge_all()
    return made


def test_a_manager_searches_ships_one_and_ships_the_rest_from_a_file(page, live):
    li, zhang, third = paid_orders(live.app, LI, ZHANG, ZHANG)
    sign_in(page, "manager")
    page.goto("/admin/shop/orders")
    assert page.get_by_role("link", name="已付款（3）").count() == 1
    assert page.get_by_role("link", name="全部（3）").count() == 1
    page.get_by_label("搜索订单号、手机号或收件人").fill("李四")
    page.get_by_role("button", name="搜索").click()
    found = page.locator("tr[data-order]")
    assert found.count() == 1 and "李四 139****5678" in found.inner_text()

    page.get_by_role("link", name=li.number).click()
    page.get_by_label("快递公司").select_option(label="顺丰速运")
    page.get_by_label("快递单号").fill("SF123")  # a slip: refused with the format
    page.get_by_role("button", name="确认发货").click()
    refused = page.get_by_role("alert").inner_text()
    assert "不是顺丰速运的单号格式（例如 SF1234567890123）" in refused
    page.get_by_label("快递公司").select_option(label="顺丰速运")
    page.get_by_label("快递单号").fill("SF1234567890123")
    page.get_by_role("button", name="确认发货").click()
    assert page.get_by_role("status").inner_text() == f"订单 {li.number} 已发货"
    assert page.get_by_role("link", name="已付款（2）").count() == 1

    csv_file = (f"订单号,快递公司,快递单号\n{zhang.number},中通,73123456789012\n"
                f"{third.number},中通,SF1234567890124\n{li.number},顺丰,SF1234567890123\n")
    page.get_by_label("发货文件（CSV，最多 1 MB）").set_input_files(
        files=[{"name": "发货.csv", "mimeType": "text/csv", "buffer": csv_file.encode()}])
    page.get_by_role("button", name="上传并发货").click()
    report = page.locator("#ship-report")
    assert "已发货 1 单，未发货 2 行。" in report.inner_text()
    assert "中通快递 73123456789012" in report.locator(f'[data-shipped="{zhang.number}"]'
                                                     ).inner_text()
    assert "不是中通快递的单号格式" in report.locator('[data-refused-line="3"]').inner_text()
    assert "订单已发货，不能发货" in report.locator('[data-refused-line="4"]').inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "orders-ship-report.png"), full_page=True)

    token = orders.page_token(str(live.app.config["SECRET_KEY"]), zhang.number)
    page.goto(f"/shop/o/{zhang.number}?t={token}")
    assert page.locator("#parcel").inner_text() == "快递：中通快递 73123456789012"


@pytest.fixture()
def shop_page(browser, shop):  # noqa: F811
    """A manager's browser on the shop app that refunds through the WeChat Pay sandbox."""
    with shop.storage.sessions.begin() as db:
        accounts.create(db, "manager", "manager", PASSWORD)
    shop.app.config["RETURN_ADDRESS"] = RETURN_TO
    context = browser.new_context(base_url=shop.app.config["PUBLIC_BASE_URL"], locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_return_runs_from_approval_to_the_refund_when_the_goods_are_back(shop_page, shop):  # noqa: F811
    order = place(shop.storage)
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": order.number})
    assert wait_for(lambda: order_state(shop.storage, order.number) == "paid")
    with shop.storage.sessions.begin() as db:
        paid = db.get(Order, order.id)
        orders.transition(db, paid, "shipped", actor="manager")
        request_id = after_sale.request_return(db, paid, reason="七天无理由退货", opened=None).id
    page = shop_page
    sign_in(page, "manager")
    page.goto("/admin/shop/returns")
    assert page.locator("#return-address").inner_text() == f"退货地址：{RETURN_TO}"
    row = page.locator(f'tr[data-return="{request_id}"]')
    row.get_by_role("button", name="同意退货（顾客寄回）").click()
    assert "退货地址已发给顾客" in page.get_by_role("status").inner_text()
    with shop.storage.sessions.begin() as db:  # the customer's number, as the chat records it
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "SF", "SF1234567890123")
    page.reload()
    page.get_by_role("link", name="顾客已寄回 1").click()
    row = page.locator(f'tr[data-return="{request_id}"]')
    assert "顺丰速运 SF1234567890123" in row.inner_text()
    assert requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{order.number}"
                        ).json()["refunded"] == 0
    row.get_by_role("button", name="已收到退货，退款 ¥68").click()
    assert page.get_by_role("status").inner_text() == f"订单 {order.number} 已退款"
    assert requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{order.number}"
                        ).json()["refunded"] == order.total_fen
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "returns.png"), full_page=True)
