"""The manager's order tools: counts per state, search, the recipient, carriers from a list,
shipping many orders from a CSV; and the tracking number on the customer's order page."""

from __future__ import annotations

import io
import json
import time

import requests
from sqlalchemy import select

from console.audit_log import AuditEntry
from content_audit import default_screener
from devtools.demo import seed_catalog
from shop import orders
from shop.catalog import Product, Sku
from shop.orders import Order
from tests.console.conftest import signed_in

LI = {"name": "李四", "phone": "13912345678", "province": "上海", "city": "上海市",
      "district": "浦东新区", "street": "世纪大道1号"}
ZHANG = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州市",
         "district": "西湖区", "street": "文三路100号"}


def make_orders(app, *plan: tuple[dict, str, str]) -> list[Order]:
    """Orders of (address, state, openid) walked there through the real transitions."""
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    made = []
    with app.extensions["storage"].sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        for address, state, openid in plan:
            order = orders.place(db, openid, [(sku.id, 1)], address=address)
            for step in {"pending_payment": [], "paid": ["paid"],
                         "shipped": ["paid", "shipped"]}[state]:
                orders.transition(db, order, step, actor="test")
            made.append(order)
        db.flush()
        db.expunge_all()
    return made


def rows(page: str) -> list[str]:
    return [part.split('"')[0] for part in page.split('data-order="')[1:]]


def test_tabs_count_each_state_and_search_finds_number_phone_or_recipient(console_app):
    li, zhang, unpaid = make_orders(console_app, (LI, "paid", "o-li"), (ZHANG, "shipped", "o-z"),
                                    (ZHANG, "pending_payment", "o-z"))
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/shop/orders").text
    assert '>已付款（1）</a>' in page and '>已发货（1）</a>' in page
    assert '>待付款（1）</a>' in page and '>全部（3）</a>' in page
    assert rows(page) == [li.number]
    assert "<td>李四 139****5678</td>" in page  # the recipient column
    by_number = manager.get(f"/admin/shop/orders?q={zhang.number[-8:]}").text
    assert rows(by_number) == [zhang.number]
    by_phone = manager.get("/admin/shop/orders?q=138 0013 8000").text
    assert rows(by_phone) == [unpaid.number, zhang.number]
    by_tail = manager.get("/admin/shop/orders?q=5678").text
    assert rows(by_tail) == [li.number]
    by_name = manager.get("/admin/shop/orders?q=张三&state=shipped").text
    assert rows(by_name) == [zhang.number]
    assert rows(manager.get("/admin/shop/orders?q=世纪大道").text) == []  # a street is not a name
    assert "没有找到「100」相关的订单" in manager.get("/admin/shop/orders?q=100").text


def test_the_ship_form_offers_the_carriers_and_checks_the_number(console_app, sandbox):
    [order] = make_orders(console_app, (ZHANG, "paid", "o-ship"))
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": "o-ship", "kind": "message"})
    manager = signed_in(console_app, "manager")
    page = manager.get(f"/admin/shop/orders/{order.id}").text
    assert '<option value="SF">顺丰速运</option>' in page
    assert '<option value="EMS">邮政EMS</option>' in page
    wrong = manager.post(f"/admin/shop/orders/{order.id}/ship",
                         {"carrier": "YUNDA", "tracking": "SF1234567890123"},
                         follow_redirects=True)
    assert "不是韵达快递的单号格式" in wrong.text
    manager.post(f"/admin/shop/orders/{order.id}/ship",
                 {"carrier": "YUNDA", "tracking": "4312 3456 7890 123"})
    page = manager.get(f"/admin/shop/orders/{order.id}").text
    assert '<p id="parcel">快递：韵达快递 431234567890123</p>' in page


def csv_upload(manager, text: str | bytes, dry_run: bool = False):
    data = text.encode() if isinstance(text, str) else text
    form = {"file": (io.BytesIO(data), "发货.csv")}
    if dry_run:
        form["dry_run"] = "1"
    return manager.post("/admin/shop/orders/ship-import", form,
                        content_type="multipart/form-data")


