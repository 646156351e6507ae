"""提醒我 for a flash-sale session: asked in the chat, queued before the start, withdrawn if
the session is called off.

Its own module because reminders only read sessions (flash.py) and write to the shop's notice
outbox (shop/notices.py); nothing on the purchase path depends on them.

Domain code: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.db import inserted, upsert
from core.storage import Storage
from promotions.flash import FlashItem, FlashReminder, FlashSession, session_label, setting
from shop import notices

REMINDER_KIND = "flash_reminder"
CANCELLED_KIND = "flash_cancelled"


@dataclass(frozen=True)
class ReminderAnswer:
    session: FlashSession
    new: bool  # False: already asked for this session
    channel: str | None  # "custom", "subscribe" or None, as foreseen now
    remind_at: datetime


def ask_reminder(db: Session, session: FlashSession, openid: str, now: datetime, *,
                 minutes: int, template_id: str | None) -> ReminderAnswer:
    """Record 提醒我 and foresee the channel at the reminder time: the customer is writing
    now, so their 48-hour window runs from now (WECHAT_API.md §5A); else an opt-in to the
    subscription notice template; else none, and the customer must be told."""
    remind_at = as_utc(session.starts_at) - timedelta(minutes=minutes)
    if remind_at < now + notices.WINDOW:
        channel: str | None = "custom"
    elif notices.has_opt_in(db, openid, template_id):
        channel = "subscribe"
    else:
        channel = None
    made = inserted(db, upsert(db, FlashReminder.__table__)
                    .values(session_id=session.id, openid=openid, state="waiting",
                            channel=channel or "", created_at=now)
                    .on_conflict_do_nothing(index_elements=["session_id", "openid"]))
    return ReminderAnswer(session, made, channel, remind_at)


def reminder_text(session: FlashSession, items: list[FlashItem], now: datetime) -> str:
    names = "、".join(item.sku.product.name for item in items[:3])
    more = "等" if len(items) > 3 else ""
    return (f"⏰ {session_label(session, now)}秒杀即将开始：{names}{more}限量秒杀。\n"
            "回复「秒杀」查看，开始后回复「抢 序号」抢购。")


def queue_due_reminders(db: Session, now: datetime, minutes: int) -> int:
    """Reminders of sessions starting within `minutes` go to the shop's notice outbox, keyed
    per session and customer so a second run (or a second scheduler) queues nothing. The
    notice carries the session's start as its event time (the subscription notice shows it).

    Only sessions still ahead: a 「即将开始」 for a session already on (the job was down, or
    the session started between two runs) would be false, so those reminders are marked
    missed and never queued; the customer finds the session on when they next write."""
    started = select(FlashSession.id).where(FlashSession.starts_at <= now)
    db.execute(update(FlashReminder)
               .where(FlashReminder.state == "waiting", FlashReminder.session_id.in_(started))
               .values(state="missed").execution_options(synchronize_session=False))
    sessions = list(db.scalars(select(FlashSession).where(
        FlashSession.state == "open", FlashSession.starts_at > now,
        FlashSession.starts_at <= now + timedelta(minutes=minutes))))
    count = 0
    for session in sessions:
        text = reminder_text(session, list(session.items), now)
        for reminder in db.scalars(select(FlashReminder).where(
                FlashReminder.session_id == session.id, FlashReminder.state == "waiting")):
            notices.queue(db, reminder.openid, REMINDER_KIND, text,
                          key=f"flash:{session.id}:{reminder.openid}", title="每日秒杀即将开始",
                          due_at=now, event_at=as_utc(session.starts_at))
            reminder.state = "queued"
            count += 1
    return count


def queue_reminders(storage: Storage, now: datetime | None = None) -> int:
    """Job: due 提醒我 queued for shop/notices' sender."""
    now = now or datetime.now(UTC)
    with storage.sessions.begin() as db:
        return queue_due_reminders(db, now, setting(storage.settings, "FLASH_REMINDER_MINUTES"))


def tell_cancelled(db: Session, session: FlashSession, now: datetime) -> int:
    """「本场秒杀已取消」 to everyone who asked for 提醒我 — waiting, and also those already
    sent 即将开始 (they were told to come, so they must be told not to); returns how many.
    Keyed per session and customer, so telling twice queues nothing."""
    label = session_label(session, now)
    text = (f"很抱歉，本场秒杀已取消：{label}不再开抢，开抢提醒也不会再发送。\n"
            "回复「秒杀」看看其他场次。")
    count = 0
    for reminder in db.scalars(select(FlashReminder).where(
            FlashReminder.session_id == session.id,
            FlashReminder.state.in_(("waiting", "queued")))):
        notices.queue(db, reminder.openid, CANCELLED_KIND, text,
                      key=f"flash:{session.id}:{reminder.openid}:cancelled",
                      title="本场秒杀已取消", due_at=now, event_at=as_utc(session.starts_at))
        reminder.state = "cancelled"
        count += 1
    db.flush()
    return count
