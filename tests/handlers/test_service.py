"""Customer service through the webhook, as the customer sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.inbound import parse_xml_fields
from bot.session import conversation_key
from content_audit import default_screener
from core.clock import SHANGHAI
from customer_service import tickets
from customer_service.faq import UnansweredQuestion
from customer_service.tickets import Ticket, TicketMessage
from devtools.demo import seed_catalog, seed_faq
from tests.conftest import WeChat


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


def always_open() -> str:
    return "00:00-24:00"


def closed_now() -> str:
    """Hours that exclude the present moment, whenever the test runs."""
    local = datetime.now(UTC).astimezone(SHANGHAI)
    start = (local + timedelta(hours=2)).strftime("%H:00")
    end = (local + timedelta(hours=3)).strftime("%H:00")
    return f"{start}-{end}"


@pytest.fixture()
def desk(make_app, client):
    """A shop with the demo catalog and FAQ, staffed around the clock."""
    def make(**config):
        app = make_app(SERVICE_HOURS=config.pop("hours", always_open()), **config)
        seed_catalog(app.extensions["storage"].sessions, default_screener())
        seed_faq(app.extensions["storage"].sessions)
        return app, WeChat(app.test_client())
    return make


def ticket_of(app, customer: WeChat) -> Ticket | None:
    with app.extensions["storage"].sessions() as db:
        return db.scalar(select(Ticket).where(Ticket.openid == customer.user.openid)
                         .order_by(Ticket.id.desc()))


def bodies(app, ticket_id: int) -> list[tuple[str, str]]:
    with app.extensions["storage"].sessions() as db:
        return [(m.sender, m.body) for m in tickets.messages(db, ticket_id)]


def test_an_faq_question_is_answered_with_a_way_to_a_person(desk):
    _, customer = desk()
    answer = text(customer.say("退货怎么办？"))
    assert answer.startswith("签收后 7 天内支持无理由退货")
    assert answer.endswith("没解决？回复「人工」联系客服。")
    assert text(customer.say("能开发票吗")).startswith("可以。请回复「人工」")
    assert text(customer.say("唇膏")).startswith("「唇膏」")  # products are still found
    assert text(customer.say("有口红吗")).startswith("「有口红吗」")


def test_a_question_nobody_answers_is_counted_and_carried_to_the_person(desk):
    app, customer = desk()
    missed = text(customer.say("你们老板是哪里人"))
    assert missed.startswith("抱歉，暂时没有找到「你们老板是哪里人」的答案。")
    customer.say("你们老板是哪里人")
    with app.extensions["storage"].sessions() as db:
        row = db.scalar(select(UnansweredQuestion))
        assert (row.text, row.count) == ("你们老板是哪里人", 2)
    reply = text(customer.say("人工"))
    assert reply.startswith("已为您转接人工客服（工单 #")
    ticket = ticket_of(app, customer)
    assert bodies(app, ticket.id) == [("customer", "你们老板是哪里人")]


def test_while_a_ticket_is_open_every_message_goes_to_it_until_the_customer_ends_it(desk):
    app, customer = desk()
    opened = text(customer.reply(customer.user.click("MENU_SERVICE")))
    assert opened.startswith("已为您转接人工客服")
    assert customer.say("逛逛") == "success"  # not the catalog: the agent will answer
    assert customer.reply(customer.user.image("http://mmbiz.qpic.cn/crack.jpg")) == "success"
    ticket = ticket_of(app, customer)
    assert bodies(app, ticket.id)[1:] == [("customer", "逛逛"),
                                          ("customer", "[图片] http://mmbiz.qpic.cn/crack.jpg")]
    assert text(customer.reply(customer.user.click("MENU_ORDERS"))).startswith("您还没有订单")
    redis = app.extensions["storage"].redis
    assert redis.ttl(conversation_key(customer.user.openid)) > 24 * 3600  # survives the night
    assert text(customer.say("结束")).endswith("请为本次服务打分：回复 1–5（5 分最满意）。")
    assert text(customer.say("5")) == "感谢您的评价（5 分）！我们会继续改进。"
    assert ticket_of(app, customer).rating == 5 and ticket_of(app, customer).state == "closed"
    assert text(customer.say("退货怎么办")).startswith("签收后 7 天内")  # the bot again


def test_outside_business_hours_the_customer_is_told_when_and_the_ticket_waits(desk):
    app, customer = desk(hours=closed_now())
    answer = text(customer.say("人工"))
    assert answer.startswith("现在是非工作时间（客服时间 ")
    assert "客服会在今天 " in answer or "客服会在明天 " in answer
    ticket = ticket_of(app, customer)
    due = ticket.first_response_due.replace(tzinfo=UTC)
    assert due > datetime.now(UTC) + timedelta(minutes=65)  # the clock starts at opening time


def test_a_complaint_raises_the_priority_and_the_queue_puts_it_first(desk):
    app, first = desk()
    first.say("人工")
    second = WeChat(app.test_client())
    second.say("客服")
    assert second.say("你们卖假货，我要投诉到12315") == "success"
    with app.extensions["storage"].sessions() as db:
        queue = tickets.queue(db)
        assert [t.openid for t in queue] == [second.user.openid, first.user.openid]
        assert (queue[0].priority, queue[0].priority_reason) == (2, "投诉词：投诉")


def test_an_agent_closes_and_the_next_message_is_the_rating(desk):
    app, customer = desk()
    customer.say("人工")
    ticket = ticket_of(app, customer)
    with app.extensions["storage"].sessions.begin() as db:
        assert tickets.claim(db, ticket.id, "agent")
        assert tickets.close(db, db.get(Ticket, ticket.id), by="agent")
    assert text(customer.say("4分")) == "感谢您的评价（4 分）！我们会继续改进。"
    assert ticket_of(app, customer).rating == 4
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(TicketMessage).where(TicketMessage.body == "4分")) is None


def test_in_wechat_mode_the_conversation_goes_to_wechat_customer_service(desk):
    app, customer = desk(SERVICE_MODE="wechat")
    reply = customer.say("人工")
    assert parse_xml_fields(reply.encode())["MsgType"] == "transfer_customer_service"
    assert ticket_of(app, customer) is not None  # kept for the history all the same


def test_in_wechat_mode_out_of_hours_the_ticket_waits_here(desk):
    app, customer = desk(SERVICE_MODE="wechat", hours=closed_now())
    assert text(customer.say("人工")).startswith("现在是非工作时间")
    assert customer.say("还在吗") == "success"  # not handed to 多客服 agents who are not there
    assert ticket_of(app, customer).state == "open"


def test_after_an_agent_closes_a_picture_is_not_searched_for(desk):
    app, customer = desk()
    customer.say("人工")
    ticket = ticket_of(app, customer)
    with app.extensions["storage"].sessions.begin() as db:
        tickets.claim(db, ticket.id, "agent")
        tickets.close(db, db.get(Ticket, ticket.id), by="agent")
    reply = text(customer.reply(customer.user.image()))
    assert reply == "本次客服会话已结束。如需帮助，请回复「人工」。"


def test_a_product_question_lists_products_and_is_not_counted_as_unanswered(desk):
    app, customer = desk()
    assert text(customer.say("有口红吗")).startswith("「有口红吗」")
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(UnansweredQuestion)) is None


def test_13_a_complaint_gets_a_person_offered_not_products(desk):
    _, customer = desk()
    for complaint in ("我买的口红是假货，要投诉", "口红是假货", "骗子，差评"):
        reply = text(customer.say(complaint))
        assert reply.startswith("非常抱歉给您带来不好的体验！"), complaint
        assert "丝绒哑光口红" not in reply and "没有找到" not in reply, complaint


def test_13_the_ticket_carries_what_was_said_before_and_a_complaint_comes_first(desk):
    from console import accounts
    from tests.console.conftest import PASSWORD, signed_in

    app, calm = desk()
    calm.say("人工")
    customer = WeChat(app.test_client())
    customer.say("你们老板是哪里人")
    customer.say("我买的口红是假货，要投诉")
    assert text(customer.say("人工")).startswith("已为您转接人工客服")
    ticket = ticket_of(app, customer)
    assert bodies(app, ticket.id) == [("customer", "你们老板是哪里人"),
                                      ("customer", "我买的口红是假货，要投诉")]
    assert (ticket.priority, ticket.priority_reason) == (2, "投诉词：投诉")
    with app.extensions["storage"].sessions.begin() as db:
        accounts.create(db, "agent", "agent", PASSWORD)
        assert tickets.queue(db)[0].openid == customer.user.openid
    row = signed_in(app, "agent").get("/admin/service/").text.split(
        f'data-ticket="{ticket.id}"')[1].split("</tr>")[0]
    assert "投诉词：投诉" in row and "我买的口红是假货" in row


def test_13_order_questions_during_a_ticket_are_answered_and_the_ticket_stays(desk):
    app, customer = desk()
    customer.say("人工")
    still = "（您仍在与客服的会话中，回复「结束」可结束会话。）"
    assert text(customer.say("我的订单")) == f"您还没有订单。回复「逛逛」看看吧～\n\n{still}"
    assert text(customer.say("快递到哪了")).endswith(still)
    assert customer.say("那我等等") == "success"  # the agent's again
    ticket = ticket_of(app, customer)
    assert ticket.state == "open"
    assert bodies(app, ticket.id)[1:] == [("customer", "我的订单"), ("customer", "快递到哪了"),
                                          ("customer", "那我等等")]


def test_13_a_command_instead_of_a_rating_is_answered(desk):
    app, customer = desk()
    customer.say("人工")
    customer.say("结束")
    assert text(customer.say("购物车")).startswith("购物车是空的")
    assert ticket_of(app, customer).rating is None
