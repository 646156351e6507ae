"""Issue 13: a flow step lets the customer's commands through, answers them and says what
became of the flow (paused, 继续… picks it up; a yes-or-no step is declined)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.inbound import Inbound
from bot.router import Dispatcher, Router
from content_audit import default_screener
from customer_service.tickets import Ticket
from devtools.demo import seed_catalog, seed_faq
from handlers import ROUTERS, commands, flows
from shop.orders import Order
from tests.conftest import WeChat
from tests.handlers.test_cart_and_after_sale import ADDRESS, latest_order, move
from tests.handlers.test_order import product_id, text

PAUSED = "（刚才的下单已暂停，回复「继续下单」接着来）"


@pytest.fixture()
def shop(make_app):
    app = make_app(SERVICE_HOURS="00:00-24:00")  # staffed whenever the test runs
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    seed_faq(app.extensions["storage"].sessions)
    return app, WeChat(app.test_client())


def at_quantity(app, customer: WeChat) -> None:
    customer.say(f"商品 {product_id(app, '丝绒哑光口红')}")
    customer.say("买")
    assert text(customer.say("1")).startswith("要买几件？（库存 ")


def buy(app, customer: WeChat) -> Order:
    customer.say(f"商品 {product_id(app, '土蜂蜜')}")
    customer.say("买 1")
    if not text(customer.say("1")).startswith("请确认"):
        customer.say(ADDRESS)
    customer.say("确认")
    return latest_order(app)


def test_13_my_orders_at_the_quantity_step_is_answered_and_the_order_waits(shop):
    app, customer = shop
    at_quantity(app, customer)
    answer = text(customer.say("我的订单"))
    assert answer == f"您还没有订单。回复「逛逛」看看吧～\n\n{PAUSED}"
    assert text(customer.say("继续下单")).startswith("要买几件？（库存 ")
    assert text(customer.say("2")).startswith("请发送收货信息")


@pytest.mark.parametrize(("command", "answer"), [
    ("购物车", "购物车是空的"),
    ("帮助", "您可以："),
    ("我的会员", "会员等级：普通会员"),
    ("快递到哪了", "您还没有订单"),
    ("逛逛", "商品分类"),
])
def test_13_every_command_reaches_its_own_answer_at_a_step(shop, command, answer):
    app, customer = shop
    at_quantity(app, customer)
    reply = text(customer.say(command))
    assert answer in reply and reply.endswith(PAUSED)
    assert text(customer.say("继续")).startswith("要买几件？")  # 继续 alone will do too


def test_13_a_menu_click_in_the_middle_of_buying_says_the_order_is_paused(shop):
    app, customer = shop
    at_quantity(app, customer)
    assert text(customer.reply(customer.user.click("MENU_ORDERS"))).endswith(PAUSED)
    assert text(customer.say("2")).startswith("请先回复「逛逛」")  # no longer a quantity


def test_13_a_person_in_the_middle_of_buying_cancels_the_order_under_way(shop):
    app, customer = shop
    at_quantity(app, customer)
    answer = text(customer.say("人工"))
    assert answer.startswith("已为您转接人工客服") and answer.endswith("（刚才的下单已取消）")
    assert customer.say("继续下单") == "success"  # the ticket takes it now


def test_13_cancel_order_while_buying_leaves_the_purchase_and_names_the_placed_order(shop):
    app, customer = shop
    buy(app, customer)
    at_quantity(app, customer)
    answer = text(customer.say("取消订单"))
    assert answer.startswith("已取消本次下单。")
    assert answer.endswith("已提交的订单不受影响；要取消它，请再回复「取消订单」。")
    assert text(customer.say("取消订单")).startswith("确定取消订单 ")


def test_13_paused_question_is_the_last_one_asked_not_an_error(shop):
    app, customer = shop
    at_quantity(app, customer)
    assert "请回复购买数量" in text(customer.say("很多"))
    customer.say("我的订单")
    assert text(customer.say("继续下单")).startswith("要买几件？")


def test_13_continue_without_a_paused_flow_says_so(shop):
    _, customer = shop
    assert text(customer.say("继续")).startswith("没有暂停中的操作")


def test_13_my_orders_after_cancel_is_declined_lists_the_orders(shop):
    """The tester's paid order: 取消订单, then 我的订单 instead of 确认取消."""
    app, customer = shop
    order = buy(app, customer)
    move(app, order.id, "paid")
    assert "已付款项将原路退回" in text(customer.say("取消订单"))
    listed = text(customer.say("我的订单"))
    assert listed.startswith("您最近的订单：") and order.number in listed
    assert listed.endswith("（订单没有取消）")
    assert text(customer.say("确认取消")).startswith("现在没有等待确认的取消")  # step over
    assert latest_order(app).state == "paid"
    assert text(customer.say("我的订单")).startswith("您最近的订单：")


