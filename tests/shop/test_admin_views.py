"""The manager's shop pages: ship an order (the customer is told), stock and the shelf, and
products created, edited, imported and exported from the console."""

from __future__ import annotations

import io
import json
import time

import pytest
import requests
from markupsafe import escape
from sqlalchemy import select

from console.audit_log import AuditEntry
from content_audit import default_screener
from devtools.demo import seed_catalog
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
    seed_catalog(console_app.extensions["storage"].sessions, default_screener())
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": "o-ship", "kind": "message"})
    order = paid_order(console_app)
    manager = signed_in(console_app, "manager")
    listing = manager.get("/admin/shop/orders").text
    assert f'data-order="{order.number}"' in listing
    page = manager.get(f"/admin/shop/orders/{order.id}").text
    assert "张三 13800138000 浙江杭州市西湖区文三路100号" in page  # the full phone, for shipping
    bad = manager.post(f"/admin/shop/orders/{order.id}/ship", {"carrier": "SF", "tracking": "x"},
                       follow_redirects=True)
    assert "不是顺丰速运的单号格式（例如 SF1234567890123）" in bad.text
    ship = {"carrier": "SF", "tracking": "SF1234567890123"}
    manager.post(f"/admin/shop/orders/{order.id}/ship", ship)
    with console_app.extensions["storage"].sessions() as db:
        shipped = db.get(Order, order.id)
        assert (shipped.state, shipped.carrier, shipped.tracking_no) == (
            "shipped", "SF", "SF1234567890123")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": "o-ship"}).json()
        if sent["messages"]:
            break
        time.sleep(0.05)
    assert "顺丰速运 SF1234567890123" in str(sent["messages"][0])
    again = manager.post(f"/admin/shop/orders/{order.id}/ship",
                         {"carrier": "SF", "tracking": "SF7654321098765"}, follow_redirects=True)
    assert "订单已发货，不能发货" in again.text


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


# --- creating and editing a product ---------------------------------------------------------

def product_form(**overrides) -> dict:
    """What a manager types into the new-product form: one SKU row, two blank ones."""
    form = {
        "name": "桂花蜜", "category": "农家特产", "description": "秋天的桂花蜜，清甜不腻",
        "tags": "蜂蜜，桂花", "image_url": "https://img.example.com/honey.jpg",
        "on_shelf": "1", "return_exception": "",
        "sku_id": ["", "", ""], "stock_was": ["", "", ""], "variant": ["500g", "", ""],
        "price": ["68", "", ""], "original_price": ["88.5", "", ""], "stock": ["20", "", ""],
    }
    form.update(overrides)
    return form


def product_named(app, name: str) -> Product | None:
    with app.extensions["storage"].sessions() as db:
        product = db.scalar(select(Product).where(Product.name == name))
        if product is not None:
            _ = product.skus
        return product


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.extensions["storage"].sessions() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_manager_creates_a_product_from_the_products_page(console_app):
    manager = signed_in(console_app, "manager")
    listing = manager.get("/admin/shop/products").text
    assert 'href="/admin/shop/products/new"' in listing and "新建商品" in listing
    assert "规格" in manager.get("/admin/shop/products/new").text
    done = manager.post("/admin/shop/products/new", product_form(), follow_redirects=True)
    assert "「桂花蜜」已创建" in done.text
    honey = product_named(console_app, "桂花蜜")
    assert (honey.on_shelf, honey.tags, honey.return_exception) == (True, "蜂蜜 桂花", "")
    assert [(s.variant, s.price_fen, s.original_price_fen, s.stock) for s in honey.skus] == [
        ("500g", 6800, 8850, 20)]
    with console_app.extensions["storage"].sessions() as db:
        assert db.get(catalog.Category, honey.category_id).name == "农家特产"
    [entry] = audit_entries(console_app, "product.create")
    assert entry.actor == "manager" and entry.target == f"product:{honey.id}"
    assert entry.details["changes"]["name"] == [None, "桂花蜜"]
    assert f'href="/admin/shop/products/{honey.id}/edit"' in done.text


