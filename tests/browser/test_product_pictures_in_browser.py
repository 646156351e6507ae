"""Pictures and the review shelf in a real browser: a manager uploads and arranges pictures,
filters the list by category and sees 待审核; the reviewer's approval puts the product on sale
without another click; a customer's product page shows the gallery and copies the chat code."""

from __future__ import annotations

from sqlalchemy import select

from shop.catalog import Product
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.shop.test_images import picture

SHARE = "转发朋友圈即可领取小样"


def loaded(locator) -> bool:
    """The picture was fetched and decoded (a blocked or broken one has no natural width)."""
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


def test_pictures_review_and_the_product_page(browser, page, live):
    sign_in(page, "manager")
    page.goto("/admin/shop/products/new")
    page.get_by_label("商品名称").fill("桂花蜜")
    page.get_by_label("类目（填写新名称即新建类目，可留空）").fill("农家特产")
    page.get_by_label("商品描述").fill(f"秋天的桂花蜜，{SHARE}")
    page.get_by_label("上架销售").check()
    page.get_by_label("第 1 行 规格").fill("500g")
    page.get_by_label("第 1 行 价格（元）").fill("68")
    page.get_by_label("第 1 行 库存").fill("20")
    page.get_by_role("button", name="创建商品").click()
    assert page.get_by_role("status").inner_text() == (
        "「桂花蜜」已创建。文案已提交合规审核，暂未上架；审核通过后会自动上架")
    with live.app.extensions["storage"].sessions() as db:
        honey = db.scalar(select(Product).where(Product.name == "桂花蜜")).id
    row = page.locator(f'tr[data-product="{honey}"]')
    assert "待审核" in row.inner_text() and row.get_attribute("data-state") == "pending"

    page.get_by_role("link", name="编辑 桂花蜜").click()
    page.get_by_label("上传图片（可多选）").set_input_files([
        {"name": "front.jpg", "mimeType": "image/jpeg", "buffer": picture(color="orange")},
        {"name": "side.png", "mimeType": "image/png", "buffer": picture("PNG", color="green")},
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all"},
    ])
    page.get_by_role("button", name="上传", exact=True).click()
    assert page.get_by_role("status").inner_text() == "已上传 2 张图片"
    assert "「notes.jpg」只支持 JPEG、PNG、WebP" in page.get_by_role("alert").inner_text()
    tiles = page.locator("ol.pictures li")
    assert tiles.count() == 2 and all(loaded(tiles.nth(i).locator("img")) for i in range(2))
    second = tiles.nth(1).get_attribute("data-image")
    page.get_by_role("button", name="图片 2 设为封面").click()
    assert page.get_by_role("status").inner_text() == "已设为封面"
    assert page.locator("ol.pictures li").first.get_attribute("data-image") == second
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "product-pictures.png"), full_page=True)

    page.goto("/admin/shop/products")
    page.get_by_label("类目").select_option(label="农家特产")
    page.get_by_role("button", name="筛选").click()
    assert page.locator("tr[data-product]").count() == 1
    assert loaded(page.get_by_role("img", name="桂花蜜 封面"))
    page.screenshot(path=str(ARTIFACTS / "products-with-covers.png"), full_page=True)

    reviewer = browser.new_context(base_url=live.url, locale="zh-CN").new_page()
    sign_in(reviewer, "reviewer")
    reviewer.locator("tr[data-item]").first.get_by_role("link").click()
    reviewer.get_by_role("button", name="通过", exact=True).click()
    assert reviewer.get_by_role("status").inner_text().endswith("已通过")
    reviewer.context.close()

    page.reload()
    row = page.locator(f'tr[data-product="{honey}"]')
    assert row.get_attribute("data-state") == "on" and "在售" in row.inner_text()

    customer = browser.new_context(base_url=live.url, locale="zh-CN",
                                   viewport={"width": 390, "height": 844})
    customer.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    phone = customer.new_page()
    phone.goto(f"/shop/p/{honey}")
    gallery = phone.locator("#gallery img")
    assert gallery.count() == 2 and all(loaded(gallery.nth(i)) for i in range(2))
    assert phone.locator("#stock").inner_text() == "库存 20"
    phone.get_by_role("button", name=f"复制「商品 {honey}」").click()
    assert phone.get_by_role("status").inner_text().startswith(f"已复制「商品 {honey}」")
    assert phone.evaluate("navigator.clipboard.readText()") == f"商品 {honey}"
    phone.screenshot(path=str(ARTIFACTS / "product-page.png"), full_page=True)
    customer.close()
