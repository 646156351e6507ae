"""The console's product list: covers, a category filter, 待审核 for copy the reviewer has not
decided, and a product approved by the reviewer going on the shelf by itself when the manager
had asked for it. Refusals say what did not happen (未保存, 未上架), not 未发送."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote_plus

from sqlalchemy import select

from content_audit.review import ReviewItem
from shop import catalog
from shop.catalog import Product
from tests.console.conftest import signed_in
from tests.shop.test_admin_views import product_form, product_named
from tests.shop.test_images import picture

SHARE = "转发朋友圈即可领取小样"  # needs the reviewer under the shipped rules


def row_of(page: str, product_id: int) -> str:
    match = re.search(rf'<tr data-product="{product_id}"[^>]*>.*?</tr>', page, re.S)
    assert match, f"no row for product {product_id}"
    return match.group(0)


def on_shelf(app, product_id: int) -> tuple[bool, bool]:
    with app.extensions["storage"].sessions() as db:
        product = db.get(Product, product_id)
        return product.on_shelf, product.shelf_when_approved


def pending_item(app) -> ReviewItem:
    with app.extensions["storage"].sessions() as db:
        return db.scalar(select(ReviewItem).where(ReviewItem.source == "product",
                                                  ReviewItem.state == "pending"))


def test_the_list_shows_each_cover_and_filters_by_category(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        honey = catalog.add_product(db, name="桂花蜜", category_name="农家特产",
                                    skus=[("500g", 6800, 5)])
        lipstick = catalog.add_product(db, name="丝绒口红", category_name="美妆护肤",
                                       skus=[("正红", 12900, 5)])
        loose = catalog.add_product(db, name="帆布袋", skus=[("米白", 3900, 5)])
        ids = honey.id, lipstick.id, loose.id
        farm = honey.category_id
    manager = signed_in(console_app, "manager")
    manager.get(f"/admin/shop/products/{ids[0]}/edit")
    manager.post(f"/admin/shop/products/{ids[0]}/images",
                 {"images": [(io.BytesIO(picture()), "honey.jpg")]})
    page = manager.get("/admin/shop/products")
    assert "<th>图片</th>" in page.text
    with console_app.extensions["storage"].sessions() as db:
        key = db.get(Product, ids[0]).images[0].file_key
    assert f'<img src="/shop/media/{key}-t.jpg" alt="桂花蜜 封面"' in row_of(page.text, ids[0])
    assert "无图" in row_of(page.text, ids[1])
    assert "img-src 'self' data: https:" in page.headers["Content-Security-Policy"]
    assert '<option value="none">未分类</option>' in page.text
    farm_only = manager.get(f"/admin/shop/products?category={farm}").text
    assert f'<option value="{farm}" selected>农家特产</option>' in farm_only
    assert f'data-product="{ids[0]}"' in farm_only
    assert f'data-product="{ids[1]}"' not in farm_only
    assert f'data-product="{ids[2]}"' not in farm_only
    uncategorised = manager.get("/admin/shop/products?category=none").text
    assert [int(i) for i in re.findall(r'data-product="(\d+)"', uncategorised)] == [ids[2]]
    assert "这个类目还没有商品" in manager.get("/admin/shop/products?category=999").text


def test_copy_waiting_for_review_shows_and_approval_puts_it_on_the_shelf(console_app):
    manager = signed_in(console_app, "manager")
    done = manager.post("/admin/shop/products/new", product_form(description=SHARE),
                        follow_redirects=True)
    assert "「桂花蜜」已创建。文案已提交合规审核，暂未上架；审核通过后会自动上架" in done.text
    product_id = product_named(console_app, "桂花蜜").id
    row = row_of(done.text, product_id)
    assert 'data-state="pending"' in row and "待审核" in row
    assert "审核通过后自动上架" in row and "取消自动上架" in row
    assert on_shelf(console_app, product_id) == (False, True)
    editing = manager.get(f"/admin/shop/products/{product_id}/edit").text
    assert 'name="on_shelf" value="1" checked' in editing  # the wish shows as asked

    reviewer = signed_in(console_app, "reviewer")
    item = pending_item(console_app)
    reviewer.post(f"/admin/audit/items/{item.id}/decide", {"decision": "approved"})
    assert on_shelf(console_app, product_id) == (True, False)  # no second click
    row = row_of(manager.get("/admin/shop/products").text, product_id)
    assert 'data-state="on"' in row and "在售" in row and "下架" in row


def test_putting_held_copy_on_the_shelf_waits_and_can_be_withdrawn(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        product_id = catalog.add_product(db, name="会员面霜", description=SHARE,
                                         skus=[("50ml", 16800, 5)], on_shelf=False).id
    manager = signed_in(console_app, "manager")
    manager.get("/admin/shop/products")
    asked = manager.post(f"/admin/shop/products/{product_id}/shelf", follow_redirects=True)
    assert "「会员面霜」的文案已提交合规审核，暂未上架；审核通过后会自动上架" in asked.text
    assert 'role="alert"' not in asked.text and "未发送" not in asked.text
    assert on_shelf(console_app, product_id) == (False, True)
    back = manager.post(f"/admin/shop/products/{product_id}/shelf", {"category": "none"})
    assert "category=none" in back.location  # the filtered list the manager was on
    withdrawn = manager.get(back.location)
    assert "「会员面霜」不再在审核通过后自动上架" in withdrawn.text
    assert on_shelf(console_app, product_id) == (False, False)
    row = row_of(withdrawn.text, product_id)
    assert "待审核" in row and ">上架</button>" in row  # still waiting, not wished for
    reviewer = signed_in(console_app, "reviewer")
    reviewer.post(f"/admin/audit/items/{pending_item(console_app).id}/decide",
                  {"decision": "approved"})
    assert on_shelf(console_app, product_id) == (False, False)


def test_a_rejection_shows_with_its_reason_and_drops_the_wish(console_app):
    manager = signed_in(console_app, "manager")
    manager.post("/admin/shop/products/new", product_form(description=SHARE))
    product_id = product_named(console_app, "桂花蜜").id
    reviewer = signed_in(console_app, "reviewer")
    reviewer.post(f"/admin/audit/items/{pending_item(console_app).id}/decide",
                  {"decision": "rejected", "reason": "诱导分享"})
    row = row_of(manager.get("/admin/shop/products").text, product_id)
    assert 'data-state="rejected"' in row and "审核未通过" in row and "诱导分享" in row
    assert "自动上架" not in row and ">上架</button>" in row
    assert on_shelf(console_app, product_id) == (False, False)
    refused = manager.post(f"/admin/shop/products/{product_id}/shelf")
    message = unquote_plus(refused.location)
    assert "未上架：这段文案审核未通过（诱导分享），请修改后再试" in message
    assert "未发送" not in message


def test_refusals_say_what_did_not_happen(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        product_id = catalog.add_product(db, name="全网最好的红糖", skus=[("400g", 3200, 5)],
                                         on_shelf=False).id
    manager = signed_in(console_app, "manager")
    shelf = manager.post(f"/admin/shop/products/{product_id}/shelf", follow_redirects=True)
    assert "未上架：含有广告法或平台规则禁止的用语：「最好」" in shelf.text
    saved = manager.post("/admin/shop/products/new",
                         product_form(description="全网最好的桂花蜜"))
    assert saved.status_code == 400
    assert "未保存：含有广告法或平台规则禁止的用语：「最好」" in saved.text
    imported = manager.post("/admin/shop/products/import", {"file": (io.BytesIO(
        "category,name,variant,price,original_price,stock,tags,description,on_shelf\n"
        f"美妆,全网最好用的面霜,50ml,168,,5,,,1\n美妆,会员面霜,50ml,168,,5,,{SHARE},1\n"
        .encode()), "c.csv")}, follow_redirects=True)
    assert "未导入：含有广告法或平台规则禁止的用语：「最好用」" in imported.text
    assert "暂不上架（文件要求上架的，审核通过后自动上架）：会员面霜" in imported.text
    for page in (shelf.text, saved.text, imported.text):
        assert "未发送" not in page
