"""Handing a customer to a person: the ticket, and what the customer is told.

The chat (handlers/service.py), the FAQ's "没解决？回复 人工" and later campaigns all come here,
so the wording about business hours and waiting lives once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from customer_service import tickets
from customer_service.hours import hours_from, when_text
from shop import tiers

END_WORDS = ("结束", "结束会话", "结束对话", "不用了", "没事了", "好了谢谢")
RATING_QUESTION = "请为本次服务打分：回复 1–5（5 分最满意）。"
TICKET_HOLD_SECONDS = 7 * 24 * 3600  # the chat keeps routing to the ticket this long


@dataclass(frozen=True)
class HandOff:
    ticket_id: int
    text: str  # what the customer is told
    in_hours: bool


def _member(db: Session, openid: str, config: dict[str, Any]) -> tuple[str, str]:
    """(tier, the tier that jumps the queue): 白银 and above (专属客服) are served first, so
    for them the second is their own tier (tickets.priority_for compares the two)."""
    table = tiers.tiers_from(config.get("MEMBER_TIERS"))
    level = tiers.level_of(db, openid)
    tier = table.name(level)
    return tier, tier if level >= tiers.PRIORITY_LEVEL else table.name(tiers.TOP_LEVEL)


def hand_off(db: Session, openid: str, text: str, *, kind: str = "text",
             config: dict[str, Any], now: datetime | None = None,
             earlier: Sequence[tuple[datetime, str]] = ()) -> HandOff:
    """Open (or add to) the customer's ticket and say when a person will answer. `earlier`:
    what they wrote just before (recent_messages.take), which the agent then reads first."""
    now = now or datetime.now(UTC)
    hours = hours_from(config)
    tier, top = _member(db, openid, config)
    was_open = tickets.current(db, openid) is not None
    ticket = tickets.open_ticket(
        db, openid, text=text, kind=kind, tier=tier, top_tier=top, hours=hours,
        sla_minutes=int(config.get("SERVICE_SLA_MINUTES") or tickets.SLA_MINUTES), now=now,
        earlier=earlier)
    if was_open:
        reply = f"您的会话（工单 #{ticket.id}）仍在进行中，客服会尽快回复。回复「结束」可结束会话。"
        return HandOff(ticket.id, reply, hours.is_open(now))
    if hours.is_open(now):
        reply = (f"已为您转接人工客服（工单 #{ticket.id}），请直接描述您的问题，"
                 "客服会尽快回复。回复「结束」可结束会话。")
        return HandOff(ticket.id, reply, True)
    reply = (f"现在是非工作时间（客服时间 {hours.label()}）。您的问题已记录（工单 #{ticket.id}），"
             f"客服会在{when_text(hours.next_open(now), now)} 后尽快回复，您可以先把问题发过来。"
             "回复「结束」可结束会话。")
    return HandOff(ticket.id, reply, False)


def people_available(config: dict[str, Any], now: datetime | None = None) -> bool:
    """Within business hours (WeChat's 多客服 is handed a conversation only then)."""
    return hours_from(config).is_open(now or datetime.now(UTC))


def customer_writes(db: Session, openid: str, text: str, *, kind: str = "text",
                    config: dict[str, Any], now: datetime | None = None) -> bool:
    """A message while a ticket is open goes to it; False when no ticket is open anymore."""
    ticket = tickets.current(db, openid)
    if ticket is None:
        return False
    tier, top = _member(db, openid, config)
    tickets.add_customer_message(db, ticket, kind=kind, body=text, tier=tier, top_tier=top,
                                 now=now)
    return True


def customer_ends(db: Session, openid: str, now: datetime | None = None) -> str:
    """结束: close the ticket and ask for the rating."""
    ticket = tickets.current(db, openid)
    if ticket is None or not tickets.close(db, ticket, by="customer", now=now):
        return "会话已经结束了。" + RATING_QUESTION
    return "本次会话已结束，感谢您的耐心。" + RATING_QUESTION


def rate(db: Session, openid: str, text: str) -> str | None:
    """A 1–5 answer for the customer's latest closed ticket; None if `text` is not one."""
    stripped = text.strip().rstrip("分星")
    if stripped not in ("1", "2", "3", "4", "5"):
        return None
    ticket = tickets.latest_closed_unrated(db, openid)
    if ticket is None or not tickets.rate(db, ticket, int(stripped)):
        return "感谢您的反馈！"
    return f"感谢您的评价（{stripped} 分）！我们会继续改进。"


def message_body(kind: str, text: str, fields: dict[str, Any]) -> str:
    """What a ticket keeps of a message that is not text: the voice recognition, or where the
    picture or location is (the media stays at WeChat for 3 days)."""
    if kind == "image":
        return f"[图片] {fields.get('PicUrl') or fields.get('MediaId') or ''}".strip()
    if kind == "voice":
        return f"[语音] {text}" if text else f"[语音] {fields.get('MediaId', '')}"
    if kind == "location":
        return f"[位置] {fields.get('Label') or ''}".strip()
    if kind in ("video", "shortvideo", "file"):
        return f"[{kind}] {fields.get('MediaId', '')}"
    if kind == "link":
        return f"[链接] {fields.get('Title', '')} {fields.get('Url', '')}".strip()
    return text
