"""Messages the shop owes a customer outside any chat turn: an outbox in SQL, sent by a job.

A flash-sale reminder, a tier upgrade, a birthday gift: each is decided inside a transaction
(a payment, a job), but WeChat may only be called after that transaction commits, and only
through a channel WeChat allows for that customer at that moment (WECHAT_API.md §5):
a customer-service message while the 48-hour window since their last message is open, or a
subscription notice (订阅通知) they opted into. So the decision queues a row here, keyed so a
job run twice queues it once, and `send_due` sends it, claiming it first: a process killed
during the call leaves the row `sending` and it is never sent again (a notice lost is better
than one sent twice; the row says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import as_utc, shanghai_text
from core.db import Base, inserted, upsert
from shop.followers import Follower
from shop.orders import Order

log = logging.getLogger(__name__)

#: WeChat's customer-service window, with a margin for the send itself.
WINDOW = timedelta(hours=48) - timedelta(minutes=5)
#: A subscription notice's `thing` field holds at most 20 characters (WECHAT_API.md §5C).
THING_MAX = 20
BATCH = 200
#: Why a notice was not sent, in the console's words.
STATES = {"pending": "待发送", "sending": "发送中", "sent": "已发送",
          "unreachable": "无法送达（超过48小时且未订阅）", "failed": "发送失败",
          "held": "未发送（文案未通过合规审核）", "merged": "已合并到后一条通知"}
#: Kinds that may only go as a customer-service message inside the window, never spending a
#: one-time subscription opt-in (a bargain's every cut: the opt-in is kept for its completion).
_WINDOW_ONLY: set[str] = set()
#: The content gate for one text: None when it may go, else why not (content_audit.gate).
Screen = Callable[[Session, str], str | None]


class CustomerNotice(Base):
    __tablename__ = "customer_notices"
    #: A customer's notices waiting or sent: the quota of their 48-hour window is counted on it.
    __table_args__ = (Index("ix_customer_notices_openid_state", "openid", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: What makes this notice one (e.g. "flash:12:<openid>"): queued twice, it exists once.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    #: The subscription notice's title (≤ 20 characters) when the window is closed.
    title: Mapped[str] = mapped_column(String(40), default="")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: When the thing told of happens (a session's start): the subscription notice's time.
    event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    channel: Mapped[str] = mapped_column(String(16), default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    error: Mapped[str] = mapped_column(String(200), default="")


class NoticeOptIn(Base):
    """Subscription notices a customer accepted in WeChat's popup and not yet used: each
    acceptance allows one send of that template (订阅通知 are one-time)."""

    __tablename__ = "notice_optins"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def queue(db: Session, openid: str, kind: str, text: str, *, key: str, title: str = "",
          due_at: datetime | None = None, event_at: datetime | None = None) -> bool:
    """Owe `openid` this message (sent once `due_at` has come); False when `key` was
    already queued. Runs inside the caller's transaction."""
    return inserted(db, upsert(db, CustomerNotice.__table__)
                    .values(key=key[:120], openid=openid, kind=kind, text=text,
                            title=title[:THING_MAX], state="pending", channel="", error="",
                            due_at=due_at or datetime.now(UTC), event_at=event_at)
                    .on_conflict_do_nothing(index_elements=["key"]))


def window_only(kind: str) -> None:
    """Register a notice kind that goes only inside the 48-hour window, or not at all."""
    _WINDOW_ONLY.add(kind)


