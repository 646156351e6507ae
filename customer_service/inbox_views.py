"""The agents' inbox: the queue, and a ticket (claim, answer, transfer, close).

The rules are in tickets.py, faq.py and handoff.py; these views decide who may act and what
the agent is told. A reply passes the content gate and then goes out through the
customer-service API at once, not through the outbox: WeChat alone knows whether the
customer's 48-hour window is still open, and the agent must see a refusal while still at
the ticket. A refused reply is kept in the history as refused, never silently dropped.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import requests
from flask import (
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.wechat_api import WeChatAPIError
from console import accounts, audit_log
from console.accounts import Account
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.permissions import can
from console.shell import console_blueprint
from content_audit import gate, live_screener
from core.clock import as_utc, shanghai_text
from core.money import yuan
from customer_service import handoff, tickets
from customer_service.tickets import Ticket, TicketError, TicketMessage
from shop import members, tiers
from shop.orders import STATES as ORDER_STATES
from shop.orders import Order

bp = console_blueprint("service", __name__, "/admin/service", template_folder="templates",
                       static_folder="static")

#: What agents type most; the reply form offers them in a list (no table: edit here).
CANNED_REPLIES = (
    "您好，请问有什么可以帮您？",
    "已为您查询，请稍等。",
    "感谢您的耐心等待。",
    "麻烦提供一下您的订单号，我帮您查询。",
    "还有其他问题吗？",
)
REPLY_MAX = 600  # one WeChat text message a customer still reads on a phone
SCOPES = {"all": "全部", "mine": "我的", "unclaimed": "待接入"}
SENDERS = {"customer": "顾客", "agent": "客服", "system": "系统"}
#: Content-gate sources. The gate's review queue knows "agent" (客服回复) and "reply"
#: (回复模板); an FAQ answer is a reply the bot sends on its own.
REPLY_SOURCE = "agent"
CLOSING_TEXT = "客服已结束本次会话。"
NOTIFY_TEXT = "您的咨询有新回复"
WINDOW_CLOSED = "顾客超过 48 小时没有互动（或已取消关注），客服消息发不出去。"
WINDOW_USED_UP = "本次互动后可发的 5 条客服消息已用完，顾客再发消息后才能继续回复。"


# --- small helpers --------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _api():
    return current_app.extensions["wechat_api"]


def _template_id() -> str:
    return str(current_app.config.get("SERVICE_TEMPLATE_ID") or "")


def _may_act(ticket: Ticket, account: Account) -> bool:
    """The holder works the ticket; an admin may step in. Nobody acts on an unclaimed one."""
    return bool(ticket.agent) and (ticket.agent == account.username or account.role == "admin")


def _is_open(ticket: Ticket) -> bool:
    return ticket.state in tickets.OPEN_STATES


def _age_text(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - as_utc(since)).total_seconds() // 60))
    if minutes < 1:
        return "刚刚"
    if minutes < 60:
        return f"{minutes} 分钟"
    if minutes < 24 * 60:
        return f"{minutes // 60} 小时 {minutes % 60} 分钟"
    return f"{minutes // 1440} 天 {minutes % 1440 // 60} 小时"


def _sla_text(ticket: Ticket, now: datetime) -> str:
    if ticket.first_response_at is not None:
        return "已响应"
    if tickets.overdue(ticket, now):
        return "已超时"
    minutes = max(1, math.ceil((as_utc(ticket.first_response_due) - now).total_seconds() / 60))
    if minutes < 60:
        return f"剩 {minutes} 分钟"
    return f"剩 {minutes // 60} 小时 {minutes % 60} 分钟"


def snippet(text: str, length: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[:length] + "…"


def _delivery_text(delivery: str) -> str:
    if not delivery:
        return ""
    if delivery == "sent":
        return "已送达"
    return f"未送达（{delivery.removeprefix('refused:')}）"


def _stats_json(stats: dict[str, Any]) -> dict[str, Any]:
    return {**stats, "rating": "—" if stats["rating"] is None else stats["rating"]}


def _last_messages(db: Session, ticket_ids: list[int]) -> dict[int, TicketMessage]:
    """The newest message of each ticket, in one query (the queue's snippet column)."""
    if not ticket_ids:
        return {}
    newest = (select(func.max(TicketMessage.id)).where(TicketMessage.ticket_id.in_(ticket_ids))
              .group_by(TicketMessage.ticket_id))
    rows = db.scalars(select(TicketMessage).where(TicketMessage.id.in_(newest)))
    return {row.ticket_id: row for row in rows}


def _queue_rows(db: Session, scope: str, username: str) -> list[dict[str, Any]]:
    """The queue as plain values: the page renders them and queue.json sends the same."""
    now = _now()
    queue = tickets.queue(db, agent=username, scope=scope)
    last = _last_messages(db, [t.id for t in queue])
    rows = []
    for ticket in queue:
        message = last.get(ticket.id)
        rows.append({
            "id": ticket.id,
            "openid": ticket.openid,
            "priority": ticket.priority,
            "priority_label": tickets.PRIORITIES.get(ticket.priority, str(ticket.priority)),
            "priority_reason": ticket.priority_reason,
            "state": ticket.state,
            "state_label": tickets.STATES.get(ticket.state, ticket.state),
            "age": _age_text(ticket.created_at, now),
            "sla": _sla_text(ticket, now),
            "overdue": tickets.overdue(ticket, now),
            "agent": ticket.agent,
            "last": snippet(message.body) if message else "",
            "last_sender": SENDERS.get(message.sender, "") if message else "",
            "url": url_for("service.show_ticket", ticket_id=ticket.id),
            "claim_url": "" if ticket.agent else url_for("service.claim",
                                                         ticket_id=ticket.id),
        })
    return rows


def _message_json(message: TicketMessage) -> dict[str, Any]:
    return {"id": message.id, "sender": message.sender, "author": message.author,
            "body": message.body, "at": shanghai_text(message.at),
            "delivery": message.delivery}


# --- the inbox ------------------------------------------------------------------------------


@bp.get("/")
@requires("inbox")
def inbox() -> str:
    """The open tickets by priority, then age: who waits, how long, and who has them."""
    scope = request.args.get("scope", "all")
    scope = scope if scope in SCOPES else "all"
    db = get_db()
    return render_template("service/inbox.html", scope=scope, scopes=SCOPES,
                           stats=_stats_json(tickets.stats(db)),
                           rows=_queue_rows(db, scope, current_account().username),
                           notice=request.args.get("notice", ""),
                           error=request.args.get("error", ""))


@bp.get("/queue.json")
@requires("inbox", json=True)
def queue_json() -> Response:
    """What the inbox page refreshes every few seconds."""
    scope = request.args.get("scope", "all")
    scope = scope if scope in SCOPES else "all"
    db = get_db()
    return jsonify(stats=_stats_json(tickets.stats(db)), scope=scope,
                   tickets=_queue_rows(db, scope, current_account().username))


@bp.post("/tickets/<int:ticket_id>/claim")
@requires("inbox")
def claim(ticket_id: int) -> Response:
    """Take an unclaimed ticket; when two agents click at once, one of them gets it."""
    db, account = get_db(), current_account()
    ticket = get_or_404(Ticket, ticket_id)
    if not tickets.claim(db, ticket_id, account.username):
        db.rollback()
        db.refresh(ticket)
        if ticket.agent == account.username:  # a double click: it is already theirs
            return redirect(url_for("service.show_ticket", ticket_id=ticket_id))
        error = "工单已关闭" if not _is_open(ticket) else "已被其他客服接入"
        if request.form.get("next") == "ticket":
            return redirect(url_for("service.show_ticket", ticket_id=ticket_id, error=error))
        return redirect(url_for("service.inbox", error=f"工单 #{ticket_id} {error}"))
    audit_log.record(db, "ticket.claim", actor=account, target=f"ticket:{ticket_id}",
                     address=client_address())
    db.commit()
    return redirect(url_for("service.show_ticket", ticket_id=ticket_id))


@bp.get("/tickets/<int:ticket_id>")
@requires("inbox")
def show_ticket(ticket_id: int) -> str:
    """The conversation, who the customer is (tier, points, orders), and what may be sent."""
    return _ticket_page(get_or_404(Ticket, ticket_id))


def _ticket_page(ticket: Ticket, *, error: str = "", notice: str = "", body: str = "",
                 offer_notify: bool = False) -> str:
    db, account = get_db(), current_account()
    now = _now()
    customer = members.get(db, ticket.openid)
    standing = tiers.standing(db, ticket.openid, now,
                              tiers.tiers_from(current_app.config.get("MEMBER_TIERS")),
                              points=members.points_summary(db, ticket.openid, now).balance)
    placed = list(db.scalars(select(Order).where(Order.openid == ticket.openid)
                             .order_by(Order.id.desc()).limit(10)))
    window_text, window_open = _window_text(db, ticket, now)
    history = tickets.messages(db, ticket.id)
    others = [t for t in tickets.history_of(db, ticket.openid) if t.id != ticket.id]
    may_act = _may_act(ticket, account) and _is_open(ticket)
    targets = [name for name in _agents(db) if name != ticket.agent] if may_act else []
    return render_template(
        "service/ticket.html", ticket=ticket, history=history, senders=SENDERS,
        delivery_text=_delivery_text, last_id=history[-1].id if history else 0,
        states=tickets.STATES, priorities=tickets.PRIORITIES, customer=customer,
        standing=standing, orders=placed, order_states=ORDER_STATES, yuan=yuan,
        show_orders=can(account.role, "orders"),
        show_customer=customer is not None and can(account.role, "customers"),
        window_text=window_text, window_open=window_open, others=others,
        is_open=_is_open(ticket), may_act=may_act, targets=targets,
        canned=CANNED_REPLIES, reply_max=REPLY_MAX, body=body,
        sla=_sla_text(ticket, now), age=_age_text(ticket.created_at, now),
        # A 服务通知 is the one way to reach a customer whose window is shut.
        offer_notify=(offer_notify or not window_open) and bool(_template_id()) and may_act,
        error=error or request.args.get("error", ""),
        notice=notice or request.args.get("notice", ""),
    )


def _window_text(db: Session, ticket: Ticket, now: datetime) -> tuple[str, bool]:
    """What WeChat's customer-service window allows now, as the ticket's messages tell."""
    window = tickets.window(db, ticket)
    problem = window.problem(now)
    if problem == "45015":
        return "顾客超过 48 小时没有发消息，客服消息发不出去；顾客再次发消息后可回复。", False
    if problem == "45047":
        return WINDOW_USED_UP, False
    seconds = (window.open_until - now).total_seconds()
    span = (f"{int(seconds // 3600)} 小时" if seconds >= 3600
            else f"{max(1, int(seconds // 60))} 分钟")
    return f"48 小时窗口剩余 {span}，还可发送 {window.sends_left} 条", True


def _agents(db: Session) -> list[str]:
    """Active accounts that work the inbox: whom a ticket may be transferred to."""
    return [a.username for a in accounts.all_accounts(db)
            if a.active and can(a.role, "inbox")]


def _refusal(ticket: Ticket, account: Account) -> str | None:
    """Why this account may not act on this ticket now (None: it may)."""
    if not _is_open(ticket):
        return "工单已关闭"
    if not ticket.agent:
        return "请先接入这个工单"
    if not _may_act(ticket, account):
        return f"工单由 {ticket.agent} 处理中，只有该客服或管理员可以操作"
    return None


def _acting_on(ticket_id: int, account: Account) -> tuple[Ticket, Response | None]:
    """The ticket, and the way back to it when this account may not act on it now."""
    ticket = get_or_404(Ticket, ticket_id)
    refusal = _refusal(ticket, account)
    if refusal:
        return ticket, redirect(url_for("service.show_ticket", ticket_id=ticket.id,
                                        error=refusal))
    return ticket, None


@bp.post("/tickets/<int:ticket_id>/reply")
@requires("inbox")
def reply(ticket_id: int):
    """Screen the reply, send it to the customer in WeChat, keep it with how it went."""
    db, account = get_db(), current_account()
    ticket = get_or_404(Ticket, ticket_id)
    body = request.form.get("body", "").strip()
    refusal = _refusal(ticket, account)
    if refusal:
        return _ticket_page(ticket, error=refusal, body=body), 403
    if not body:
        return _ticket_page(ticket, error="请输入回复内容"), 400
    if len(body) > REPLY_MAX:
        return _ticket_page(ticket, error=f"回复最多 {REPLY_MAX} 个字（现在 {len(body)} 个）",
                            body=body), 400
    outcome = gate.check(db, body, source=REPLY_SOURCE, author=account.username,
                         source_ref=f"ticket:{ticket.id}", screener=live_screener())
    if not outcome.may_send:
        db.commit()  # keeps the review item the gate may have queued
        if outcome.held:
            return _ticket_page(ticket, body=body, notice=(
                "这条回复含需要合规审核的用语，已提交审核，暂未发送。审核通过后再次点「发送」"
                "即可发出，或修改措辞后发送。"))
        return _ticket_page(ticket, error=outcome.message, body=body), 400
    delivery, problem = _send(ticket.openid, body)
    tickets.record_reply(db, ticket, agent=account.username, body=body, delivery=delivery)
    audit_log.record(db, "ticket.reply", actor=account, target=f"ticket:{ticket.id}",
                     delivery=delivery, chars=len(body), address=client_address())
    db.commit()
    if delivery == "sent":
        return redirect(url_for("service.show_ticket", ticket_id=ticket.id, notice="已发送"))
    return _ticket_page(ticket, error=problem, offer_notify=delivery == "refused:45015",
                        body="" if delivery in ("refused:45015", "refused:45047") else body)


def _send(openid: str, text: str) -> tuple[str, str]:
    """(delivery, what the agent is told) for one customer-service text message."""
    try:
        _api().send_text(openid, text)
    except WeChatAPIError as error:
        delivery = f"refused:{error.errcode}"
        if error.errcode == 45015:
            if _template_id():
                return delivery, (WINDOW_CLOSED + "可以：等顾客再次发消息（工单保持打开），"
                                  "或发送服务通知提醒顾客回复。")
            return delivery, WINDOW_CLOSED + "可以等顾客再次发消息（工单保持打开）。"
        if error.errcode == 45047:
            return delivery, WINDOW_USED_UP
        return delivery, f"发送失败（微信返回 {error.errcode}），请稍后重试。"
    except requests.RequestException:
        return "refused:network", "暂时连不上微信，未发送，请稍后重试。"
    return "sent", ""


@bp.post("/tickets/<int:ticket_id>/notify")
@requires("inbox")
def notify(ticket_id: int):
    """A template message (服务通知) when the 48-hour window is closed: an agent replied."""
    db, account = get_db(), current_account()
    ticket, refused = _acting_on(ticket_id, account)
    if refused:
        return refused
    template_id = _template_id()
    if not template_id:
        return redirect(url_for("service.show_ticket", ticket_id=ticket.id,
                                error="未配置服务通知模板（SERVICE_TEMPLATE_ID）"))
    now = _now()
    last = tickets.messages(db, ticket.id)
    try:
        _api().send_template(
            ticket.openid, template_id, {"thing1": NOTIFY_TEXT, "time2": shanghai_text(now)},
            # A double click within 10 minutes sends one notice, not two.
            client_msg_id=f"service-{ticket.id}-{last[-1].id if last else 0}")
        delivery = "sent"
    except WeChatAPIError as error:
        delivery = f"refused:{error.errcode}"
    except requests.RequestException:
        delivery = "refused:network"
    tickets.note(db, ticket, author=account.username, kind="template",
                 body=f"服务通知：{NOTIFY_TEXT}", delivery=delivery, now=now)
    audit_log.record(db, "ticket.notify", actor=account, target=f"ticket:{ticket.id}",
                     delivery=delivery, address=client_address())
    db.commit()
    if delivery != "sent":
        reason = "顾客已取消关注" if delivery == "refused:43004" else f"微信返回 {delivery}"
        return redirect(url_for("service.show_ticket", ticket_id=ticket.id,
                                error=f"服务通知未发送（{reason}）"))
    return redirect(url_for("service.show_ticket", ticket_id=ticket.id,
                            notice="已发送服务通知，顾客回复后即可继续发消息"))


@bp.post("/tickets/<int:ticket_id>/transfer")
@requires("inbox")
def transfer(ticket_id: int):
    """Hand the ticket to another agent (its holder, or an admin stepping in)."""
    db, account = get_db(), current_account()
    ticket, refused = _acting_on(ticket_id, account)
    if refused:
        return refused
    to = request.form.get("to", "").strip()
    if to not in _agents(db):
        return redirect(url_for("service.show_ticket", ticket_id=ticket.id,
                                error="请选择一位在职的客服"))
    holder = ticket.agent
    try:
        tickets.transfer(db, ticket, from_agent="" if holder != account.username else holder,
                         to_agent=to)
    except TicketError as error:
        db.rollback()
        return redirect(url_for("service.show_ticket", ticket_id=ticket.id, error=str(error)))
    audit_log.record(db, "ticket.transfer", actor=account, target=f"ticket:{ticket.id}",
                     from_agent=holder, to_agent=to, address=client_address())
    db.commit()
    return redirect(url_for("service.inbox", notice=f"工单 #{ticket.id} 已转给 {to}"))


@bp.post("/tickets/<int:ticket_id>/close")
@requires("inbox")
def close(ticket_id: int):
    """Close the ticket, then ask the customer for a rating in WeChat."""
    db, account = get_db(), current_account()
    ticket, refused = _acting_on(ticket_id, account)
    if refused:
        return refused
    if not tickets.close(db, ticket, by=account.username):
        db.rollback()
        return redirect(url_for("service.show_ticket", ticket_id=ticket.id,
                                error="工单已被关闭（顾客可能刚刚结束了会话）"))
    audit_log.record(db, "ticket.close", actor=account, target=f"ticket:{ticket.id}",
                     address=client_address())
    db.commit()  # closed whatever WeChat says next
    delivery, _problem = _send(ticket.openid, CLOSING_TEXT + handoff.RATING_QUESTION)
    if delivery == "sent":
        notice = f"工单 #{ticket.id} 已关闭，已请顾客评分"
    else:
        notice = (f"工单 #{ticket.id} 已关闭；评分邀请未送达"
                  f"（{_delivery_text(delivery)}，顾客可能超过 48 小时没有互动）")
    return redirect(url_for("service.inbox", notice=notice))


@bp.get("/tickets/<int:ticket_id>/messages")
@requires("inbox", json=True)
def messages_json(ticket_id: int):
    """The ticket's messages after `after` (a message id): the page polls this."""
    db = get_db()
    if db.get(Ticket, ticket_id) is None:
        return jsonify(error="not_found", message="工单不存在"), 404
    after = request.args.get("after", default=0, type=int) or 0
    return jsonify([_message_json(m) for m in tickets.messages(db, ticket_id, after_id=after)])
