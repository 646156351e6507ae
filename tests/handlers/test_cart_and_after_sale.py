"""The cart and after-sale steps in the chat, as the customer sees them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from content_audit import default_screener
from devtools.demo import seed_catalog
from shop import orders
from shop.after_sale import ReturnRequest
from shop.cart import CartItem
from shop.orders import Order
from tests.handlers.test_order import product_id, stock, text

ADDRESS = "张三 13800138000 浙江省杭州市西湖区文三路100号"


@pytest.fixture()
def shop(app, wechat):
    """A customer chatting with the demo catalog."""
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    return wechat


def latest_order(app) -> Order:
    with app.extensions["storage"].sessions() as db:
        order = db.scalar(select(Order).order_by(Order.id.desc()).limit(1))
        order.lines  # noqa: B018 - loaded while the session is open
        return order


def move(app, order_id: int, *states: str) -> None:
    with app.extensions["storage"].sessions.begin() as db:
        order = db.get(Order, order_id)
        for state in states:
            assert orders.transition(db, order, state, actor="test")


def buy(app, shop, name: str) -> Order:
    shop.say(f"商品 {product_id(app, name)}")
    shop.say("买 1")
    if text(shop.say("1")).startswith("请确认") is False:
        shop.say(ADDRESS)
    shop.say("确认")
    return latest_order(app)


def test_cart_add_edit_and_check_out(app, shop):
    before = stock(app, "丝绒哑光口红", "#02 豆沙")
    shop.say(f"商品 {product_id(app, '丝绒哑光口红')}")
    assert text(shop.say("加入购物车")).startswith("请选择规格（回复序号）")
    assert text(shop.say("2")).startswith("已加入购物车（这件共 1 件）")
    assert text(shop.say("买")).startswith("请选择规格")  # the card is still the one shown
    shop.say("取消")
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    assert text(shop.say("加入购物车 2")).startswith("已加入购物车（这件共 2 件）")
    view = text(shop.say("购物车"))
    assert view.startswith("您的购物车：\n1. 丝绒哑光口红（#02 豆沙）¥129 × 1\n2. 土蜂蜜")
    assert text(shop.say("1 改 3")).startswith("已修改。")
    assert "只有 2 种" in text(shop.say("删除 5"))
    assert "最多购买 99 件" in text(shop.say("2 改 1000000000"))
    assert text(shop.say("结算")).startswith("请发送收货信息")
    read_back = text(shop.say(ADDRESS))
    assert read_back.startswith("请确认订单：\n丝绒哑光口红（#02 豆沙）× 3\n土蜂蜜")
    assert text(shop.say("确认")).startswith("下单成功！")
    order = latest_order(app)
    assert sorted((line.product_name, line.quantity) for line in order.lines) == [
        ("丝绒哑光口红", 3), ("土蜂蜜", 2)]
    assert stock(app, "丝绒哑光口红", "#02 豆沙") == before - 3
    assert text(shop.say("购物车")).startswith("购物车是空的")


def test_an_empty_cart_and_a_bad_edit_are_explained(app, shop):
    assert text(shop.say("结算")).startswith("购物车是空的")
    assert text(shop.say("删除 1")) == "购物车是空的。"
    assert text(shop.say("加入购物车")).startswith("请先选一件商品")
    shop.say(f"商品 {product_id(app, '土蜂蜜')}")
    shop.say("加入购物车")
    assert text(shop.say("清空购物车")).startswith("购物车已清空")
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(CartItem)) is None


def test_changing_the_address_before_shipping_with_a_read_back(app, shop):
    order = buy(app, shop, "土蜂蜜")
    asked = text(shop.say("修改地址"))
    assert asked.startswith(f"订单 {order.number} 当前寄往：张三 138****8000")
    assert text(shop.say("李四 上海市浦东新区世纪大道1号")).startswith(
        "已记下：李四 上海市浦东新区世纪大道1号\n还需要：手机号。请补充发送。\n也可以<a href=")
    assert text(shop.say("13912345678")).startswith("收货地址将改为：\n李四 139****5678")
    assert text(shop.say("好")).startswith("回复「确认修改」继续")
    assert text(shop.say("确认修改")) == f"订单 {order.number} 的收货地址已修改。"
    assert latest_order(app).address_fields["phone"] == "13912345678"
    move(app, order.id, "paid", "shipped")
    assert text(shop.say("改地址")).startswith("没有可以修改地址的订单")


def test_leaving_the_address_change_keeps_the_old_one(app, shop):
    order = buy(app, shop, "土蜂蜜")
    shop.say("地址填错了")
    assert text(shop.say("取消")) == "好的，已放弃，订单保持不变。"
    assert latest_order(app).address_fields == order.address_fields


def test_receipt_then_a_return_request_for_unopened_cosmetics(app, shop):
    order = buy(app, shop, "丝绒哑光口红")
    assert "还没有发货" in text(shop.say("退货"))
    move(app, order.id, "paid", "shipped")
    assert text(shop.say("确认收货")).startswith(f"订单 {order.number} 已确认收货")
    assert text(shop.say("我要退货")).endswith("商品拆封了吗？回复「未拆封」或「已拆封」。")
    assert "请回复「未拆封」或「已拆封」" in text(shop.say("嗯"))
    asked = text(shop.say("未拆封"))
    assert asked.startswith(f"申请订单 {order.number}（¥129）七天无理由退货退款？")
    assert text(shop.say("确认退货")).startswith(f"退货申请已提交（订单 {order.number}）")
    assert text(shop.say("退货进度")).startswith(
        f"订单 {order.number}（¥129）退货申请已提交（")
    assert text(shop.say("退货进度")).endswith(
        "✓提交申请 → 【商家同意】 → 寄回商品 → 商家收货 → 退款")
    assert "（退货申请中）" in text(shop.say("我的订单"))
    assert "已经申请过退货" in text(shop.say("退货"))


def test_opened_cosmetics_and_fresh_fruit_cannot_be_returned_without_reason(app, shop):
    lipstick = buy(app, shop, "丝绒哑光口红")
    move(app, lipstick.id, "paid", "shipped")
    shop.say("退货")
    assert "依法不适用七天无理由退货" in text(shop.say("已拆封"))
    oranges = buy(app, shop, "赣南脐橙")
    move(app, oranges.id, "paid", "shipped")
    assert "「赣南脐橙」属于鲜活易腐商品" in text(shop.say("申请退款"))
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(ReturnRequest)) is None


def test_membership_shows_tier_points_and_progress(app, shop):
    assert text(shop.say("我的会员")).startswith(
        "会员等级：普通会员\n再消费¥500升级青铜\n积分：0（100积分抵¥1，青铜会员起可用）")
    order = buy(app, shop, "丝绒哑光口红")
    move(app, order.id, "paid")
    assert text(shop.say("积分")).startswith(
        "会员等级：普通会员\n再消费¥371升级青铜\n积分：129（100积分抵¥1，青铜会员起可用）")


RETURN_TO = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def approve_return(app, order_id: int) -> None:
    """The merchant approves the order's return (shop/returns.py; the console is tested apart)."""
    from shop import returns

    with app.extensions["storage"].sessions.begin() as db:
        request = db.scalar(select(ReturnRequest).where(ReturnRequest.order_id == order_id))
        returns.approve(db, request, return_address=RETURN_TO, actor="manager")


