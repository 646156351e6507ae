"""每日秒杀 in the chat, as the customer sees it, on a fixed clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.inbound import parse_xml_fields
from handlers.context import ChatContext
from promotions.flash import FlashPurchase
from shop import orders
from shop.notices import NoticeOptIn
from shop.orders import Order
from tests.conftest import SAMPLES, WeChat
from tests.promotions.flash_helpers import (
    NOW,
    add_item,
    item,
    make_sku,
    paid_order,
    session_at,
    sku_stock,
)

ADDRESS = "张三 13800138000 浙江省杭州市西湖区文三路100号"


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


@pytest.fixture()
def clock(monkeypatch):
    """The chat's clock, moved by the test: ChatContext.now answers what it holds."""
    now = {"at": NOW}
    monkeypatch.setattr(ChatContext, "now", lambda self: now["at"])
    return now


@pytest.fixture()
def shop(app):
    """A lipstick with a 2-unit flash item (limit 1) in the 21:00 session, a paid sale at
    ¥129 two days ago (so a 原价 of ¥129 is honest)."""
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions)
    paid_order(sessions, "o-earlier", sku_id, NOW - timedelta(days=2))
    item_id = add_item(sessions, session_at(sessions, "21:00"), sku_id, stock=2,
                       reference=12900)
    return sku_id, item_id


def customer(client, openid: str) -> WeChat:
    person = WeChat(client)
    person.user.openid = openid
    return person


def test_before_the_start_a_countdown_and_a_reminder(app, client, shop, clock):
    clock["at"] = NOW + timedelta(hours=3, minutes=14, seconds=30)  # 18:44:30
    alice = customer(client, "o-alice")
    shown = text(alice.say("秒杀"))
    assert shown.splitlines()[:4] == [
        "⚡ 每日秒杀 · 21:00 场",
        "距开始还有 2小时15分",
        "1. 丝绒哑光口红（#01 正红）",
        "   秒杀价 ¥59 原价 ¥129 · 限量2件 · 每人限购1件",
    ]
    assert shown.endswith("回复「提醒我」，开抢前5分钟提醒你。")
    assert text(alice.say("抢 1")) == (
        "21:00 场秒杀还没开始，距开始还有 2小时15分。回复「提醒我」，开抢前提醒你。")
    assert text(alice.say("提醒我")) == "好的，21:00 场开抢前5分钟（20:55）会在这里提醒你。"
    assert text(alice.say("提醒我")) == "已经记下了，21:00 场开抢前5分钟（20:55）会在这里提醒你。"
    with app.extensions["storage"].sessions() as db:
        assert db.query(Order).count() == 1  # only the earlier sale: 抢 early changed nothing


def test_grab_sell_out_and_limit(app, client, shop, clock):
    sku_id, item_id = shop
    clock["at"] = NOW + timedelta(hours=5, minutes=31)  # 21:01
    alice, bob, carol = (customer(client, f"o-{name}") for name in ("alice", "bob", "carol"))
    assert "已抢0件 · 仅剩2件 · 每人限购1件" in text(alice.say("每日秒杀"))
    got = text(alice.say("抢 1"))
    assert got.startswith("抢到了！丝绒哑光口红（#01 正红），订单号 2026030")
    assert "应付 ¥59。\n请在 21:11 前完成支付，超时订单自动取消，名额让给别人。" in got
    # No address yet: the payment line says the address comes first, and no 去支付 link.
    assert ("⚠️ 还差收货地址：须先补上地址才能付款（没有地址无法发货），"
            "地址记下后再发付款链接给你。\n查看订单：") in got and "支付：" not in got
    assert re.search(r"查看订单：\S*/shop/o/\d+\?t=[0-9a-f]+\n", got)
    assert got.endswith(
        "\n\n请发送收货信息：姓名 手机号 详细地址\n"
        "例如：张三 13800138000 浙江省杭州市西湖区文三路100号\n也可以发送位置。")
    number = re.search(r"订单号 (\d+)", got).group(1)
    addressed = text(alice.say(ADDRESS))
    assert addressed.startswith(
        "收货地址已记下：张三 138****8000 浙江省杭州市西湖区文三路100号\n"
        f"订单 {number} 现在可以付款了，请在 21:11 前完成支付。\n")
    assert re.search(rf"/shop/o/{number}\?t=[0-9a-f]+$", addressed)
    again = text(alice.say("抢 1"))
    assert again.startswith(
        f"丝绒哑光口红（#01 正红）每人限购1件，你已经抢到了（订单 {number}），还没付款，"
        "请在 21:11 前付款，超时订单自动取消。\n（微信支付尚未开通，请联系客服付款）查看订单：")
    assert text(alice.say("抢 7")) == "本场只有 1 件秒杀商品，请回复「抢 1」到「抢 1」。"
    bob_got = text(bob.say("抢 1"))
    assert "寄到：" not in bob_got and "还差收货地址" in bob_got
    bob.say("我的订单")  # leaves the address step
    assert "付款前须先补上收货地址：请回复「修改地址」补上，再在 21:11 前付款" in text(
        bob.say("抢 1"))
    assert text(carol.say("抢 1")) == (
        "手慢了，丝绒哑光口红（#01 正红）已抢光。回复「秒杀」看看其他秒杀商品。")
    assert "已抢光（2件）" in text(carol.say("秒杀"))
    with app.extensions["storage"].sessions() as db:
        bought = db.scalars(select(FlashPurchase.openid).order_by(FlashPurchase.id)).all()
        assert bought == ["o-alice", "o-bob"]
        order = db.scalar(select(Order).where(Order.openid == "o-alice"))
        assert order.address_fields["name"] == "张三" and order.total_fen == 5900
    assert item(app.extensions["storage"].sessions, item_id).sold == 2
    assert sku_stock(app.extensions["storage"].sessions, sku_id) == 47  # 50 − 1 sold − 2 carved


