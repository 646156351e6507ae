"""The agents' inbox: claim, reply through the real WeChat API sandbox, transfer, close.

The sandbox keeps WeChat's own customer-service rules (48 hours and 5 messages after the
customer's last message), so a refused reply here is refused the way WeChat refuses it.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from console import accounts
from console.audit_log import AuditEntry
from customer_service import handoff, tickets
from customer_service.tickets import Ticket, TicketMessage
from shop import catalog, orders
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, ROLE_ACCOUNTS, signed_in

OPENID = "o-buyer"
TEMPLATE_ID = "TPL-service-reply"


@pytest.fixture()
def service(make_app, sandbox):
    """The app with every role, a second agent, all-day service hours and a reply template."""
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD, SERVICE_HOURS="00:00-24:00",
                   SERVICE_TEMPLATE_ID=TEMPLATE_ID)
    storage = app.extensions["storage"]
    with storage.sessions.begin() as db:
        for name, role in {**ROLE_ACCOUNTS, "agent2": "agent"}.items():
            accounts.create(db, name, role, PASSWORD)
    return SimpleNamespace(app=app, storage=storage, sandbox=sandbox)


def ask(service, text: str = "我的快递到哪了？", openid: str = OPENID,
        now: datetime | None = None) -> int:
    """The customer typed 人工 (after `text`): their ticket's id."""
    with service.storage.sessions.begin() as db:
        return handoff.hand_off(db, openid, text, config=service.app.config, now=now).ticket_id


def customer_messages_wechat(service, openid: str = OPENID) -> None:
    """The customer wrote to the account: WeChat opens the 48-hour, 5-message window."""
    answer = requests.post(f"{service.sandbox}/sandbox/inbound",
                           json={"openid": openid, "kind": "message"}, timeout=5)
    assert answer.ok


def sent_to(service, openid: str = OPENID) -> list[dict]:
    answer = requests.get(f"{service.sandbox}/sandbox/sent", params={"touser": openid},
                          timeout=5)
    return answer.json()["messages"]


def texts_sent(service, openid: str = OPENID) -> list[str]:
    return [m["body"]["text"]["content"] for m in sent_to(service, openid)
            if m["api"] == "custom/send"]


def ticket_row(service, ticket_id: int) -> Ticket:
    with service.storage.sessions() as db:
        ticket = db.get(Ticket, ticket_id)
        db.expunge(ticket)
        return ticket


def agent_lines(service, ticket_id: int) -> list[tuple[str, str]]:
    with service.storage.sessions() as db:
        return [(m.body, m.delivery) for m in tickets.messages(db, ticket_id)
                if m.sender == "agent"]


def audit_actions(service) -> list[tuple[str, str, str]]:
    with service.storage.sessions() as db:
        return [(e.action, e.actor, e.target) for e in db.scalars(select(AuditEntry))]


def claimed(service, ticket_id: int, username: str = "agent"):
    person = signed_in(service.app, username)
    person.get("/admin/service/")
    answer = person.post(f"/admin/service/tickets/{ticket_id}/claim")
    assert answer.status_code == 302
    assert answer.location.endswith(f"/admin/service/tickets/{ticket_id}")
    return person


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_puts_complaints_first_and_shows_the_sla(service):
    calm = ask(service, "请问怎么开发票？", openid="o-calm")
    angry = ask(service, "收到的是假货！", openid="o-angry")
    late = ask(service, "在吗", openid="o-late", now=datetime.now(UTC) - timedelta(minutes=30))
    agent = signed_in(service.app, "agent")
    page = agent.get("/admin/service/").text
    assert page.index(f'data-ticket="{angry}"') < page.index(f'data-ticket="{late}"') \
        < page.index(f'data-ticket="{calm}"')  # priority, then age
    row = page.split(f'data-ticket="{angry}"')[1].split("</tr>")[0]
    assert "投诉" in row and "投诉词：假货" in row and "待接入" in row and "剩 10 分钟" in row
    assert "接入</button>" in row and "收到的是假货！" in row
    assert "已超时" in page.split(f'data-ticket="{late}"')[1].split("</tr>")[0]
    assert 'data-stat="open">3<' in page and 'data-stat="overdue">1<' in page
    assert 'data-stat="unclaimed">3<' in page and 'data-stat="rating">—<' in page
    assert "/admin/service/static/inbox.js" in page and "<script>" not in page


