"""Tickets: a customer's conversation with a person, from 人工 to the rating.

open → assigned (an agent claimed it) → waiting (the agent answered; the customer's turn) →
closed, and back to assigned when the customer writes again. Each change that two people
could make at once (two agents claiming, an agent closing while the customer types 结束) is
one conditional UPDATE, so exactly one of them wins.

Priority: 2 for complaint words (投诉, 假货, 骗, 12315 …) in any message of the customer's,
including those they wrote just before asking for a person; 1 for the top member tier, else 0;
the queue is by priority, then age. The first response is due SLA minutes after the ticket opened,
or after the next opening time when it came in outside business hours.

WeChat's customer-service window: after a customer's message, 5 messages may be sent within
48 hours (45047 past the count, 45015 past the time). `window` reads both from the ticket's
own messages, so the console can say what is allowed before an agent types a reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import as_utc
from core.db import Base
from customer_service.hours import Hours

STATES = {"open": "待接入", "assigned": "处理中", "waiting": "等待顾客", "closed": "已关闭"}
PRIORITIES = {0: "普通", 1: "高级会员", 2: "投诉"}
#: Words that make an agent hurry: complaints, and 退款 or 过敏 (wider than complaints.py's).
#: Not a bare 骗, which also flags 不骗你.
COMPLAINT_WORDS = ("投诉", "假货", "假的", "退款", "12315", "举报", "欺诈", "骗子", "骗人",
                   "被骗", "骗钱", "差评", "维权", "工商", "曝光", "律师", "起诉", "过敏",
                   "质量问题")
WINDOW = timedelta(hours=48)
WINDOW_SENDS = 5
SLA_MINUTES = 10
OPEN_STATES = ("open", "assigned", "waiting")


class TicketError(ValueError):
    """A ticket change that cannot be made; the message is for the agent (Chinese)."""


class Ticket(Base):
    __tablename__ = "service_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(12), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    priority_reason: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_customer_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    rating: Mapped[int | None] = mapped_column(Integer)


class TicketMessage(Base):
    __tablename__ = "service_ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    sender: Mapped[str] = mapped_column(String(10))  # customer | agent | system
    author: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(12), default="text")
    body: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivery: Mapped[str] = mapped_column(String(32), default="")  # sent | refused:45015 | …


def priority_for(text: str, tier: str = "", top_tier: str = "") -> tuple[int, str]:
    """(level, why) for a message: complaint words first, then the top member tier."""
    for word in COMPLAINT_WORDS:
        if word in text:
            return 2, f"投诉词：{word}"
    if tier and tier == top_tier:
        return 1, f"{tier}会员"
    return 0, ""


def current(db: Session, openid: str) -> Ticket | None:
    """The customer's open ticket, if any (at most one is open per customer)."""
    return db.scalar(select(Ticket).where(Ticket.openid == openid,
                                          Ticket.state.in_(OPEN_STATES))
                     .order_by(Ticket.id.desc()).limit(1))


def open_ticket(db: Session, openid: str, *, text: str, kind: str = "text",
                tier: str = "", top_tier: str = "", hours: Hours | None = None,
                sla_minutes: int = SLA_MINUTES, now: datetime | None = None,
                earlier: Sequence[tuple[datetime, str]] = ()) -> Ticket:
    """The customer asked for a person: their open ticket with this message, or a new one.

    Args:
        text: the request itself; may be empty when `earlier` says it all (the customer only
            typed 人工 after their question).
        earlier: (time, text) of what the customer wrote just before, oldest first; kept ahead
            of `text`, and weighed for the priority like it.

    The webhook handles one message per customer at a time, so two opens for one customer
    cannot interleave.
    """
    now = now or datetime.now(UTC)
    said = [(at, "text", body) for at, body in earlier] + ([(now, kind, text)] if text else [])
    if not said:
        raise TicketError("工单需要至少一条顾客消息")
    ticket = current(db, openid)
    if ticket is not None:
        for at, message_kind, body in said:
            add_customer_message(db, ticket, kind=message_kind, body=body, tier=tier,
                                 top_tier=top_tier, now=at)
        # The turn is the customer's as of this request, not of the last earlier message
        # (the 48-hour window and the wait are counted from it).
        db.execute(update(Ticket).where(Ticket.id == ticket.id).values(last_customer_at=now)
                   .execution_options(synchronize_session=False))
        db.refresh(ticket)
        return ticket
    level, why = priority_for(" ".join(body for _, _, body in said), tier, top_tier)
    start = hours.next_open(now) if hours is not None else now
    ticket = Ticket(openid=openid, state="open", priority=level, priority_reason=why, agent="",
                    created_at=now, first_response_due=start + timedelta(minutes=sla_minutes),
                    last_customer_at=now, closed_by="")
    db.add(ticket)
    db.flush()
    for at, message_kind, body in said:
        db.add(TicketMessage(ticket_id=ticket.id, sender="customer", kind=message_kind,
                             body=body[:2000], at=at))
    db.flush()
    return ticket