def sent_to(sandbox: str, openid: str) -> list[str]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": openid}).json()
        if sent["messages"]:
            break
        time.sleep(0.05)
    return [json.dumps(m, ensure_ascii=False) for m in sent["messages"]]


def test_a_csv_ships_many_orders_and_reports_what_was_refused(console_app, sandbox):
    first, second, done = make_orders(console_app, (LI, "paid", "o-a"), (ZHANG, "paid", "o-b"),
                                      (ZHANG, "shipped", "o-c"))
    for openid in ("o-a", "o-b"):
        requests.post(f"{sandbox}/sandbox/inbound", json={"openid": openid, "kind": "message"})
    manager = signed_in(console_app, "manager")
    manager.get("/admin/shop/orders")
    text = (f"订单号,快递公司,快递单号\n{first.number},顺丰,SF1234567890123\n"
            f"{second.number},中通,SF1234567890124\n{done.number},中通,73123456789012\n")
    checked = csv_upload(manager, text, dry_run=True).text
    assert "检查结果（只检查，未发货）" in checked and 'data-count="shipped">1<' in checked
    with console_app.extensions["storage"].sessions() as db:
        assert db.get(Order, first.id).state == "paid"  # a dry run ships nothing
    report = csv_upload(manager, text).text
    assert "批量发货结果" in report
    assert f'data-shipped="{first.number}"' in report and "顺丰速运 SF1234567890123" in report
    assert 'data-refused-line="3"' in report and "不是中通快递的单号格式" in report
    assert 'data-refused-line="4"' in report and "订单已发货，不能发货" in report
    with console_app.extensions["storage"].sessions() as db:
        assert [db.get(Order, o.id).state for o in (first, second)] == ["shipped", "paid"]
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "order.ship_import"))
        assert entry.actor == "manager" and first.number in entry.detail
    assert "顺丰速运 SF1234567890123" in sent_to(sandbox, "o-a")[0]
    assert sent_to(sandbox, "o-b") == []
    again = csv_upload(manager, text).text  # the same file twice ships nothing twice
    assert 'data-count="shipped">0<' in again


def test_bad_files_are_refused_with_a_reason_and_only_managers_upload(console_app):
    manager = signed_in(console_app, "manager")
    manager.get("/admin/shop/orders")
    empty = manager.post("/admin/shop/orders/ship-import", {}, follow_redirects=True)
    assert "请选择要上传的 CSV 文件" in empty.text
    big = csv_upload(manager, b"1,2,3\n" * 200_000)
    assert "发货文件最多+1+MB" in requests.utils.unquote(big.location)
    titles = csv_upload(manager, "订单号,快递公司\n1,2\n")
    assert "表头缺少「快递单号」列" in requests.utils.unquote(titles.location)
    agent = signed_in(console_app, "agent")
    agent.get("/admin/account")
    assert csv_upload(agent, "1,顺丰,SF1234567890123").status_code == 403
    no_token = manager.post("/admin/shop/orders/ship-import",
                            {"file": (io.BytesIO(b"1,2,3"), "a.csv")}, with_token=False,
                            content_type="multipart/form-data")
    assert no_token.status_code == 400


def test_the_customer_s_order_page_shows_the_carrier_and_number(console_app):
    [order] = make_orders(console_app, (ZHANG, "paid", "o-page"))
    manager = signed_in(console_app, "manager")
    manager.get(f"/admin/shop/orders/{order.id}")
    token = orders.page_token(str(console_app.config["SECRET_KEY"]), order.number)
    customer = console_app.test_client()
    assert "快递：" not in customer.get(f"/shop/o/{order.number}?t={token}").text
    manager.post(f"/admin/shop/orders/{order.id}/ship",
                 {"carrier": "JD", "tracking": "JDVA12345678901"})
    page = customer.get(f"/shop/o/{order.number}?t={token}").text
    assert '<p id="parcel">快递：京东物流 JDVA12345678901</p>' in page