def test_the_tabs_show_mine_and_unclaimed(service):
    first, second = ask(service, openid="o-one"), ask(service, openid="o-two")
    agent = claimed(service, first)
    mine = agent.get("/admin/service/?scope=mine").text
    assert f'data-ticket="{first}"' in mine and f'data-ticket="{second}"' not in mine
    unclaimed = agent.get("/admin/service/?scope=unclaimed").text
    assert f'data-ticket="{second}"' in unclaimed and f'data-ticket="{first}"' not in unclaimed


def test_the_queue_json_is_what_the_page_refreshes_from(service):
    ticket_id = ask(service, "<b>在吗</b>")
    agent = signed_in(service.app, "agent")
    data = agent.get("/admin/service/queue.json?scope=unclaimed").get_json()
    assert data["stats"] == {"open": 1, "unclaimed": 1, "overdue": 0, "rating": "—"}
    assert data["scope"] == "unclaimed"
    [row] = data["tickets"]
    assert row["id"] == ticket_id and row["last"] == "<b>在吗</b>"  # the script escapes it
    assert row["claim_url"] == f"/admin/service/tickets/{ticket_id}/claim"


# --- claiming -------------------------------------------------------------------------------


def test_a_second_agent_is_told_the_ticket_is_taken(service):
    ticket_id = ask(service)
    claimed(service, ticket_id, "agent")
    other = signed_in(service.app, "agent2")
    other.get("/admin/service/")
    answer = other.post(f"/admin/service/tickets/{ticket_id}/claim")
    assert answer.status_code == 302
    assert "已被其他客服接入" in other.get(answer.location).text
    assert ticket_row(service, ticket_id).agent == "agent"
    assert ("ticket.claim", "agent", f"ticket:{ticket_id}") in audit_actions(service)
    assert [a for a in audit_actions(service) if a[0] == "ticket.claim"] == [
        ("ticket.claim", "agent", f"ticket:{ticket_id}")]