def add_customer_message(db: Session, ticket: Ticket, *, kind: str, body: str,
                         tier: str = "", top_tier: str = "",
                         now: datetime | None = None) -> TicketMessage:
    """A message of the customer while a ticket is open: kept, and the turn is the agent's.
    A complaint word raises the priority (it never falls back)."""
    now = now or datetime.now(UTC)
    message = TicketMessage(ticket_id=ticket.id, sender="customer", kind=kind, body=body[:2000],
                            at=now)
    db.add(message)
    level, why = priority_for(body, tier, top_tier)
    values: dict = {"last_customer_at": now}
    if level > ticket.priority:
        values |= {"priority": level, "priority_reason": why}
    db.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values)
               .execution_options(synchronize_session=False))
    db.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.state == "waiting")
               .values(state="assigned").execution_options(synchronize_session=False))
    db.flush()
    db.refresh(ticket)
    return message


def claim(db: Session, ticket_id: int, agent: str) -> bool:
    """Take an unclaimed ticket; False if another agent was first (or it is closed)."""
    taken = db.execute(
        update(Ticket).where(Ticket.id == ticket_id, Ticket.agent == "",
                             Ticket.state.in_(OPEN_STATES))
        .values(agent=agent, state="assigned").execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def transfer(db: Session, ticket: Ticket, *, from_agent: str, to_agent: str,
             now: datetime | None = None) -> None:
    """Hand the ticket to another agent (only its holder, or an admin as from_agent="")."""
    if not to_agent or to_agent == ticket.agent:
        raise TicketError("请选择另一位客服")
    query = update(Ticket).where(Ticket.id == ticket.id, Ticket.state.in_(OPEN_STATES))
    if from_agent:
        query = query.where(Ticket.agent == from_agent)
    if db.execute(query.values(agent=to_agent, state="assigned")
                  .execution_options(synchronize_session=False)).rowcount != 1:
        raise TicketError("工单已被他人处理或已关闭，请刷新")
    db.add(TicketMessage(ticket_id=ticket.id, sender="system", author=from_agent,
                         body=f"转给 {to_agent}", at=now or datetime.now(UTC)))
    db.flush()
    db.refresh(ticket)


def record_reply(db: Session, ticket: Ticket, *, agent: str, body: str, delivery: str,
                 now: datetime | None = None) -> TicketMessage:
    """An agent's reply and whether WeChat delivered it; a delivered one is the first
    response (SLA) if none came before, and the turn passes to the customer."""
    now = now or datetime.now(UTC)
    message = TicketMessage(ticket_id=ticket.id, sender="agent", author=agent, kind="text",
                            body=body, at=now, delivery=delivery)
    db.add(message)
    if delivery == "sent":
        values: dict = {"state": "waiting"}
        if ticket.first_response_at is None:
            values["first_response_at"] = now
        db.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.state.in_(OPEN_STATES))
                   .values(**values).execution_options(synchronize_session=False))
    db.flush()
    db.refresh(ticket)
    return message


def note(db: Session, ticket: Ticket, *, author: str, body: str, kind: str = "text",
         delivery: str = "", now: datetime | None = None) -> TicketMessage:
    """A line in the ticket's history that is neither side speaking (a 服务通知 sent, …)."""
    message = TicketMessage(ticket_id=ticket.id, sender="system", author=author, kind=kind,
                            body=body, at=now or datetime.now(UTC), delivery=delivery)
    db.add(message)
    db.flush()
    return message