def test_editing_price_stock_return_rule_and_adding_a_variant(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        product = catalog.add_product(db, name="真丝眼罩", category_name="家居",
                                      skus=[("藏青", 5900, 10)], on_shelf=False)
        product_id, sku_id = product.id, product.skus[0].id
    manager = signed_in(console_app, "manager")
    page = manager.get(f"/admin/shop/products/{product_id}/edit").text
    assert 'value="真丝眼罩"' in page and 'value="59"' in page and 'value="家居"' in page
    form = product_form(
        name="真丝眼罩", category="家居", description="", tags="", image_url="", on_shelf="",
        return_exception="hygiene", sku_id=[str(sku_id), ""], stock_was=["10", ""],
        variant=["藏青", "酒红"], price=["49.9", "52"], original_price=["59", ""],
        stock=["0", "3"])
    manager.post(f"/admin/shop/products/{product_id}/edit", form)
    saved = product_named(console_app, "真丝眼罩")
    assert saved.return_exception == "hygiene" and saved.on_shelf is False
    assert [(s.id == sku_id, s.variant, s.price_fen, s.original_price_fen, s.stock)
            for s in saved.skus] == [(True, "藏青", 4990, 5900, 0), (False, "酒红", 5200, None, 3)]
    [entry] = audit_entries(console_app, "product.update")
    assert entry.details["changes"]["return_exception"] == ["", "hygiene"]
    assert "name" not in entry.details["changes"]


def test_stock_an_order_took_while_the_form_was_open_is_not_put_back(console_app):
    seed_catalog(console_app.extensions["storage"].sessions, default_screener())
    manager = signed_in(console_app, "manager")
    honey = product_named(console_app, "土蜂蜜")
    sku = honey.skus[0]
    page = manager.get(f"/admin/shop/products/{honey.id}/edit").text
    assert f'name="stock_was" value="{sku.stock}"' in page
    paid_order(console_app)  # a customer buys one meanwhile
    form = product_form(name=honey.name, category="", description=honey.description,
                        tags=honey.tags, image_url="", on_shelf="1", sku_id=[str(sku.id)],
                        stock_was=[str(sku.stock)], variant=[sku.variant], price=["77"],
                        original_price=[""], stock=[str(sku.stock)])
    form["category"] = "农家特产"
    manager.post(f"/admin/shop/products/{honey.id}/edit", form)
    after = product_named(console_app, "土蜂蜜").skus[0]
    assert (after.price_fen, after.stock) == (7700, sku.stock - 1)  # price saved, stock kept
    form["stock"] = ["50"]
    clash = manager.post(f"/admin/shop/products/{honey.id}/edit", form)
    assert clash.status_code == 409 and f"库存刚刚因订单变为 {sku.stock - 1}" in clash.text
    assert f'name="stock_was" value="{sku.stock - 1}"' in clash.text  # the next save may go
    form["stock_was"] = [str(sku.stock - 1)]
    manager.post(f"/admin/shop/products/{honey.id}/edit", form)
    assert product_named(console_app, "土蜂蜜").skus[0].stock == 50


@pytest.mark.parametrize(("price", "why"), [("abc", "无效"), ("0", "无效"), ("-5", "无效"),
                                            ("1000000.01", "无效"), ("", "请填写")])
def test_a_bad_price_is_explained_and_the_typed_input_kept(console_app, price, why):
    manager = signed_in(console_app, "manager")
    refused = manager.post("/admin/shop/products/new",
                           product_form(price=[price, "", ""], description="手工采蜜 <小批量>"))
    assert refused.status_code == 400
    assert why in refused.text
    assert why == "请填写" or "0.01–1000000 元" in refused.text
    assert 'value="桂花蜜"' in refused.text and "手工采蜜 &lt;小批量&gt;" in refused.text
    assert f'name="price" value="{escape(price)}"' in refused.text
    assert 'value="88.5"' in refused.text and 'value="20"' in refused.text
    assert product_named(console_app, "桂花蜜") is None


def test_other_bad_input_is_refused_with_a_reason(console_app):
    manager = signed_in(console_app, "manager")
    cases = {
        "原价（划线价）需高于售价": product_form(original_price=["50", "", ""]),
        "库存「几个」无效": product_form(stock=["几个", "", ""]),
        "规格「500g」重复": product_form(variant=["500g", "500g", ""], price=["1", "2", ""],
                                     stock=["1", "1", ""]),
        "至少需要一个规格": product_form(variant=["", "", ""], price=["", "", ""],
                                    original_price=["", "", ""], stock=["", "", ""]),
        "退货规则": product_form(return_exception="whatever"),
    }
    for reason, form in cases.items():
        refused = manager.post("/admin/shop/products/new", form)
        assert refused.status_code == 400 and reason in refused.text, reason
    manager.post("/admin/shop/products/new", product_form())
    twin = manager.post("/admin/shop/products/new", product_form())
    assert "类目「农家特产」中已有同名商品「桂花蜜」" in twin.text


def test_banned_words_are_refused_by_the_gate_and_nothing_is_saved(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        product_id = catalog.add_product(db, name="山茶油", skus=[("1L", 12800, 5)]).id
    manager = signed_in(console_app, "manager")
    refused = manager.post("/admin/shop/products/new",
                           product_form(description="全网最好的桂花蜜，国家级品质"))
    assert refused.status_code == 400
    assert "「最好」" in refused.text and "「国家级品质」" in refused.text
    assert "全网最好的桂花蜜，国家级品质" in refused.text  # the typed copy, to fix in place
    assert product_named(console_app, "桂花蜜") is None
    edit = product_form(name="山茶油", category="", description="国家级压榨工艺",
                        sku_id=[str(product_named(console_app, "山茶油").skus[0].id)],
                        stock_was=["5"], variant=["1L"], price=["99"], original_price=[""],
                        stock=["5"])
    assert manager.post(f"/admin/shop/products/{product_id}/edit", edit).status_code == 400
    kept = product_named(console_app, "山茶油")
    assert (kept.description, kept.skus[0].price_fen) == ("", 12800)
    assert not audit_entries(console_app, "product.update")


def test_copy_needing_review_is_saved_off_the_shelf(console_app):
    manager = signed_in(console_app, "manager")
    done = manager.post("/admin/shop/products/new",
                        product_form(description="转发朋友圈即可领取小样"),
                        follow_redirects=True)
    assert "文案已提交合规审核" in done.text
    assert product_named(console_app, "桂花蜜").on_shelf is False
    [entry] = audit_entries(console_app, "product.create")
    assert entry.details["held_for_review"] is True


def test_only_managers_may_edit_products_and_every_form_needs_its_token(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        product_id = catalog.add_product(db, name="山茶油", skus=[("1L", 12800, 5)]).id
    reviewer = signed_in(console_app, "reviewer")
    assert reviewer.get("/admin/shop/products/new").status_code == 403
    assert reviewer.get(f"/admin/shop/products/{product_id}/edit").status_code == 403
    assert reviewer.post("/admin/shop/products/new", product_form()).status_code == 403
    assert reviewer.post("/admin/shop/products/import",
                         {"file": (io.BytesIO(b"x"), "a.csv")}).status_code == 403
    assert reviewer.get("/admin/shop/products/export").status_code == 403
    manager = signed_in(console_app, "manager")
    assert manager.post("/admin/shop/products/new", product_form(),
                        with_token=False).status_code == 400
    assert manager.post(f"/admin/shop/products/{product_id}/edit", product_form(),
                        with_token=False).status_code == 400
    assert manager.post("/admin/shop/products/import", {"file": (io.BytesIO(b"x"), "a.csv")},
                        with_token=False).status_code == 400
    assert product_named(console_app, "桂花蜜") is None
    assert manager.get("/admin/shop/products/999/edit").status_code == 404


# --- import and export ----------------------------------------------------------------------

HEADER = "category,name,variant,price,original_price,stock,tags,description,on_shelf\n"
CATALOG_CSV = HEADER + (
    "美妆,口红,正红,129,159,10,口红,显色,1\n"      # line 2
    "美妆,口红,豆沙,abc,,10,口红,显色,1\n"         # line 3: bad price → 口红 whole out
    "零食,坚果,500g,39.9,,100,坚果,每日坚果,1\n"   # line 4
)


def upload(person, text: str | bytes, name: str = "catalog.csv", dry_run: bool = False):
    data = text.encode() if isinstance(text, str) else text
    form = {"file": (io.BytesIO(data), name), **({"dry_run": "1"} if dry_run else {})}
    return person.post("/admin/shop/products/import", form, follow_redirects=True)


def product_names(app) -> set[str]:
    with app.extensions["storage"].sessions() as db:
        return set(db.scalars(select(Product.name)))


def test_a_dry_run_reports_bad_rows_by_line_and_imports_nothing(console_app):
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/shop/products").text
    assert 'enctype="multipart/form-data"' in page and "只检查不导入" in page
    report = upload(manager, CATALOG_CSV, dry_run=True).text
    assert "检查结果（只检查，未导入）" in report
    assert '<strong data-count="created">1</strong>' in report
    assert '<strong data-count="rejected">2</strong>' in report
    assert '<tr data-line="3"><td>第 3 行</td><td>价格「abc」无效' in report
    assert '<tr data-line="2"><td>第 2 行</td><td>同一商品「口红」的其他行有错误' in report
    assert product_names(console_app) == set()
    assert not audit_entries(console_app, "product.import")


def test_a_real_import_adds_products_and_the_export_reads_back(console_app):
    manager = signed_in(console_app, "manager")
    report = upload(manager, CATALOG_CSV).text
    assert "导入结果" in report and '<strong data-count="created">1</strong>' in report
    assert product_names(console_app) == {"坚果"}
    [entry] = audit_entries(console_app, "product.import")
    assert (entry.target, entry.details["created"], entry.details["rejected"]) == (
        "catalog.csv", 1, 2)
    exported = manager.get("/admin/shop/products/export")
    assert exported.headers["Content-Disposition"].startswith("attachment; filename=")
    items = exported.get_json()
    assert items[0]["name"] == "坚果" and items[0]["skus"][0]["price"] == "39.90"
    items[0]["name"] = "碧根果"
    again = upload(manager, json.dumps(items, ensure_ascii=False), name="catalog.json").text
    assert '<strong data-count="created">1</strong>' in again
    assert product_names(console_app) == {"坚果", "碧根果"}
    bad = upload(manager, '[{"name": "x", "skus": []}]', name="bad.json", dry_run=True).text
    assert "第 1 个商品" in bad and "至少需要一个规格" in bad


def test_unreadable_and_oversized_files_are_refused_with_a_reason(console_app):
    manager = signed_in(console_app, "manager")
    assert "JSON 格式错误" in upload(manager, "[{", name="x.json").text
    assert "UTF-8" in upload(manager, HEADER.encode("gbk") + "美妆,口红".encode("gbk")).text
    assert "CSV 缺少列" in upload(manager, "a,b\n1,2\n").text
    wide = HEADER.replace("\n", ",note\n") + "零食,坚果,500g,39.9,,1,,,1," + "x" * 100_000
    assert "可新建 <strong" in upload(manager, wide, dry_run=True).text  # over the app's 64 KiB
    for size in (2 * 1024 * 1024 + 1, 3 * 1024 * 1024):  # caught by the view, then by Flask
        refused = upload(manager, HEADER + "x" * (size - len(HEADER)))
        assert "文件太大：导入文件最多 2 MB" in refused.text
    assert product_names(console_app) == set()


def test_a_manager_sets_a_whole_category_as_perishable(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        orange = catalog.add_product(db, name="赣南脐橙", category_name="生鲜",
                                     skus=[("5斤", 3900, 9)])
        category_id, product_id = orange.category_id, orange.id
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/shop/products").text
    assert f'data-category="{category_id}"' in page
    bad = manager.post(f"/admin/shop/categories/{category_id}/returns",
                       {"return_exception": "whatever"})
    assert "请选择有效的退货规则" in requests.utils.unquote(bad.location)
    manager.post(f"/admin/shop/categories/{category_id}/returns", {"return_exception": "fresh"})
    with console_app.extensions["storage"].sessions() as db:
        assert catalog.return_exception(db, product_id) == "fresh"
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "category.returns"))
        assert entry is not None
    reviewer = signed_in(console_app, "reviewer")
    assert reviewer.post(f"/admin/shop/categories/{category_id}/returns",
                         {"return_exception": ""}).status_code == 403