def test_two_agents_racing_for_one_ticket_one_wins(service):
    ticket_id = ask(service)
    start, results = threading.Barrier(2), {}

    def race(name: str) -> None:
        start.wait()
        with service.storage.sessions.begin() as db:
            results[name] = tickets.claim(db, ticket_id, name)

    threads = [threading.Thread(target=race, args=(n,)) for n in ("agent", "agent2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results.values()) == [False, True]
    winner = next(name for name, won in results.items() if won)
    assert ticket_row(service, ticket_id).agent == winner


def test_an_unclaimed_ticket_offers_claiming_first(service):
    ticket_id = ask(service)
    page = signed_in(service.app, "agent").get(f"/admin/service/tickets/{ticket_id}").text
    assert "还没有客服接入" in page and 'name="next" value="ticket"' in page
    assert 'name="body"' not in page and "关闭工单" not in page


# --- replying -------------------------------------------------------------------------------


def test_a_delivered_reply_reaches_wechat_and_the_history(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = claimed(service, ticket_id)
    page = agent.get(f"/admin/service/tickets/{ticket_id}").text
    assert "48 小时窗口剩余 47 小时，还可发送 5 条" in page
    assert "您好，请问有什么可以帮您？</option>" in page
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply",
                        {"body": "已为您查询，包裹明天送达。"})
    assert answer.status_code == 302
    assert texts_sent(service) == ["已为您查询，包裹明天送达。"]
    page = agent.get(answer.location).text
    assert "已发送" in page and "已为您查询，包裹明天送达。" in page and "已送达" in page
    assert "还可发送 4 条" in page
    ticket = ticket_row(service, ticket_id)
    assert ticket.first_response_at is not None and ticket.state == "waiting"
    assert agent_lines(service, ticket_id) == [("已为您查询，包裹明天送达。", "sent")]
    assert ("ticket.reply", "agent", f"ticket:{ticket_id}") in audit_actions(service)


def test_after_48_hours_wechat_refuses_and_the_agent_is_told_why(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    requests.post(f"{service.sandbox}/sandbox/clock", json={"advance": 49 * 3600}, timeout=5)
    agent = claimed(service, ticket_id)
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "您好，在的。"})
    assert answer.status_code == 200
    assert "顾客超过 48 小时没有互动（或已取消关注），客服消息发不出去。" in answer.text
    assert "等顾客再次发消息（工单保持打开）" in answer.text
    assert "发送服务通知提醒顾客回复</button>" in answer.text
    assert "未送达（45015）" in answer.text
    assert texts_sent(service) == []
    assert agent_lines(service, ticket_id) == [("您好，在的。", "refused:45015")]
    assert ticket_row(service, ticket_id).first_response_at is None

    notified = agent.post(f"/admin/service/tickets/{ticket_id}/notify")
    assert notified.status_code == 302
    assert "已发送服务通知" in agent.get(notified.location).text
    [notice] = [m for m in sent_to(service) if m["api"] == "template/send"]
    assert notice["body"]["template_id"] == TEMPLATE_ID
    assert notice["body"]["data"]["thing1"]["value"] == "您的咨询有新回复"
    with service.storage.sessions() as db:
        system = [(m.body, m.delivery) for m in tickets.messages(db, ticket_id)
                  if m.sender == "system" and m.kind == "template"]
    assert system == [("服务通知：您的咨询有新回复", "sent")]


def test_without_a_template_no_notice_is_offered(make_app, sandbox):
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD, SERVICE_HOURS="00:00-24:00")
    with app.extensions["storage"].sessions.begin() as db:
        accounts.create(db, "agent", "agent", PASSWORD)
    service = SimpleNamespace(app=app, storage=app.extensions["storage"], sandbox=sandbox)
    ticket_id = ask(service)  # the customer never wrote to WeChat: no window at all
    agent = claimed(service, ticket_id)
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "您好，在的。"})
    assert "客服消息发不出去" in answer.text and "服务通知" not in answer.text


def test_the_sixth_reply_is_refused_until_the_customer_writes_again(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = claimed(service, ticket_id)
    for n in range(5):
        reply = agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": f"第 {n} 条"})
        assert reply.status_code == 302
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "第 6 条"})
    assert "本次互动后可发的 5 条客服消息已用完，顾客再发消息后才能继续回复。" in answer.text
    assert agent_lines(service, ticket_id)[-1] == ("第 6 条", "refused:45047")
    assert len(texts_sent(service)) == 5


@pytest.mark.parametrize("words", ["我们是全网最低价，放心买", "国家级品质，请放心"])
def test_a_reply_with_a_banned_phrase_is_not_sent(service, words):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = claimed(service, ticket_id)
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": words})
    assert answer.status_code == 400
    assert "含有广告法或平台规则禁止的用语，未发送" in answer.text
    assert ("「最低价」" if "最低价" in words else "「国家级品质」") in answer.text
    assert f">{words}</textarea>" in answer.text  # kept for the agent to reword
    assert texts_sent(service) == [] and agent_lines(service, ticket_id) == []


def test_a_reply_that_needs_review_waits_for_it(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = claimed(service, ticket_id)
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply",
                        {"body": "转发朋友圈即可领取小样哦"})
    assert answer.status_code == 200 and "已提交审核，暂未发送" in answer.text
    assert texts_sent(service) == [] and agent_lines(service, ticket_id) == []


def test_only_the_holder_or_an_admin_may_reply(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    claimed(service, ticket_id, "agent")
    other = signed_in(service.app, "agent2")
    page = other.get(f"/admin/service/tickets/{ticket_id}").text
    assert "工单由 agent 处理中" in page and 'name="body"' not in page
    answer = other.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "我来回答"})
    assert answer.status_code == 403 and texts_sent(service) == []
    admin = signed_in(service.app, "admin", ADMIN_PASSWORD)
    admin.get(f"/admin/service/tickets/{ticket_id}")
    answer = admin.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "管理员来帮您"})
    assert answer.status_code == 302 and texts_sent(service) == ["管理员来帮您"]