def test_a_known_address_is_used_and_a_command_leaves_the_address_step(app, client, shop, clock):
    clock["at"] = NOW + timedelta(hours=5, minutes=31)
    earlier = customer(client, "o-earlier")  # ordered before: their address is reused
    got = text(earlier.say("抢 1"))
    assert "寄到：张三 138****8000 浙江省杭州市西湖区文三路100号（要改请回复「修改地址」）" in got
    dave = customer(client, "o-dave")
    dave.say("抢 1")
    left = text(dave.say("秒杀"))
    assert left.endswith("（收货地址还没填：付款前请回复「修改地址」补上）")
    assert "已抢光" in left


def test_no_original_price_without_sales_to_support_it(app, client, clock):
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions, name="高山绿茶")
    add_item(sessions, session_at(sessions, "21:00"), sku_id, stock=3)
    shown = text(customer(client, "o-x").say("秒杀"))
    assert "秒杀价 ¥59 · 限量3件" in shown and "原价" not in shown


def test_popup_opt_in_is_recorded_for_the_notice_template(make_app, clock):
    app = make_app(NOTICE_TEMPLATE_ID="VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc")
    person = WeChat(app.test_client())
    sample = (SAMPLES / "event_subscribe_msg_popup.xml").read_text()
    person.user.openid = "otFpruAK8D-E6EfStSYonYSBZ8_4"
    assert person.reply(sample) == "success"
    with app.extensions["storage"].sessions() as db:
        rows = db.scalars(select(NoticeOptIn)).all()
        assert [(r.template_id, r.remaining) for r in rows] == [
            ("VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc", 1)]


def test_nothing_on_sale(client, clock):
    assert text(customer(client, "o-y").say("秒杀")) == (
        "暂时没有秒杀场次，敬请期待。回复「逛逛」看看其他商品。")
    assert text(customer(client, "o-y").say("提醒我")) == "暂时没有即将开始的秒杀场次，敬请期待。"


def test_a_reminder_that_cannot_be_sent_is_said_so(app, client, clock):
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions)
    clock["at"] = NOW - timedelta(days=3)  # the only session with items is 3 days away
    add_item(sessions, session_at(sessions, "09:00"), sku_id, stock=3, now=clock["at"])
    frank = customer(client, "o-frank")
    assert "距开始还有 2天" in text(frank.say("秒杀"))
    answer = text(frank.say("提醒我"))
    assert answer.startswith("已记下，但3月2日 09:00 场要2天")
    assert "微信不允许公众号主动发消息给你，提醒很可能发不出去" in answer
    assert "开抢前48小时内回来给我们发条消息" in answer


def test_over_the_limit_once_paid_says_paid(app, client, shop, clock):
    sessions = app.extensions["storage"].sessions
    clock["at"] = NOW + timedelta(hours=5, minutes=31)
    earlier = customer(client, "o-earlier")  # has an address on file
    assert "寄到：" in text(earlier.say("抢 1"))
    with sessions.begin() as db:
        order = db.scalar(select(Order).where(Order.openid == "o-earlier",
                                              Order.state == "pending_payment"))
        orders.transition(db, order, "paid", actor="wxpay", now=clock["at"])
    answer = text(earlier.say("抢 1"))
    assert answer == ("丝绒哑光口红（#01 正红）每人限购1件，你已经抢到了，订单已付款，"
                      "我们会尽快发货。回复「我的订单」查看。")
    assert "请尽快付款" not in answer


def test_the_sessions_own_sales_do_not_take_its_original_price_away(app, client, shop, clock):
    """The 7 days are those before the session starts: paid flash orders at ¥59 during the
    session do not make ¥59 the 'lowest price' its 原价 is judged by."""
    sku_id, item_id = shop
    clock["at"] = NOW + timedelta(hours=5, minutes=31)  # 21:01, the session on
    paid_order(app.extensions["storage"].sessions, "o-fan", sku_id,
               NOW + timedelta(hours=5, minutes=30), flash_price=(item_id, 5900))
    assert "秒杀价 ¥59 原价 ¥129" in text(customer(client, "o-y").say("秒杀"))


@pytest.mark.parametrize("allowed", [False, True])
def test_a_coupon_applies_only_where_the_session_allows_it(app, client, shop, clock, allowed):
    from datetime import UTC, datetime

    from promotions import coupon_batches, coupons
    from promotions.coupon_batches import BatchTerms
    from promotions.flash import FlashItem, FlashSession

    sessions = app.extensions["storage"].sessions
    _, item_id = shop
    with sessions.begin() as db:
        batch = coupon_batches.create_batch(db, BatchTerms(name="无门槛5元", kind="flat",
                                                           off_fen=500, valid_days=30),
                                            datetime.now(UTC))
        coupons.issue(db, batch.id, "o-saver", NOW, source="test")
        session_id = db.get(FlashItem, item_id).session_id
        db.get(FlashSession, session_id).coupons_allowed = allowed
    clock["at"] = NOW + timedelta(hours=5, minutes=31)  # 21:01
    got = text(customer(client, "o-saver").say("抢 1"))
    with sessions() as db:
        order = db.scalar(select(Order).where(Order.openid == "o-saver"))
    if allowed:
        assert "应付 ¥54（已用优惠券减 ¥5）。" in got
        assert (order.total_fen, order.coupon_fen) == (5400, 500)
    else:
        assert "应付 ¥59。" in got and "优惠券" not in got
        assert (order.total_fen, order.coupon_id) == (5900, None)
