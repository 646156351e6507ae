"""逛逛 by chat: categories, pages, numbers, tapped links, search, and the product page."""

from __future__ import annotations

import re

import pytest

from bot.inbound import parse_xml_fields
from content_audit import default_screener
from devtools.demo import seed_catalog


def fields(reply: str) -> dict:
    return parse_xml_fields(reply.encode())


def text(reply: str) -> str:
    return fields(reply)["Content"]


@pytest.fixture()
def shop(app, wechat):
    assert seed_catalog(app.extensions["storage"].sessions, default_screener()) == 24
    return wechat


def test_the_menu_button_lists_categories_with_tappable_links(shop):
    reply = text(shop.reply(shop.user.click("MENU_BROWSE")))
    assert reply.startswith("🛍 商品分类")
    assert "1. <a href=\"weixin://bizmsgmenu?msgmenucontent=%E5%88%86%E7%B1%BB%20" in reply
    assert "美妆护肤</a>（6件）" in reply and "潮玩收藏</a>（6件）" in reply


def test_number_then_number_reaches_a_product_card(shop):
    shop.say("逛逛")
    listing = text(shop.say("2"))
    assert listing.startswith("「母婴好物」共 6 件（第 1/2 页）")
    assert "回复「下一页」翻页" in listing
    second_page = text(shop.say("下一页"))
    assert "第 2/2 页" in second_page and "1. " in second_page and "2. " not in second_page
    assert "回复「上一页」返回" in second_page
    card = fields(shop.say("1"))
    assert card["MsgType"] == "news"
    assert card["ArticleCount"] == "1"
    assert re.search(r"/shop/p/\d+$", card["Articles"]["item"]["Url"])


def test_a_tapped_category_and_product_link_work_without_any_state(shop):
    listing = text(shop.say("分类 农家特产"))
    product_id = re.search(r"msgmenucontent=%E5%95%86%E5%93%81%20(\d+)", listing).group(1)
    card = fields(shop.say(f"商品 {product_id}"))
    assert card["Articles"]["item"]["Title"].startswith(("赣南脐橙", "五常", "土蜂蜜", "烟薯",
                                                         "高山绿茶", "手工红糖"))


def test_search_with_a_synonym_and_a_typo(shop):
    assert "丝绒哑光口红" in text(shop.say("唇膏"))
    listing = text(shop.say("有口虹吗"))
    assert "丝绒哑光口红" in listing
    card = fields(shop.say("1"))
    assert card["Articles"]["item"]["Title"] == "丝绒哑光口红 ¥129"
    assert "已售0件" in card["Articles"]["item"]["Description"]


def test_out_of_range_numbers_and_unknown_products_are_answered(shop):
    shop.say("逛逛")
    assert text(shop.say("9")) == "请回复 1–4 之间的序号。"
    assert "已下架" in text(shop.say("商品 99999"))
    assert text(shop.say("下一页")).startswith("请先回复「逛逛」")


def test_the_product_page_shows_prices_stock_and_sold_count(app, shop):
    client = app.test_client()
    page = client.get("/shop/p/1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "丝绒哑光口红" in html and "¥129" in html and "已售0件" in html
    # One script of our own (the copy button), nothing inline, nothing from elsewhere.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/shop/static/buy.js">']
    assert "http" not in html.split("<body>")[1]
    assert client.get("/shop/p/99999").status_code == 404


def test_the_card_shows_the_cover_and_the_page_the_gallery(app, shop):
    """An object store's picture is PicUrl as it is; a card without pictures has none."""
    from shop import images
    from shop.catalog import Product

    assert fields(shop.say("商品 1"))["Articles"]["item"]["PicUrl"] == ""
    with app.extensions["storage"].sessions.begin() as db:
        images.add_url(db, db.get(Product, 1), "https://cdn.example.com/lipstick.jpg")
    card = fields(shop.say("商品 1"))["Articles"]["item"]
    assert card["PicUrl"] == "https://cdn.example.com/lipstick.jpg"
    page = app.test_client().get("/shop/p/1").get_data(as_text=True)
    assert '<img src="https://cdn.example.com/lipstick.jpg" alt="丝绒哑光口红 图片 1">' in page