def test_an_overlong_reply_is_refused_and_kept(service):
    ticket_id = ask(service)
    agent = claimed(service, ticket_id)
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "好" * 601})
    assert answer.status_code == 400 and "回复最多 600 个字" in answer.text
    assert "好" * 601 in answer.text and texts_sent(service) == []


# --- transfer and close ---------------------------------------------------------------------


def test_the_holder_transfers_a_ticket(service):
    ticket_id = ask(service)
    agent = claimed(service, ticket_id)
    page = agent.get(f"/admin/service/tickets/{ticket_id}").text
    options = page.split('name="to">')[1].split("</select>")[0]
    assert "<option>agent2</option>" in options and "<option>admin</option>" in options
    assert "manager" not in options and "<option>agent</option>" not in options
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/transfer", {"to": "agent2"})
    assert answer.status_code == 302 and "已转给 agent2" in agent.get(answer.location).text
    assert ticket_row(service, ticket_id).agent == "agent2"
    refused = agent.post(f"/admin/service/tickets/{ticket_id}/transfer", {"to": "agent"})
    assert "只有该客服或管理员可以操作" in agent.get(refused.location).text
    nobody = signed_in(service.app, "agent2")
    nobody.get("/admin/service/")
    wrong = nobody.post(f"/admin/service/tickets/{ticket_id}/transfer", {"to": "manager"})
    assert "请选择一位在职的客服" in nobody.get(wrong.location).text
    assert ticket_row(service, ticket_id).agent == "agent2"


