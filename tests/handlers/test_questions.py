"""Free-text questions through the webhook: the FAQ in the customer's own words, the choices
offered when the bot is unsure, and policy questions told from questions about one's parcel."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from sqlalchemy import select

from bot.inbound import parse_xml_fields
from content_audit import default_screener
from customer_service.faq import FaqReach, UnansweredQuestion
from devtools.demo import seed_catalog, seed_faq
from shop import orders
from shop.catalog import Sku
from tests.conftest import WeChat

RETURNS = "签收后 7 天内支持无理由退货"
SHIPPING = "付款后 48 小时内发货"


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


@pytest.fixture()
def shop(make_app):
    app = make_app(SERVICE_HOURS="00:00-24:00")  # staffed whenever the test runs
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    seed_faq(app.extensions["storage"].sessions)
    return app


@pytest.mark.parametrize(("asked", "answer"), [
    ("可以退不", RETURNS), ("鞋子小了能退吗", RETURNS), ("7天无理由吗", RETURNS),
    ("發貨快嗎", SHIPPING), ("发货及时吗", SHIPPING), ("节假日发货吗", SHIPPING),
    ("周末发货吗", SHIPPING), ("运费谁出", "全场包邮"), ("改dizhi", "发货前回复「修改地址」"),
])
def test_everyday_wordings_get_the_entry_they_ask(shop, asked, answer):
    customer = WeChat(shop.test_client())
    assert text(customer.say(asked)).startswith(answer)


@pytest.mark.parametrize("asked", ["我的快递到哪了", "我的订单发了吗", "昨天买的怎么还没到"])
def test_a_question_about_ones_own_parcel_goes_to_the_order_not_the_faq(shop, asked):
    customer = WeChat(shop.test_client())
    assert text(customer.say(asked)).startswith("您还没有订单")


def test_a_customer_with_an_order_asking_either_way_gets_both_briefly(shop):
    customer = WeChat(shop.test_client())
    with shop.extensions["storage"].sessions.begin() as db:
        sku = db.scalars(select(Sku)).first()
        number = orders.place(db, customer.user.openid, [(sku.id, 1)]).number
    both = text(customer.say("我的订单能开发票吗"))
    assert both.startswith(f"您的订单：订单 {number} ")
    assert "关于「可以开发票吗？」：可以。请回复「人工」" in both
    assert text(customer.say("周末发货吗")).startswith(SHIPPING)  # policy only
    assert text(customer.say("我的快递到哪了")).startswith(f"订单 {number} ")  # parcel only
    assert text(customer.say("发货了吗")).startswith(f"订单 {number} ")


def test_when_unsure_the_closest_entries_are_offered_and_a_tap_answers(shop):
    customer = WeChat(shop.test_client())
    offered = text(customer.say("你们周末上班吗"))
    assert offered.startswith("您是想问：\n1. <a href=\"weixin://bizmsgmenu?msgmenucontent=")
    assert "多久发货？</a>" in offered and ">转人工客服</a>" in offered
    assert "商品" not in offered  # not a product list
    tapped = unquote(offered.split("msgmenucontent=")[1].split("&")[0])
    assert tapped == "多久发货？"
    assert text(customer.say(tapped)).startswith(SHIPPING)
    with shop.extensions["storage"].sessions() as db:
        reached = {(r.text, r.outcome) for r in db.scalars(select(FaqReach))}
        assert ("你们周末上班吗", "offered") in reached
        assert ("你们周末上班吗", "chosen") in reached
        assert ("多久发货", "answered") in reached
        assert db.scalar(select(UnansweredQuestion.text)) == "你们周末上班吗"


def test_a_person_from_the_choices_carries_the_question(shop):
    customer = WeChat(shop.test_client())
    customer.say("你们周末上班吗")
    assert text(customer.say("人工")).startswith("已为您转接人工客服")


@pytest.mark.parametrize("asked", ["你们老板是哪里人", "今天天气真好", "怎么退订推送消息"])
def test_questions_the_faq_does_not_cover_get_no_faq_answer(shop, asked):
    customer = WeChat(shop.test_client())
    reply = text(customer.say(asked))
    for answer in (RETURNS, SHIPPING, "全场包邮", "可以。请回复", "发货前回复", "所有商品均为"):
        assert not reply.startswith(answer)


@pytest.mark.parametrize("asked", ["几点发货", "几点发货呀", "今天几点发货"])
def test_13_what_time_it_ships_is_the_shipping_entry(shop, asked):
    customer = WeChat(shop.test_client())
    assert text(customer.say(asked)).startswith(SHIPPING)


def test_13_a_what_time_question_nothing_answers_is_no_product_search(shop):
    customer = WeChat(shop.test_client())
    reply = text(customer.say("几点截单"))
    assert "相关的商品" not in reply and reply.startswith("抱歉，暂时没有找到「几点截单」的答案")
