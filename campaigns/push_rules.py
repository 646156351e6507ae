"""The rules of a push: what a manager may schedule, when it fires, and when it may not send.

A push is checked before anything is stored (`check`), so every bad input the issue names is
refused or warned about in Chinese before a single customer is planned: a segment nobody is in
(warned), a WeChat tag that is unknown or that no customer of the segment carries (refused),
a cron expression that never fires or fires every minute, a send time in quiet hours, copy the
content gate blocks or sends to review, a holdout of 100%, template messages (service notices
only, WECHAT_API.md §5B), a coupon batch that cannot cover the push (campaigns/push_coupons.py).

The copy passes the content gate twice: when the push is created (`create`, through
`content_audit.gate.check`, which files a review item when the rules ask for one) and again at
send time (`copy_may_go`), because the rules or the reviewer's decision may have changed since.
The send-time check and the preview in `check` only *read* the review queue: a dry run or a
sender asking once per delivery must not file review items or write exemption audit entries.

Fire times (`next_fires`):
- once: `trigger_at`;
- cron: the standard five-field crontab read in Asia/Shanghai (the merchant's clock);
- after_first_order / inactive: an evaluation every day at 10:00 Shanghai — each day's run
  picks the customers whose first order (or last interaction) fell on the day `trigger_days`
  earlier, so every customer is reached once, on the right day, at a civil hour.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns import segments, tags
from campaigns.pushes import CHANNELS, PUSH_STATES, TRIGGERS, Push, PushRun
from content_audit import exemptions, gate, review
from content_audit.screener import Screener, Verdict
from core.clock import SHANGHAI, as_utc, shanghai_text
from shop.notices import THING_MAX

#: Variant keys in order: one text is A, two are A and B.
VARIANT_KEYS = ("A", "B")
#: The daily evaluation time of the event triggers (after_first_order, inactive), Shanghai.
DAILY_AT = time(10, 0)
#: How far ahead a cron expression must fire at least once.
HORIZON = timedelta(days=366)
#: Fire times listed at most per call, so a pathological expression cannot loop for long.
MAX_FIRES = 20_000
QUEUED_WARNING = "文案需审核通过后才会发送；发送时间前未通过则不发送"
#: Bounds of the day counts a manager types (larger ones overflow date arithmetic).
ANNOUNCE_MAX_DAYS = 30
TRIGGER_MAX_DAYS = 365
#: A subscription notice shows this many characters of copy (its `thing` field,
#: shop.notices.THING_MAX); the planner and the sender cut it there.
SUBSCRIBE_TEXT_MAX = THING_MAX
EVENT_TRIGGERS = ("after_first_order", "inactive")
#: Run states that have not reached anyone yet: cancelling a push cancels them.
UNSENT_RUN_STATES = ("planning", "planned")


class PushError(ValueError):
    """A push that cannot be created or moved; `errors` are for the manager (Chinese)."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("；".join(self.errors))


@dataclass
class PushDraft:
    """What the console's form holds before a push exists (the same fields as `Push`)."""

    name: str
    segment: str
    variants: list[str]
    channels: list[str] = field(default_factory=lambda: ["custom", "subscribe", "mass"])
    trigger: str = "once"
    trigger_at: datetime | None = None
    cron: str = ""
    trigger_days: int = 0
    announce_days: int = 0
    announce_text: str = ""
    frequency_cap: int = 2
    quiet_start: str = "22:00"
    quiet_end: str = "08:00"
    holdout_percent: int = 10
    throttle_per_minute: int = 0
    #: A synced WeChat tag (campaigns.tags) narrowing the segment; None: the whole segment.
    tag_id: int | None = None
    #: A coupon batch each recipient is given one copy of (campaigns/push_coupons.py).
    coupon_batch_id: int | None = None


@dataclass
class Checked:
    """The verdict on a draft: errors refuse it, warnings are shown and let it through.
    `review` is the content gate's combined word on all its copy (send | queued)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    review: str = "send"
    review_note: str = ""
    #: The draft it was made for: `create` reuses a Checked only for the same draft.
    draft: PushDraft | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


# --- quiet hours ----------------------------------------------------------------------------


def _clock(text: str) -> time | None:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        return None


def _quiet(start_text: str, end_text: str, at: datetime) -> bool:
    start, end = _clock(start_text), _clock(end_text)
    if start is None or end is None or start == end:
        return False
    local = as_utc(at).astimezone(SHANGHAI).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # past midnight: 22:00–08:00


def in_quiet_hours(push: Push | PushDraft, at: datetime) -> bool:
    """Whether `at` falls in the push's quiet hours (Shanghai; equal ends mean none)."""
    return _quiet(push.quiet_start, push.quiet_end, at)