def test_13_any_other_answer_declines_and_the_next_command_is_itself(shop):
    app, customer = shop
    order = buy(app, customer)
    customer.say("取消订单")
    assert text(customer.say("不了")) == "好的，订单保留不变。"
    assert text(customer.say("我的订单")).startswith("您最近的订单：")
    assert latest_order(app).state == order.state


def test_13_an_address_change_is_paused_and_picked_up_again(shop):
    app, customer = shop
    buy(app, customer)
    asked = text(customer.say("修改地址"))
    answer = text(customer.say("我的订单"))
    assert answer.endswith("（刚才的修改地址已暂停，回复「继续修改地址」接着来）")
    assert text(customer.say("继续修改地址")) == asked
    assert text(customer.say("李四 13912345678 上海市浦东新区世纪大道1号")).startswith(
        "收货地址将改为：")


def test_13_in_a_ticket_continue_goes_to_the_agent(shop):
    app, customer = shop
    customer.say("人工")
    assert customer.say("继续") == "success"
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(Ticket.state)) == "open"


# --- the vocabulary and the router's guard ---------------------------------------------------


def inbound(content: str) -> Inbound:
    return Inbound(openid="o1", account="gh", kind="text", create_time=1, text=content,
                   msg_id="1")


@pytest.mark.parametrize(("words", "handler"), [
    (commands.MY_ORDERS, "order.my_orders"),
    (("快递到哪了", "我的快递", "查物流"), "order.where_is_my_parcel"),
    (commands.CART, "cart.show_cart"),
    (commands.MEMBER, "after_sale.membership"),
    (commands.REFUNDS, "after_sale.return_progress"),
    (commands.HELP, "menu.show_menu"),
    (commands.PERSON, "service.hand_off"),
    (commands.BROWSE, "browse.show_categories"),
    (commands.BACK + commands.MORE, "menu.back_or_more"),
    (commands.CANCEL_ORDER, "order.ask_cancel"),
])
def test_13_each_command_word_still_reaches_its_handler(words, handler):
    """Every word a flow lets through reaches the handler that answers it."""
    dispatcher = Dispatcher([router for router in ROUTERS if router is not flows.router])
    for word in words:
        msg = inbound(word)
        assert commands.is_command(msg), word
        route = dispatcher.resolve(msg)
        assert route is not None and route.describe.startswith(handler + " "), word


def test_a_guard_wraps_the_routes_after_it():
    outer, inner = Router("outer"), Router("inner")

    @outer.around("order:*", when=lambda incoming: incoming.msg.text == "看看")
    def aside(msg, ctx, call_next):
        return f"{call_next(None)} (set aside)"

    inner.state("order:*")(lambda msg, ctx: "the step")
    inner.text("看看")(lambda msg, ctx: "the command")
    dispatcher = Dispatcher([outer, inner])

    def answer(content: str, state: str | None) -> str:
        route = dispatcher.resolve(inbound(content), state)
        assert route is not None
        return route.handler(inbound(content), None)

    assert answer("看看", "order:qty") == "the command (set aside)"
    assert answer("2", "order:qty") == "the step"
    assert answer("看看", None) == "the command"
