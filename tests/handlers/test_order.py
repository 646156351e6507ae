"""Buying in the chat, step by step, as the customer sees it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.inbound import parse_xml_fields
from content_audit import default_screener
from devtools.demo import seed_catalog
from shop.catalog import Product, Sku
from shop.orders import Order


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


@pytest.fixture()
def shop(app, wechat):
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    return wechat


def product_id(app, name: str) -> int:
    with app.extensions["storage"].sessions() as db:
        return db.scalar(select(Product.id).where(Product.name == name))


def stock(app, product: str, variant: str) -> int:
    with app.extensions["storage"].sessions() as db:
        pid = product_id(app, product)
        return db.scalar(select(Sku.stock).where(Sku.product_id == pid, Sku.variant == variant))


def test_from_card_to_order(app, shop):
    shop.say(f"商品 {product_id(app, '丝绒哑光口红')}")
    choices = text(shop.say("买 2"))
    assert choices.startswith("请选择规格（回复序号）：\n1. #01 正红 ¥129（库存 50）")
    assert text(shop.say("1")).startswith("请发送收货信息")
    partial = text(shop.say("张三 浙江省杭州市西湖区文三路100号"))
    assert partial.startswith(
        "已记下：张三 浙江省杭州市西湖区文三路100号\n还需要：手机号。请补充发送。")
    assert re.search(r'也可以<a href="[^"]*/shop/address/[\w-]+">使用微信收货地址</a>。$', partial)
    read_back = text(shop.say("13800138000"))
    assert read_back.startswith("请确认订单：\n丝绒哑光口红（#01 正红）× 2\n合计 ¥258，包邮")
    assert "寄到：张三 138****8000 浙江省杭州市西湖区文三路100号" in read_back
    done = text(shop.say("确认"))
    assert done.startswith("下单成功！订单号 2") and "应付 ¥258" in done
    assert stock(app, "丝绒哑光口红", "#01 正红") == 48
    link = re.search(r"(/shop/o/\d+\?t=[0-9a-f]+)", done).group(1)
    page = app.test_client().get(link)
    assert page.status_code == 200 and "待付款" in page.get_data(as_text=True)
    assert app.test_client().get(link.split("?")[0] + "?t=0000").status_code == 404
    orders = text(shop.say("我的订单"))
    assert "待付款 ¥258" in orders and "丝绒哑光口红×2" in orders


def test_the_next_order_offers_the_last_address(app, shop):
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买")
    shop.say("1")
    shop.say("张三 13800138000 浙江省杭州市西湖区文三路100号")
    shop.say("确认")
    shop.say(f"商品 {product_id(app, '高山绿茶')}")
    assert text(shop.say("买一件")).startswith("寄到上次的地址吗？\n张三 138****8000")
    assert text(shop.say("是")).startswith("请确认订单：\n高山绿茶（250g 罐装）× 1")


@pytest.mark.parametrize(
    ("typed", "answer"),
    [("abc", "请回复购买数量"), ("0", "数量至少为 1"), ("1000000000", "最多购买 99 件"),
     ("51", "库存只剩 50 件")],
)
def test_bad_quantities_are_explained_and_the_step_waits(app, shop, typed, answer):
    shop.say(f"商品 {product_id(app, '赣南脐橙')}")
    shop.say("买")
    shop.say("2")  # 10 斤装, stock 100 → use the 5 斤装 for the stock check below
    if typed == "51":
        shop.say("取消")
        shop.say(f"商品 {product_id(app, '丝绒哑光口红')}")
        shop.say("买")
        shop.say("1")  # #01 正红, stock 50
    assert answer in text(shop.say(typed))
    assert "请发送收货信息" in text(shop.say("1"))


def test_cancel_leaves_the_flow_at_any_step(app, shop):
    shop.say(f"商品 {product_id(app, '丝绒哑光口红')}")
    shop.say("买 1")
    assert text(shop.say("取消")).startswith("已取消本次下单")
    assert text(shop.say("1")).startswith("请先回复「逛逛」")  # the flow is gone
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(Order.id)) is None


def test_the_last_unit_goes_to_one_customer_only(app, make_app):
    from tests.conftest import WeChat

    seed_catalog(app.extensions["storage"].sessions, default_screener())
    pid = product_id(app, "动漫角色手办")  # 限定版: 2 in stock
    first, second = WeChat(app.test_client()), WeChat(app.test_client())
    for customer in (first, second):
        customer.say(f"商品 {pid}")
        customer.say("买 2")
        customer.say("2")
        customer.say("张三 13800138000 浙江省杭州市西湖区文三路100号")
    assert text(first.say("确认")).startswith("下单成功")
    assert "库存不足" in text(second.say("确认"))
    assert stock(app, "动漫角色手办", "限定版") == 0


def test_buy_without_a_product_explains_how(shop):
    assert text(shop.say("买 1")).startswith("请先选一件商品")


def test_a_price_change_after_the_read_back_is_confirmed_again(app, shop):
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买 1")
    assert "合计 ¥68" in text(shop.say("张三 13800138000 浙江省杭州市西湖区文三路100号"))
    with app.extensions["storage"].sessions.begin() as db:
        db.scalar(select(Sku).where(Sku.product_id == product_id(app, "土蜂蜜"))).price_fen = 7800
    again = text(shop.say("确认"))
    assert again.startswith("价格刚刚有变动") and "合计 ¥78" in again
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(Order.id)) is None  # nothing charged at a price not confirmed
    assert text(shop.say("确认")).startswith("下单成功")


@pytest.mark.parametrize("wrong", ["1380013800", "23800138000", "138-0013-80001"])
def test_a_phone_number_that_is_not_one_is_named_and_asked_again(app, shop, wrong):
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买 1")
    shop.say("1")
    answer = text(shop.say(f"张三 {wrong} 浙江省杭州市西湖区文三路100号"))
    assert answer == f"「{wrong}」不是有效的手机号（11 位，以 1 开头），请重新发送手机号。"
    read_back = text(shop.say("13800138000"))
    assert read_back.startswith("请确认订单：") and "浙江省杭州市西湖区文三路100号" in read_back


def test_an_address_with_only_the_city_is_read_back_in_full_official_form(app, shop):
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买 1")
    shop.say("1")
    read_back = text(shop.say("李四 13700137000 杭州西湖区文一路5号"))
    assert read_back.startswith("请确认订单：")
    assert "寄到：李四 137****7000 浙江省杭州市西湖区文一路5号" in read_back


def test_a_district_several_cities_have_is_asked_about_then_read_back(app, shop):
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买 1")
    shop.say("1")
    asked = text(shop.say("赵六 18612345678 朝阳区建国路1号"))
    assert asked == ("「朝阳区」有2个，请问是哪一个？\n1. 北京市朝阳区\n2. 吉林省长春市朝阳区\n"
                     "回复序号，或回复省份、城市。")
    assert "请确认订单" not in text(shop.say("5"))  # no such choice: asked again
    read_back = text(shop.say("长春"))
    assert "寄到：赵六 186****5678 吉林省长春市朝阳区建国路1号" in read_back
    text(shop.say("确认"))
    with app.extensions["storage"].sessions() as db:
        order = db.scalar(select(Order))
        assert (order.address_fields["province"], order.address_fields["city"],
                order.address_fields["district"]) == ("吉林省", "长春市", "朝阳区")


def test_confirm_sent_again_after_a_crash_finds_the_first_order(app, shop, redis):
    """kill -9 between the order's commit and the conversation's save: the customer's state
    in Redis is still "confirm?", and they type 确认 again. One order, shown again."""
    from bot.session import conversation_key

    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买")
    shop.say("1")
    assert text(shop.say("张三 13800138000 浙江省杭州市西湖区文三路100号")).startswith("请确认订单")
    before_confirm = redis.get(conversation_key(shop.user.openid))
    stock_before = stock(app, "土蜂蜜", "500g")
    first = text(shop.say("确认"))
    assert first.startswith("下单成功！订单号 ")
    number = re.search(r"订单号 (\d+)", first).group(1)

    redis.set(conversation_key(shop.user.openid), before_confirm)  # the save that never happened
    again = text(shop.say("确认"))

    assert again.startswith(f"这笔订单已经提交过了，订单号 {number}（待付款），不会重复下单。")
    with app.extensions["storage"].sessions() as db:
        placed = db.scalars(select(Order.number).where(Order.openid == shop.user.openid))
        assert placed.all() == [number]
    assert stock(app, "土蜂蜜", "500g") == stock_before - 1
    assert text(shop.say("确认")) != again  # the flow is over: 确认 now means nothing special


def test_a_new_confirmation_is_a_new_order(app, shop):
    """The key belongs to one confirmation: buying the same thing again is another order."""
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买")
    shop.say("1")
    shop.say("张三 13800138000 浙江省杭州市西湖区文三路100号")
    assert text(shop.say("确认")).startswith("下单成功！")
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买")
    assert text(shop.say("1")).startswith("寄到上次的地址吗？")
    assert text(shop.say("是")).startswith("请确认订单")
    assert text(shop.say("确认")).startswith("下单成功！")
    with app.extensions["storage"].sessions() as db:
        assert len(db.scalars(select(Order.id)).all()) == 2


@pytest.mark.parametrize("sent", ["确认", "1", "好的", "😀", "包邮吗？"])
def test_13_a_reply_word_at_the_address_step_fills_no_field(app, shop, sent):
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买 1")
    shop.say("1")
    shop.say("李四 杭州西湖区文一路5号")
    answer = text(shop.say(sent))
    assert answer.startswith(f"「{sent}」不是收货信息，地址没有改动。\n"
                             "已记下：李四 浙江省杭州市西湖区文一路5号\n还需要：手机号。")
    read_back = text(shop.say("13700137000"))
    assert "寄到：李四 137****7000 浙江省杭州市西湖区文一路5号" in read_back


def test_13_a_number_offered_the_last_address_is_no_address(app, shop):
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("买 1")
    shop.say("1")
    shop.say("张三 13800138000 浙江省杭州市西湖区文三路100号")
    shop.say("确认")
    shop.say(f"商品 {product_id(app, '高山绿茶')}")
    assert text(shop.say("买一件")).startswith("寄到上次的地址吗？")
    again = text(shop.say("1"))
    assert again.startswith("「1」不是收货信息。\n请发送收货信息")
    assert again.endswith("或回复「是」寄到上次的地址。")
    assert text(shop.say("是")).startswith("请确认订单：\n高山绿茶")