def next_allowed(push: Push | PushDraft, at: datetime) -> datetime:
    """The first moment at or after `at` outside the quiet hours (the quiet end, Shanghai),
    in UTC; `at` itself when it is not quiet."""
    at = as_utc(at)
    if not in_quiet_hours(push, at):
        return at
    end = _clock(push.quiet_end)
    assert end is not None  # in_quiet_hours is False for an unreadable end
    local = at.astimezone(SHANGHAI)
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)


def quiet_text(push: Push | PushDraft) -> str:
    return f"{push.quiet_start}–{push.quiet_end}"


# --- fire times -----------------------------------------------------------------------------


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _day_number(text: str) -> int:
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise ValueError(f"星期的取值应为0–7：{text}")
        return number % 7
    if text.lower()[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(text.lower()[:3])
    raise ValueError(f"无法识别的星期：{text}")


def _day_of_week(field_text: str) -> str:
    """A crontab day-of-week field as day names. APScheduler 3 reads numbers as 0 = Monday
    while every crontab (and every manager who learned one) means 0/7 = Sunday, 1 = Monday:
    "0 10 * * 1" would fire on Tuesdays. The field is expanded the crontab way (lists, ranges,
    steps) and handed over as names, which both read alike."""
    if field_text in ("*", "?"):
        return "*"
    days: set[int] = set()
    for token in field_text.split(","):
        base, _slash, step_text = token.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError("步长至少为1")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-", 1)
            first, last = _day_number(low), _day_number(high)
            if high.strip() == "7":
                last = 7
        else:
            first = _day_number(base)
            last = 6 if step_text else first
        if last < first:
            raise ValueError(f"星期范围「{base}」无效")
        days.update(day % 7 for day in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def _cron_trigger(expression: str) -> CronTrigger:
    """The crontab read on the Shanghai clock, days of the week as a crontab means them."""
    fields = expression.split()
    if len(fields) == 5:
        fields[4] = _day_of_week(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=SHANGHAI)


def _cron_fires(expression: str, after: datetime, until: datetime,
                limit: int = MAX_FIRES) -> list[datetime]:
    trigger = _cron_trigger(expression)
    found: list[datetime] = []
    previous = None
    # APScheduler returns the first fire at or after `now`; step a second past the last one.
    moment = as_utc(after) + timedelta(seconds=1)
    while len(found) < limit:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None or as_utc(fire) > until:
            break
        fire = as_utc(fire)
        if fire > after:
            found.append(fire)
        previous, moment = fire, fire + timedelta(seconds=1)
    return found


def _daily_fires(after: datetime, until: datetime) -> list[datetime]:
    local = as_utc(after).astimezone(SHANGHAI)
    day = local.replace(hour=DAILY_AT.hour, minute=DAILY_AT.minute, second=0, microsecond=0)
    found = []
    while as_utc(day) <= until and len(found) < MAX_FIRES:
        if as_utc(day) > after:
            found.append(as_utc(day))
        day += timedelta(days=1)
    return found


def next_fires(push: Push | PushDraft, after: datetime, until: datetime) -> list[datetime]:
    """The push's fire times in (after, until], UTC, oldest first (see the module's note on
    each trigger)."""
    after, until = as_utc(after), as_utc(until)
    if push.trigger == "once":
        at = as_utc(push.trigger_at) if push.trigger_at else None
        return [at] if at is not None and after < at <= until else []
    if push.trigger == "cron":
        try:
            return _cron_fires(push.cron, after, until)
        except ValueError:
            return []
    if push.trigger in ("after_first_order", "inactive"):
        return _daily_fires(after, until)
    return []


def first_fire(push: Push | PushDraft, after: datetime) -> datetime | None:
    """The push's next fire time after `after` within a year, or None."""
    after = as_utc(after)
    if push.trigger == "cron":
        try:
            fires = _cron_fires(push.cron, after, after + HORIZON, limit=1)
        except ValueError:
            return None
        return fires[0] if fires else None
    if push.trigger == "once":
        return next(iter(next_fires(push, after, after + timedelta(days=100 * 366))), None)
    return next(iter(next_fires(push, after, after + timedelta(days=2))), None)


# --- the content gate -----------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    status: str  # send | queued | blocked | rejected
    message: str


def judge_copy(db: Session, text: str, screener: Screener, *, author: str = "system",
           submit_missing: bool = False) -> Judged:
    """The gate's decision on `text` without writing: the screener on the live rules, the
    exemptions granted to all pushes, and — for words the rules send to review — what the
    reviewers decided on these exact words (review.find). `submit_missing` files a review
    item when there is none yet (at send time: the rules changed since the push was made)."""
    verdict: Verdict = screener.screen(text, gate.SCOPES["push"])
    if verdict.flags:
        verdict, _used = exemptions.apply(verdict, exemptions.active_for(db, "push"))
    if verdict.verdict == "block":
        return Judged("blocked", gate.Outcome("blocked", verdict, source="push").message)
    if verdict.verdict == "pass":
        return Judged("send", "")
    item = review.find(db, "push", text)
    if item is None and submit_missing:
        item = review.submit(db, text, verdict, source="push", author=author)
    if item is not None and item.state == "approved":
        return Judged("send", "")
    if item is not None and item.state in ("rejected", "changes_requested"):
        return Judged("rejected", gate.Outcome("rejected", verdict, item, "push").message)
    return Judged("queued", QUEUED_WARNING)


def copy_may_go(db: Session, push: Push, text: str, *, screener: Screener) -> str | None:
    """The gate again at send time: None when `text` may go now, else why not (Chinese).
    Copy still waiting for a reviewer does not go (fail closed)."""
    judged = judge_copy(db, text, screener, author=push.created_by or "system",
                    submit_missing=True)
    if judged.status == "send":
        return None
    if judged.status == "queued":
        return "文案尚未通过合规审核，未发送"
    return judged.message


# --- checking a draft -----------------------------------------------------------------------


def _texts(draft: PushDraft) -> list[tuple[str, str]]:
    """(label, text) of every copy the push would send."""
    found = [(f"文案{key}" if len(draft.variants) > 1 else "文案", text)
             for key, text in zip(VARIANT_KEYS, draft.variants, strict=False)]
    if draft.announce_days > 0 and draft.announce_text.strip():
        found.append(("预告文案", draft.announce_text))
    return found


def _check_trigger(draft: PushDraft, now: datetime, checked: Checked) -> None:
    errors = checked.errors
    if draft.trigger not in TRIGGERS:
        errors.append("未知的触发方式")
        return
    if draft.trigger == "once":
        if draft.trigger_at is None:
            errors.append("请填写发送时间")
            return
        if draft.trigger_at.tzinfo is None:
            errors.append("发送时间缺少时区")
            return
        if as_utc(draft.trigger_at) <= now:
            errors.append(f"发送时间{shanghai_text(draft.trigger_at)}已经过去")
        elif in_quiet_hours(draft, draft.trigger_at):
            errors.append(f"发送时间{shanghai_text(draft.trigger_at)}在免打扰时段"
                          f"（{quiet_text(draft)}）内，请改到免打扰时段以外")
        if 0 < draft.announce_days <= ANNOUNCE_MAX_DAYS and \
                as_utc(draft.trigger_at) - timedelta(days=draft.announce_days) <= now:
            checked.warnings.append(f"距发送不足{draft.announce_days}天，预告将立即发出")
    elif draft.trigger == "cron":
        _check_cron(draft, now, checked)
    elif draft.trigger_days < 1:
        errors.append("请填写天数（至少1天）")
    elif draft.trigger_days > TRIGGER_MAX_DAYS:
        errors.append(f"天数最多{TRIGGER_MAX_DAYS}天")
    if draft.trigger in EVENT_TRIGGERS and draft.announce_days > 0:
        errors.append("事件触发的推送不能提前预告")


def _check_cron(draft: PushDraft, now: datetime, checked: Checked) -> None:
    expression = (draft.cron or "").strip()
    if not expression:
        checked.errors.append("请填写cron表达式")
        return
    try:
        _cron_trigger(expression)
    except ValueError as exc:
        checked.errors.append(f"cron表达式「{expression}」无效：{exc}")
        return
    fires = _cron_fires(expression, now, now + HORIZON, limit=200)
    if not fires:
        checked.errors.append(f"cron表达式「{expression}」在未来一年内不会触发")
        return
    gaps = [later - earlier for earlier, later in pairwise(fires)]
    shortest = min(gaps, default=None)
    if shortest is not None and shortest < timedelta(hours=1):
        every = ("每分钟" if shortest <= timedelta(minutes=1)
                 else f"每{int(shortest.total_seconds() // 60)}分钟")
        checked.errors.append(f"{every}触发一次，太频繁：推送最多每小时一次"
                              f"（cron表达式「{expression}」）")
    quiet = [fire for fire in fires[:50] if in_quiet_hours(draft, fire)]
    if quiet and len(quiet) == len(fires[:50]):
        checked.errors.append(f"cron表达式「{expression}」每次都在免打扰时段"
                              f"（{quiet_text(draft)}）内触发")
    elif quiet:
        checked.warnings.append(f"部分触发时间在免打扰时段（{quiet_text(draft)}）内，"
                                "将顺延到免打扰结束后发送")


def _check_tag(db: Session, draft: PushDraft, segment: segments.Segment | None, now: datetime,
               thresholds: segments.Thresholds, errors: list[str]) -> None:
    """A tag must be one synced from WeChat, and someone must carry it: for a once or cron
    push, someone in the segment (classified now); for an event trigger, which picks its own
    customers each day, anyone."""
    tag = tags.get(db, draft.tag_id)
    if tag is None:
        errors.append("未知的标签：请先在「客群」页同步微信标签，再从列表中选择")
        return
    if segment is None:
        return
    if draft.trigger in EVENT_TRIGGERS:
        if not tags.members_of(db, tag.id):
            errors.append(f"目前没有顾客带有标签「{tag.name}」，这条推送不会发给任何人")
    elif draft.trigger in ("once", "cron") and \
            segments.count_tagged(db, segment, tag.id, now, thresholds) == 0:
        errors.append(f"{segment.label}中没有带标签「{tag.name}」的顾客，"
                      "这条推送不会发给任何人：请换一个标签或客群")


def _check_copy(db: Session, draft: PushDraft, screener: Screener, checked: Checked) -> None:
    if not draft.variants:
        checked.errors.append("请填写推送文案")
    elif len(draft.variants) > len(VARIANT_KEYS):
        checked.errors.append("A/B测试最多两个版本")
    elif any(not text.strip() for text in draft.variants):
        checked.errors.append("推送文案不能为空")
    if draft.announce_days < 0:
        checked.errors.append("预告天数不能为负数")
    elif draft.announce_days > ANNOUNCE_MAX_DAYS:
        checked.errors.append(f"最多提前{ANNOUNCE_MAX_DAYS}天预告")
    if draft.announce_days > 0 and not draft.announce_text.strip():
        checked.errors.append(f"设置了提前{draft.announce_days}天预告，请填写预告文案")
    if checked.errors and not draft.variants:
        return
    queued = False
    for label, text in _texts(draft):
        if not text.strip() or len(draft.variants) > len(VARIANT_KEYS):
            continue
        judged = judge_copy(db, text, screener)
        if judged.status in ("blocked", "rejected"):
            checked.errors.append(f"{label}：{judged.message}")
        elif judged.status == "queued":
            queued = True
    if queued:
        checked.review, checked.review_note = "queued", QUEUED_WARNING
        checked.warnings.append(QUEUED_WARNING)
    if "subscribe" in draft.channels:
        long = [label for label, text in _texts(draft) if len(text) > SUBSCRIBE_TEXT_MAX]
        if long:
            checked.warnings.append(f"{'、'.join(long)}超过{SUBSCRIBE_TEXT_MAX}个字："
                                    f"订阅通知只显示前{SUBSCRIBE_TEXT_MAX}个字")


def check(db: Session, draft: PushDraft, now: datetime, *, screener: Screener,
          segment_counts: Mapping[segments.Segment, int] | None = None,
          thresholds: segments.Thresholds | None = None,
          template_id: str | None = None) -> Checked:
    """Every problem with `draft` before it is stored: errors refuse it, warnings are shown.
    Reads only (the review queue is consulted, not written; `create` files the review).
    `segment_counts`: segments.counts already computed for this request (classifying every
    customer is the costly part), else computed here when the trigger needs it. A draft
    narrowed by a tag classifies only the tag's carriers instead. `thresholds`: the shop's
    (segments.thresholds_from), the playbook's when not given. A draft carrying a coupon is
    also checked by campaigns/push_coupons.py, whose stock check counts the dry run's
    recipients (`template_id`: planner.push_template_id, as the dry run takes it)."""
    now = as_utc(now)
    checked = Checked(draft=copy.deepcopy(draft))
    errors, warnings = checked.errors, checked.warnings
    if not draft.name.strip():
        errors.append("请填写推送名称")
    elif len(draft.name) > 60:
        errors.append("推送名称最多60个字")
    try:
        segment = segments.Segment(draft.segment)
    except ValueError:
        errors.append("未知的客群")
        segment = None
    if segment is segments.Segment.LOST:
        errors.append("流失客户已取消关注，无法推送")
    elif draft.tag_id is not None:
        _check_tag(db, draft, segment, now, thresholds or segments.DEFAULT_THRESHOLDS, errors)
    elif segment is not None and draft.trigger in ("once", "cron"):
        found = (segment_counts if segment_counts is not None
                 else segments.counts(db, now, thresholds or segments.DEFAULT_THRESHOLDS)
                 ).get(segment, 0)
        if found == 0:
            warnings.append("该客群目前没有顾客")
    if not draft.channels:
        errors.append("请至少选择一个发送渠道")
    for channel in draft.channels:
        if channel == "template":
            errors.append("模板消息只能用于服务通知（如订单、支付提醒），不能用于营销推送")
        elif channel not in CHANNELS:
            errors.append(f"未知的发送渠道「{channel}」")
    _check_trigger(draft, now, checked)
    for label, value in (("免打扰开始时间", draft.quiet_start),
                         ("免打扰结束时间", draft.quiet_end)):
        if _clock(value) is None:
            errors.append(f"{label}应为HH:MM格式")
    if draft.holdout_percent >= 100:
        errors.append("对照组为100%时没有人会收到推送")
    elif draft.holdout_percent < 0:
        errors.append("对照组比例不能为负数")
    elif draft.holdout_percent >= 50:
        warnings.append(f"对照组占{draft.holdout_percent}%，一半以上的顾客不会收到推送")
    if draft.frequency_cap < 1:
        errors.append("频次上限至少为每7天1条")
    elif draft.announce_days > 0 and draft.frequency_cap < 2:
        warnings.append("预告和正式推送各算一次：频次上限为1时，收到预告的顾客会跳过正式推送")
    if draft.throttle_per_minute < 0:
        errors.append("每分钟发送上限不能为负数")
    _check_copy(db, draft, screener, checked)
    if draft.coupon_batch_id is not None:
        from campaigns import push_coupons  # it plans a dry run: the planner imports us

        push_coupons.check(db, draft, now, checked, thresholds=thresholds,
                           template_id=template_id)
    return checked


# --- storing and moving a push --------------------------------------------------------------


def push_from_draft(draft: PushDraft, now: datetime) -> Push:
    """A Push built from a draft and not added to any session (create stores it; the dry run
    of a draft plans it without storing). Its id is None until stored."""
    now = as_utc(now)
    return Push(
        name=draft.name.strip(), segment=draft.segment,
        variants=json.dumps([{"key": key, "text": text} for key, text
                             in zip(VARIANT_KEYS, draft.variants, strict=False)],
                            ensure_ascii=False),
        channels=",".join(draft.channels), trigger=draft.trigger,
        trigger_at=as_utc(draft.trigger_at) if draft.trigger_at else None,
        cron=(draft.cron or "").strip(), trigger_days=draft.trigger_days,
        announce_days=draft.announce_days, announce_text=draft.announce_text,
        frequency_cap=draft.frequency_cap, quiet_start=draft.quiet_start,
        quiet_end=draft.quiet_end, holdout_percent=draft.holdout_percent,
        throttle_per_minute=draft.throttle_per_minute, tag_id=draft.tag_id,
        coupon_batch_id=draft.coupon_batch_id, state="scheduled", review="send",
        review_note="", created_by="", created_at=now, updated_at=now)


def create(db: Session, draft: PushDraft, now: datetime, *, screener: Screener,
           author: str, checked: Checked | None = None) -> Push:
    """Store a checked draft as a scheduled push; raises PushError with the check's errors.
    `checked`: check()'s verdict on this very draft made earlier in the same request, so the
    customers are not classified again (a Checked made for another draft is not trusted).

    Each copy then passes the content gate for real (`gate.check`), filing the review item a
    reviewer must approve before the send time: one source_ref per copy (push:<id>:<key>),
    because the review queue supersedes older words of the same ref and A and B are both live.
    """
    now = as_utc(now)
    if checked is None or checked.draft != draft:
        checked = check(db, draft, now, screener=screener)
    if checked.errors:
        raise PushError(checked.errors)
    push = push_from_draft(draft, now)
    push.created_by = author
    db.add(push)
    db.flush()
    first = first_fire(push, now)
    texts = [(key, text) for key, text in zip(VARIANT_KEYS, draft.variants, strict=False)]
    if push.announce_days > 0:
        texts.append(("announce", push.announce_text))
    outcomes = []
    for key, text in texts:
        send_at = first - timedelta(days=push.announce_days) if (
            first is not None and key == "announce") else first
        outcomes.append(gate.check(db, text, source="push", author=author, screener=screener,
                                   source_ref=f"push:{push.id}:{key}", send_at=send_at))
    refused = [o.message for o in outcomes if o.refused]
    if refused:  # the rules changed between check and now: refuse like check would
        raise PushError(refused)
    if any(o.held for o in outcomes):
        push.review, push.review_note = "queued", QUEUED_WARNING
    return push


def _load(db: Session, push_id: int) -> Push:
    push = db.get(Push, push_id)
    if push is None:
        raise PushError("推送不存在")
    return push


def _move(db: Session, push_id: int, now: datetime, allowed: tuple[str, ...], to: str,
          refusal: str) -> Push:
    """A conditional update, so two managers clicking at once cannot both move it."""
    push = _load(db, push_id)
    moved = db.execute(update(Push).where(Push.id == push_id, Push.state.in_(allowed))
                       .values(state=to, updated_at=as_utc(now))
                       .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.refresh(push)
        raise PushError(refusal.format(state=push.state and _state_label(push.state)))
    db.refresh(push)
    return push


def _state_label(state: str) -> str:
    return PUSH_STATES.get(state, state)


def audit_fields(push: Push) -> dict[str, Any]:
    """What the audit log keeps of a push as created (the console and the API record the
    same)."""
    return {"name": push.name, "segment": push.segment, "tag_id": push.tag_id,
            "variants": len(push.variant_list()), "channels": push.channels,
            "trigger": push.trigger,
            "trigger_at": as_utc(push.trigger_at).isoformat() if push.trigger_at else "",
            "cron": push.cron, "trigger_days": push.trigger_days,
            "announce_days": push.announce_days, "frequency_cap": push.frequency_cap,
            "quiet": f"{push.quiet_start}-{push.quiet_end}",
            "holdout_percent": push.holdout_percent,
            "throttle_per_minute": push.throttle_per_minute,
            "coupon_batch_id": push.coupon_batch_id, "review": push.review}


def pause(db: Session, push_id: int, now: datetime) -> Push:
    """Stop planning new runs; runs already planned stay planned (the sender skips the
    deliveries of a push that is not scheduled)."""
    return _move(db, push_id, now, ("scheduled",), "paused", "推送当前为「{state}」，不能暂停")


def resume(db: Session, push_id: int, now: datetime) -> Push:
    return _move(db, push_id, now, ("paused",), "scheduled", "推送当前为「{state}」，不能恢复")


def cancel(db: Session, push_id: int, now: datetime) -> Push:
    """Cancel the push and every run of it not yet sending (planning/planned → cancelled)."""
    push = _move(db, push_id, now, ("draft", "scheduled", "paused"), "cancelled",
                 "推送当前为「{state}」，不能取消")
    db.execute(update(PushRun)
               .where(PushRun.push_id == push_id, PushRun.state.in_(UNSENT_RUN_STATES))
               .values(state="cancelled", note="推送已取消", done_at=as_utc(now))
               .execution_options(synchronize_session=False))
    return push


def texts_of(push: Push) -> dict[str, str]:
    """Variant key → copy."""
    return {item["key"]: item["text"] for item in push.variant_list()}


def runs_of(db: Session, push_id: int) -> list[PushRun]:
    return list(db.scalars(select(PushRun).where(PushRun.push_id == push_id)
                           .order_by(PushRun.fire_at, PushRun.kind)))
