"""Telling the starter what their friends did, within WeChat's sending rules.

Every notice goes through the shop's outbox (shop/notices.py), queued in the transaction that
decides it (the cut; the expiry job; a cancelled order) and sent by its job past the content
gate. The rules (WECHAT_API.md §5):
- **each cut** is worth a message only inside the 48-hour window after the starter's last
  message, as a customer-service message: never through a one-time subscription opt-in, which
  the completion needs more. The window allows 5 messages, so the last two are kept for the
  completion and the expiry warning: with 3 left, cuts wait 10 minutes and merge into one
  message; with 2 or fewer they are not sent (the starter sees them when they next ask). A cut
  notice still waiting is rewritten by the next cut rather than joined by a second one;
- **completion** and **expiry** (near and done) go through whichever channel WeChat allows:
  the window, or a subscription notice the starter opted into, or not at all (the outbox
  records it as unreachable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import as_utc, shanghai_text
from core.money import yuan
from promotions.bargains import BargainLaunch
from shop import notices
from shop.followers import Follower
from shop.notices import CustomerNotice

CUT_KIND = "bargain_cut"
#: Customer-service messages WeChat allows per 48-hour window after a customer's message.
WINDOW_QUOTA = 5
KEEP_FOR_LATER = 2  # the completion and the expiry warning
MERGE_DELAY = timedelta(minutes=10)


def quota_left(db: Session, openid: str, now: datetime) -> int:
    """Customer-service messages still allowed in the window since their last message
    (sent or waiting in the outbox to be sent through it)."""
    follower = db.get(Follower, openid)
    if follower is None or follower.last_message_at is None:
        return 0
    opened = as_utc(follower.last_message_at)
    if opened + notices.WINDOW <= now:
        return 0
    used = db.scalar(select(func.count()).select_from(CustomerNotice).where(
        CustomerNotice.openid == openid,
        ((CustomerNotice.state == "sent") & (CustomerNotice.channel == "custom")
         & (CustomerNotice.sent_at >= opened))
        | (CustomerNotice.state.in_(("pending", "sending"))))) or 0
    return max(0, WINDOW_QUOTA - used)


def progress_text(launch: BargainLaunch, product: str) -> str:
    return (f"好友帮你砍了一刀！「{product}」已砍掉 {yuan(launch.cut_fen)}，现价 "
            f"{yuan(launch.price_fen)}，离底价 {yuan(launch.floor_fen)} 还差 "
            f"{yuan(launch.left_fen)}，还需 {launch.helpers_left} 位好友。"
            f"{shanghai_text(launch.expires_at, '%m-%d %H:%M')} 前有效。回复「我的砍价」查看。")


@dataclass(frozen=True)
class CutNoticePlan:
    """What the outbox holds for a starter, read before the cut's write transaction so that
    transaction (which holds SQLite's one write lock) stays a few statements long."""

    product: str
    waiting_id: int | None  # a cut notice of this launch still waiting: rewrite it
    quota_left: int


def plan(db: Session, launch: BargainLaunch, product: str, now: datetime) -> CutNoticePlan:
    waiting = db.scalar(select(CustomerNotice.id).where(
        CustomerNotice.openid == launch.openid, CustomerNotice.kind == CUT_KIND,
        CustomerNotice.key.like(f"bargain:{launch.id}:cut:%"),
        CustomerNotice.state == "pending"))
    return CutNoticePlan(product, waiting, quota_left(db, launch.openid, now))


def after_cut(db: Session, launch: BargainLaunch, help_id: int, source: str, completed: bool,
              notice_plan: CutNoticePlan, now: datetime) -> None:
    """Queue what the starter is owed for this cut (in the cut's transaction; `launch` holds
    the counters after it)."""
    product = notice_plan.product
    if completed:
        _drop_waiting_cuts(db, launch)
        notices.queue(
            db, launch.openid, "bargain_done",
            f"砍到底啦！「{product}」已砍到底价 {yuan(launch.floor_fen)}。请在 "
            f"{shanghai_text(launch.expires_at, '%m-%d %H:%M')} 前回复「砍价下单」按底价下单，"
            "过期作废。",
            key=f"bargain:{launch.id}:done", title="砍价已到底价，请及时下单", due_at=now,
            event_at=as_utc(launch.expires_at))
        return
    if source == "starter":
        return
    text = progress_text(launch, product)
    if notice_plan.waiting_id is not None:  # merge: the one waiting now tells the latest state
        rewritten = db.execute(update(CustomerNotice)
                               .where(CustomerNotice.id == notice_plan.waiting_id,
                                      CustomerNotice.state == "pending")
                               .values(text=text)
                               .execution_options(synchronize_session=False)).rowcount
        if rewritten:
            return
    left = notice_plan.quota_left
    if left <= KEEP_FOR_LATER:
        return
    due = now if left > KEEP_FOR_LATER + 1 else now + MERGE_DELAY
    notices.queue(db, launch.openid, CUT_KIND, text, key=f"bargain:{launch.id}:cut:{help_id}",
                  title="好友帮你砍了一刀", due_at=due)


def _drop_waiting_cuts(db: Session, launch: BargainLaunch) -> None:
    """The completion says everything a waiting cut notice would have said."""
    db.execute(update(CustomerNotice)
               .where(CustomerNotice.kind == CUT_KIND, CustomerNotice.state == "pending",
                      CustomerNotice.key.like(f"bargain:{launch.id}:cut:%"))
               .values(state="merged", channel="", error="")
               .execution_options(synchronize_session=False))


def expiring(db: Session, launch: BargainLaunch, product: str, now: datetime) -> bool:
    """Queued once per launch by the expiry job, some hours before the end (False: it was
    queued by an earlier run)."""
    at = shanghai_text(launch.expires_at, "%m-%d %H:%M")
    if launch.state == "completed":
        text = (f"你的砍价「{product}」已砍到底价 {yuan(launch.floor_fen)}，还没下单，"
                f"{at} 过期。回复「砍价下单」按底价下单。")
    else:
        text = (f"你的砍价「{product}」{at} 过期，现价 {yuan(launch.price_fen)}，离底价还差 "
                f"{yuan(launch.left_fen)}，还需 {launch.helpers_left} 位好友。"
                "回复「我的砍价」查看。")
    return notices.queue(db, launch.openid, "bargain_expiring", text,
                  key=f"bargain:{launch.id}:expiring", title="砍价即将过期", due_at=now,
                  event_at=as_utc(launch.expires_at))


def expired(db: Session, launch: BargainLaunch, product: str, now: datetime) -> None:
    notices.queue(db, launch.openid, "bargain_expired",
                  f"你的砍价「{product}」已过期，砍掉的金额不再保留。回复「砍价」可以看看还有哪些活动。",
                  key=f"bargain:{launch.id}:expired", title="砍价已过期", due_at=now,
                  event_at=as_utc(launch.expires_at))