def accepted_in_popup(fields: dict[str, Any], template_id: str) -> int:
    """How many times WeChat's subscription popup event (`SubscribeMsgPopupEvent`, one
    <List> per template shown) says the customer accepted `template_id`."""
    if not template_id:
        return 0
    popup = fields.get("SubscribeMsgPopupEvent")
    entries = popup.get("List") if isinstance(popup, dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    return sum(1 for entry in entries or [] if isinstance(entry, dict)
               and entry.get("TemplateId") == template_id
               and entry.get("SubscribeStatusString") == "accept")


def record_opt_in(db: Session, openid: str, template_id: str, now: datetime, *,
                  times: int = 1) -> None:
    """The customer accepted `times` subscription notices of `template_id` (a popup event)."""
    db.execute(
        upsert(db, NoticeOptIn.__table__)
        .values(openid=openid, template_id=template_id, remaining=times, updated_at=now)
        .on_conflict_do_update(index_elements=["openid", "template_id"],
                               set_={"remaining": NoticeOptIn.remaining + times,
                                     "updated_at": now})
    )


def has_opt_in(db: Session, openid: str, template_id: str | None) -> bool:
    if not template_id:
        return False
    row = db.get(NoticeOptIn, (openid, template_id))
    return bool(row and row.remaining > 0)


def in_window(db: Session, openid: str, at: datetime) -> bool:
    """Whether a customer-service message may reach `openid` at `at`: following, and their
    last message or payment less than 48 hours before it. A menu click, a follow or a scan
    opens only a minute (WECHAT_API.md §5A), too short for anything sent later."""
    follower = db.get(Follower, openid)
    if follower is None or not follower.subscribed:
        return False
    paid = db.scalar(select(func.max(Order.paid_at)).where(Order.openid == openid))
    opened = [as_utc(moment) for moment in (follower.last_message_at, paid) if moment]
    return bool(opened) and max(opened) + WINDOW > at


def channel_for(db: Session, openid: str, at: datetime, *,
                template_id: str | None = None) -> str | None:
    """"custom" (inside the 48-hour window), "subscribe" (an opt-in of `template_id` left),
    or None: WeChat allows nothing else for a message the customer did not just ask for."""
    if in_window(db, openid, at):
        return "custom"
    if has_opt_in(db, openid, template_id):
        return "subscribe"
    return None


def send_due(sessions: Any, api: Any, config: dict[str, Any],
             now: datetime | None = None, *, screen: Screen | None = None) -> dict[str, int]:
    """Send every notice that has come due; returns counts by outcome (for logs and tests).

    Each text passes `screen` (the content gate) as it goes: a session title or a coupon name
    a manager typed reaches customers through these notices.
    """
    now = now or datetime.now(UTC)
    template_id = config.get("NOTICE_TEMPLATE_ID") or None
    counts = {"sent": 0, "unreachable": 0, "failed": 0, "held": 0}
    with sessions.begin() as db:
        due = list(db.scalars(
            select(CustomerNotice.id).where(CustomerNotice.state == "pending",
                                            CustomerNotice.due_at <= now)
            .order_by(CustomerNotice.due_at, CustomerNotice.id).limit(BATCH)))
    for notice_id in due:
        outcome = _send_one(sessions, api, notice_id, template_id, now, screen)
        if outcome:
            counts[outcome] += 1
    return counts


def _send_one(sessions: Any, api: Any, notice_id: int, template_id: str | None,
              now: datetime, screen: Screen | None) -> str | None:
    with sessions.begin() as db:
        claimed = db.execute(
            update(CustomerNotice)
            .where(CustomerNotice.id == notice_id, CustomerNotice.state == "pending")
            .values(state="sending").execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            return None  # another scheduler took it
        notice = db.get(CustomerNotice, notice_id)
        openid, text, title = notice.openid, notice.text, notice.title or notice.text
        kind = notice.kind
        when = shanghai_text(notice.event_at or notice.due_at, "%Y-%m-%d %H:%M")
        refusal = screen(db, f"{title}\n{text}") if screen else None
        if refusal:
            notice.state, notice.error = "held", refusal[:200]
            return "held"
        channel = channel_for(db, openid, now,
                              template_id=None if kind in _WINDOW_ONLY else template_id)
        if channel == "subscribe" and api is not None:  # spent whether or not WeChat delivers
            db.execute(update(NoticeOptIn)
                       .where(NoticeOptIn.openid == openid,
                              NoticeOptIn.template_id == template_id,
                              NoticeOptIn.remaining > 0)
                       .values(remaining=NoticeOptIn.remaining - 1)
                       .execution_options(synchronize_session=False))
    state, error = "sent", ""
    if channel is None or api is None:
        state = "unreachable"
        error = "" if api is not None else "WeChat API not configured"
    else:
        try:
            if channel == "custom":
                api.send_text(openid, text)
            else:
                api.send_subscribe_notice(openid, str(template_id),
                                          {"thing1": title[:THING_MAX], "time2": when})
        except Exception as exc:
            state, error = "failed", str(exc)[:200]
            log.warning("notice %s to a customer not sent: %s", notice_id, error)
    with sessions.begin() as db:
        db.execute(update(CustomerNotice).where(CustomerNotice.id == notice_id)
                   .values(state=state, channel=channel or "", error=error,
                           sent_at=now if state == "sent" else None)
                   .execution_options(synchronize_session=False))
    return state


def for_customer(db: Session, openid: str, limit: int = 20) -> list[CustomerNotice]:
    return list(db.scalars(select(CustomerNotice).where(CustomerNotice.openid == openid)
                           .order_by(CustomerNotice.id.desc()).limit(limit)))