def test_closing_asks_the_customer_for_a_rating(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = claimed(service, ticket_id)
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/close")
    assert answer.status_code == 302 and "已请顾客评分" in agent.get(answer.location).text
    assert texts_sent(service) == ["客服已结束本次会话。" + handoff.RATING_QUESTION]
    ticket = ticket_row(service, ticket_id)
    assert ticket.state == "closed" and ticket.closed_by == "agent"
    page = agent.get(f"/admin/service/tickets/{ticket_id}").text
    assert "工单已关闭" in page and 'name="body"' not in page
    again = agent.post(f"/admin/service/tickets/{ticket_id}/close")
    assert "工单已关闭" in agent.get(again.location).text
    assert ("ticket.close", "agent", f"ticket:{ticket_id}") in audit_actions(service)


def test_closing_outside_the_window_still_closes_and_says_so(service):
    ticket_id = ask(service)
    agent = claimed(service, ticket_id)  # the customer has no open window in WeChat
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/close")
    assert "评分邀请未送达" in agent.get(answer.location).text
    assert ticket_row(service, ticket_id).state == "closed"


# --- the customer panel ---------------------------------------------------------------------


def test_the_ticket_shows_who_the_customer_is(service):
    with service.storage.sessions.begin() as db:  # a real payment: tier and points follow it
        sku = catalog.add_product(db, name="土蜂蜜", skus=[("500g", 60_000, 5)]).skus[0].id
        order = orders.place(db, OPENID, [(sku, 1)])
        assert orders.transition(db, order, "paid", actor="wxpay")
        number = order.number
    ticket_id = ask(service, "<script>alert(1)</script>")
    agent = signed_in(service.app, "agent")
    page = agent.get(f"/admin/service/tickets/{ticket_id}").text
    assert "<dd>青铜</dd>" in page and "<dd>600</dd>" in page and "¥600" in page  # ≥ ¥500
    assert number in page and "已付款" in page
    assert "/admin/shop/orders/" not in page  # agents may not open orders
    assert f'/admin/shop/customers/{OPENID}' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    admin = signed_in(service.app, "admin", ADMIN_PASSWORD)
    assert "/admin/shop/orders/" in admin.get(f"/admin/service/tickets/{ticket_id}").text


# --- the messages the page polls ------------------------------------------------------------


def test_the_messages_json_returns_only_newer_ones(service):
    ticket_id = ask(service, "第一句")
    with service.storage.sessions.begin() as db:
        ticket = db.get(Ticket, ticket_id)
        first = tickets.messages(db, ticket_id)[0].id
        tickets.add_customer_message(db, ticket, kind="text", body="第二句")
        tickets.add_customer_message(db, ticket, kind="text", body="第三句")
    agent = signed_in(service.app, "agent")
    everything = agent.get(f"/admin/service/tickets/{ticket_id}/messages").get_json()
    assert [m["body"] for m in everything] == ["第一句", "第二句", "第三句"]
    newer = agent.get(f"/admin/service/tickets/{ticket_id}/messages?after={first}").get_json()
    assert [m["body"] for m in newer] == ["第二句", "第三句"]
    assert set(newer[0]) == {"id", "sender", "author", "body", "at", "delivery"}
    assert newer[0]["sender"] == "customer" and len(newer[0]["at"]) == len("2025-01-01 12:00")
    last = newer[-1]["id"]
    assert agent.get(f"/admin/service/tickets/{ticket_id}/messages?after={last}").get_json() \
        == []
    assert agent.get("/admin/service/tickets/999/messages").status_code == 404


# --- who may use the inbox ------------------------------------------------------------------


@pytest.mark.parametrize("username", ["reviewer", "manager"])
def test_other_roles_are_refused_the_inbox(service, username):
    ticket_id = ask(service)
    person = signed_in(service.app, username)
    for path in ("/admin/service/", f"/admin/service/tickets/{ticket_id}"):
        answer = person.get(path)
        assert answer.status_code == 403 and "没有权限" in answer.text
    for path in ("/admin/service/queue.json", f"/admin/service/tickets/{ticket_id}/messages"):
        answer = person.get(path)
        assert answer.status_code == 403 and answer.get_json()["error"] == "forbidden"
    person.get("/admin/account")
    assert person.post(f"/admin/service/tickets/{ticket_id}/claim").status_code == 403
    assert ticket_row(service, ticket_id).agent == ""


def test_signed_out_polling_gets_401_json(service):
    ticket_id = ask(service)
    client = service.app.test_client()
    answer = client.get(f"/admin/service/tickets/{ticket_id}/messages")
    assert answer.status_code == 401 and answer.get_json()["error"] == "signed_out"
    assert client.get("/admin/service/").status_code == 302


def test_the_navigation_offers_the_inbox_to_agents(service):
    page = signed_in(service.app, "agent").get("/admin/service/").text
    nav = page.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    assert "客服工作台" in nav and "问答库" in nav


def test_forms_without_their_csrf_token_change_nothing(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = signed_in(service.app, "agent")
    agent.get("/admin/service/")
    claim = agent.post(f"/admin/service/tickets/{ticket_id}/claim", with_token=False)
    assert claim.status_code == 400 and ticket_row(service, ticket_id).agent == ""
    agent.post(f"/admin/service/tickets/{ticket_id}/claim")
    reply = agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "您好"},
                       with_token=False)
    assert reply.status_code == 400 and texts_sent(service) == []
    close = agent.post(f"/admin/service/tickets/{ticket_id}/close", with_token=False)
    assert close.status_code == 400 and ticket_row(service, ticket_id).state == "assigned"


def test_the_scripts_are_static_files(service):
    agent = signed_in(service.app, "agent")
    for name in ("inbox.js", "ticket.js", "service.css"):
        answer = agent.get(f"/admin/service/static/{name}")
        assert answer.status_code == 200
        answer.close()
    for name in ("inbox.js", "ticket.js"):
        script = agent.get(f"/admin/service/static/{name}")
        assert ".innerHTML" not in script.text and "textContent" in script.text
        script.close()


def test_the_audit_log_keeps_no_reply_text(service):
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = claimed(service, ticket_id)
    agent.post(f"/admin/service/tickets/{ticket_id}/reply", {"body": "您的手机号已核实"})
    with service.storage.sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.reply"))
        assert json.loads(entry.detail) == {"chars": 8, "delivery": "sent"}
        assert db.scalar(select(TicketMessage.delivery).where(
            TicketMessage.ticket_id == ticket_id, TicketMessage.sender == "agent")) == "sent"
