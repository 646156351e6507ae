"""A manager creates and edits a product in a real browser; a bad price keeps what was typed."""

from __future__ import annotations

from sqlalchemy import select

from shop.catalog import Product
from tests.browser.conftest import ARTIFACTS, sign_in


def test_a_manager_creates_a_product_and_fixes_a_typo(page, live):
    sign_in(page, "manager")
    page.goto("/admin/shop/products")
    page.get_by_role("link", name="新建商品").click()
    page.get_by_label("商品名称").fill("桂花蜜")
    page.get_by_label("类目（填写新名称即新建类目，可留空）").fill("农家特产")
    page.get_by_label("商品描述").fill("秋天的桂花蜜，清甜不腻")
    page.get_by_label("退货规则").select_option(label="不适用7天无理由：鲜活易腐商品")
    page.get_by_label("上架销售").check()
    page.get_by_label("第 1 行 规格").fill("500g")
    page.get_by_label("第 1 行 价格（元）").fill("6８元元")  # a slip of the keyboard
    page.get_by_label("第 1 行 库存").fill("20")
    page.get_by_role("button", name="创建商品").click()
    assert "价格「6８元元」无效" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("商品描述").input_value() == "秋天的桂花蜜，清甜不腻"
    assert page.get_by_label("第 1 行 库存").input_value() == "20"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "product-form.png"), full_page=True)
    page.get_by_label("第 1 行 价格（元）").fill("68")
    page.get_by_role("button", name="创建商品").click()
    assert page.get_by_role("status").inner_text() == "「桂花蜜」已创建"

    page.get_by_role("link", name="编辑 桂花蜜").click()
    page.get_by_label("第 2 行 规格").fill("1kg")
    page.get_by_label("第 2 行 价格（元）").fill("128")
    page.get_by_label("第 2 行 库存").fill("5")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").inner_text() == "「桂花蜜」已保存"
    page.screenshot(path=str(ARTIFACTS / "products.png"), full_page=True)
    with live.app.extensions["storage"].sessions() as db:
        honey = db.scalar(select(Product).where(Product.name == "桂花蜜"))
        assert (honey.on_shelf, honey.return_exception) == (True, "fresh")
        assert [(s.variant, s.price_fen, s.stock) for s in honey.skus] == [
            ("500g", 6800, 20), ("1kg", 12800, 5)]