def test_the_return_parcel_s_number_is_taken_in_the_chat_while_the_return_waits(app, shop):
    order = buy(app, shop, "土蜂蜜")
    move(app, order.id, "paid", "shipped")
    shop.say("退货")
    assert "商家同意后会在这里发给您退货地址" in text(shop.say("确认退货"))
    assert "SF1234567890123" not in text(shop.say("SF1234567890123"))  # not approved yet
    approve_return(app, order.id)
    assert f"请将商品寄回：\n{RETURN_TO}" in text(shop.say("退货地址"))
    assert "退货已同意，请把商品寄回后回复快递单号" in text(shop.say("退货"))
    assert text(shop.say("顺丰 YT1234567890123")).startswith(
        "「YT1234567890123」不是顺丰速运的单号格式")
    assert text(shop.say("13800138000")).startswith("「13800138000」不像快递单号")
    assert text(shop.say("退货单号：顺丰 SF1234567890123")).startswith(
        f"已记下订单 {order.number} 的退货快递：顺丰速运 SF1234567890123。")
    assert text(shop.say("SF1234567890124")).startswith(  # a correction
        f"已记下订单 {order.number} 的退货快递：顺丰速运 SF1234567890124。")
    assert "退货已寄回（顺丰速运 SF1234567890124）" in text(shop.say("退款进度"))
    with app.extensions["storage"].sessions() as db:
        request = db.scalar(select(ReturnRequest).where(ReturnRequest.order_id == order.id))
        assert (request.state, request.return_tracking_no) == ("returning", "SF1234567890124")


def test_a_number_without_a_return_waiting_is_answered_as_before(app, shop):
    before = text(shop.say("SF1234567890123"))
    assert "已记下" not in before and "单号格式" not in before
    assert text(shop.say("退货地址")) != ""  # the FAQ's answer, not a return's step
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(ReturnRequest)) is None