def close(db: Session, ticket: Ticket, *, by: str, now: datetime | None = None) -> bool:
    """Close the ticket; False if it was already closed (the other side was first)."""
    now = now or datetime.now(UTC)
    closed = db.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.state.in_(OPEN_STATES))
        .values(state="closed", closed_at=now, closed_by=by)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if closed:
        db.add(TicketMessage(ticket_id=ticket.id, sender="system", author=by,
                             body="顾客结束了会话" if by == "customer" else f"{by} 关闭了工单",
                             at=now))
    db.flush()
    db.refresh(ticket)
    return closed


def rate(db: Session, ticket: Ticket, stars: int) -> bool:
    """The customer's 1–5 after closing; only the first rating counts."""
    if not 1 <= stars <= 5:
        raise TicketError("评分需为 1–5")
    rated = db.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.state == "closed",
                             Ticket.rating.is_(None))
        .values(rating=stars).execution_options(synchronize_session=False)
    ).rowcount == 1
    db.refresh(ticket)
    return rated


def latest_closed_unrated(db: Session, openid: str) -> Ticket | None:
    return db.scalar(select(Ticket).where(Ticket.openid == openid, Ticket.state == "closed",
                                          Ticket.rating.is_(None))
                     .order_by(Ticket.id.desc()).limit(1))


def queue(db: Session, *, agent: str = "", scope: str = "all", limit: int = 200
          ) -> list[Ticket]:
    """Open tickets by priority, then age. scope: all | mine | unclaimed."""
    query = select(Ticket).where(Ticket.state.in_(OPEN_STATES))
    if scope == "mine":
        query = query.where(Ticket.agent == agent)
    elif scope == "unclaimed":
        query = query.where(Ticket.agent == "")
    return list(db.scalars(query.order_by(Ticket.priority.desc(), Ticket.created_at,
                                          Ticket.id).limit(limit)))


def messages(db: Session, ticket_id: int, after_id: int = 0) -> list[TicketMessage]:
    return list(db.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id,
                                                       TicketMessage.id > after_id)
                           .order_by(TicketMessage.id)))


@dataclass(frozen=True)
class Window:
    """What WeChat will let an agent send now (see the module docstring)."""

    open_until: datetime
    sends_left: int

    def problem(self, now: datetime) -> str | None:
        if now >= self.open_until:
            return "45015"
        if self.sends_left <= 0:
            return "45047"
        return None


def window(db: Session, ticket: Ticket) -> Window:
    last = as_utc(db.scalar(select(func.max(TicketMessage.at)).where(
        TicketMessage.ticket_id == ticket.id, TicketMessage.sender == "customer"))
        or ticket.last_customer_at)
    sent = db.scalar(select(func.count(TicketMessage.id)).where(
        TicketMessage.ticket_id == ticket.id, TicketMessage.sender == "agent",
        TicketMessage.delivery == "sent", TicketMessage.at >= last)) or 0
    return Window(last + WINDOW, WINDOW_SENDS - sent)


def overdue(ticket: Ticket, now: datetime) -> bool:
    """No first response yet and its time has passed."""
    return ticket.first_response_at is None and as_utc(ticket.first_response_due) < now


def history_of(db: Session, openid: str, limit: int = 10) -> list[Ticket]:
    return list(db.scalars(select(Ticket).where(Ticket.openid == openid)
                           .order_by(Ticket.id.desc()).limit(limit)))


def stats(db: Session) -> dict[str, float | int | None]:
    """Open tickets, overdue ones and the average rating: the inbox header."""
    now = datetime.now(UTC)
    open_tickets = queue(db)
    rated = db.scalar(select(func.avg(Ticket.rating)).where(Ticket.rating.is_not(None)))
    return {"open": len(open_tickets),
            "unclaimed": sum(1 for t in open_tickets if not t.agent),
            "overdue": sum(1 for t in open_tickets if overdue(t, now)),
            "rating": round(float(rated), 2) if rated is not None else None}
