"""What the console, the API and the CLI show of pushes: the next fire time, the trigger in
words, each run's delivery report (one grouped query) and the calendar of what goes out when.

Plain functions over SQL, no Flask: campaigns/push_views.py, campaigns/push_api.py and
`python -m bot pushes` all read pushes through here, so they can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns import push_coupons, push_rules
from campaigns.pushes import TRIGGERS, Push, PushDelivery
from core.clock import SHANGHAI, as_utc, shanghai_text

#: The content gate's word on a push's copy, in the console's words.
REVIEW_STATES = {"send": "已通过", "queued": "待审核", "rejected": "未通过", "blocked": "已拦截"}
RUN_KINDS = {"main": "正式推送", "announce": "预告"}
RUN_STATES = {"planning": "规划中", "planned": "已规划", "sending": "发送中", "done": "已完成",
              "held": "未发送（文案未及时通过审核）", "cancelled": "已取消"}
CALENDAR_DAYS = 14
#: Runs shown on a push's page, newest first (a cron push accumulates many).
RUNS_SHOWN = 30
WEEKDAYS = "一二三四五六日"

MOVE_DONE = {"pause": "已暂停：不再安排新的发送，恢复后继续",
             "resume": "已恢复：按计划继续发送",
             "cancel": "已取消：尚未发送的批次已一并取消"}


def next_fire(push: Push, now: datetime) -> datetime | None:
    """The push's next main fire time, looking a day, a month, then a year ahead (a cron
    firing hourly would otherwise list thousands of times to find the first). Only a
    scheduled push has one: a paused push sends nothing until it is resumed."""
    if push.state != "scheduled":
        return None
    for days in (1, 31, 366):
        found = push_rules.next_fires(push, now, now + timedelta(days=days))
        if found:
            return found[0]
    return None


def trigger_text(push: Any) -> str:
    """The trigger in words: when, which cron, or how many days after what."""
    if push.trigger == "once":
        return f"定时一次：{shanghai_text(push.trigger_at)}" if push.trigger_at else "定时一次"
    if push.trigger == "cron":
        return f"周期：{push.cron}（北京时间）"
    daily = push_rules.DAILY_AT.strftime("%H:%M")
    if push.trigger == "after_first_order":
        return f"首单后{push.trigger_days}天仍未复购（每天{daily}检查）"
    if push.trigger == "inactive":
        return f"{push.trigger_days}天没有互动（每天{daily}检查）"
    return TRIGGERS.get(push.trigger, push.trigger)


@dataclass
class Report:
    """One run's deliveries by outcome: what the manager needs to trust a send."""

    planned: int = 0
    sending: int = 0
    sent: int = 0
    holdout: int = 0
    unknown: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason → count
    failed: dict[int | None, int] = field(default_factory=dict)  # error code → count
    failed_text: dict[int | None, str] = field(default_factory=dict)  # code → an error text
    by_channel: dict[str, int] = field(default_factory=dict)  # sent per channel
    #: Coupons the run's recipients were given with it, and how many are used now.
    coupons: push_coupons.Figures = field(default_factory=push_coupons.Figures)

    @property
    def total(self) -> int:
        return (self.planned + self.sending + self.sent + self.holdout + self.unknown
                + sum(self.skipped.values()) + sum(self.failed.values()))


def reports(db: Session, run_ids: list[int]) -> dict[int, Report]:
    """Every run's report in one grouped query (a run of 100,000 is a few dozen rows), and
    one more for the coupons its recipients were given (campaigns/push_coupons.py)."""
    found: dict[int, Report] = defaultdict(Report)
    if not run_ids:
        return found
    rows = db.execute(
        select(PushDelivery.run_id, PushDelivery.state, PushDelivery.holdout,
               PushDelivery.channel, PushDelivery.reason, PushDelivery.error_code,
               func.max(PushDelivery.error), func.count())
        .where(PushDelivery.run_id.in_(run_ids))
        .group_by(PushDelivery.run_id, PushDelivery.state, PushDelivery.holdout,
                  PushDelivery.channel, PushDelivery.reason, PushDelivery.error_code))
    for run_id, state, holdout, channel, reason, code, error, n in rows:
        report = found[run_id]
        if holdout or state == "holdout":
            report.holdout += n
        elif state == "skipped":
            key = reason or "未注明原因"
            report.skipped[key] = report.skipped.get(key, 0) + n
        elif state == "failed":
            report.failed[code] = report.failed.get(code, 0) + n
            report.failed_text.setdefault(code, error or "")
        elif state == "sent":
            report.sent += n
            report.by_channel[channel] = report.by_channel.get(channel, 0) + n
        elif state == "unknown":
            report.unknown += n
        elif state in ("sending", "calling"):  # calling: the sender's WeChat call in flight
            report.sending += n
        else:
            report.planned += n
    for run_id, figures in push_coupons.usage(db, run_ids).items():
        found[run_id].coupons = figures
    return found


@dataclass(frozen=True)
class Entry:
    """One send on the calendar: `at` is when it goes (after quiet hours), `fire` when it
    was due; they differ when a cron fire falls in the quiet hours and waits for their end."""

    at: datetime
    fire: datetime
    push: Push
    kind: str  # main | announce

    @property
    def deferred(self) -> bool:
        return self.at != self.fire


@dataclass
class Day:
    day: str  # YYYY-MM-DD, Shanghai
    weekday: str
    entries: list[Entry] = field(default_factory=list)


def calendar_days(db: Session, now: datetime, days: int = CALENDAR_DAYS) -> list[Day]:
    """Today and the next days (Shanghai), each with the sends of scheduled pushes in time
    order: main fires, and announcements `announce_days` before a main fire (a fire up to
    that many days past the calendar's end still announces inside it)."""
    now = as_utc(now)
    today = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    end = (today + timedelta(days=days)).astimezone(UTC)
    calendar = [Day((today + timedelta(days=i)).strftime("%Y-%m-%d"),
                    WEEKDAYS[(today + timedelta(days=i)).weekday()]) for i in range(days)]
    index = {d.day: d for d in calendar}
    for push in db.scalars(select(Push).where(Push.state == "scheduled").order_by(Push.id)):
        # announcements exist for once and cron pushes only (push_rules.check refuses them
        # on event triggers)
        ahead = timedelta(days=push.announce_days) \
            if push.trigger not in push_rules.EVENT_TRIGGERS else timedelta(0)
        for fire in push_rules.next_fires(push, now, end + ahead):
            due = [(fire, "main")] + ([(fire - ahead, "announce")] if ahead else [])
            candidates = [Entry(push_rules.next_allowed(push, at), at, push, kind)
                          for at, kind in due]
            for entry in candidates:
                if now < entry.at <= end:
                    day = index.get(shanghai_text(entry.at, "%Y-%m-%d"))
                    if day is not None:
                        day.entries.append(entry)
    for day in calendar:
        day.entries.sort(key=lambda e: (e.at, e.push.id, e.kind))
    return calendar
