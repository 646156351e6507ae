"""Planning a push's run: who receives it, by which channel WeChat allows, and who is skipped why.

The scheduler only plans (`plan_due`, every minute); senders (campaigns/sender.py) deliver the
rows planned here. Planning writes one PushDelivery per (run, openid) with ON CONFLICT DO
NOTHING, so a run planned twice — two schedulers, a crash half-way — exists once and moves
nobody: the holdout and the A/B variant come from a hash of (push, openid), not from the order
or the moment of planning.

The decisions per recipient, in order:
1. frequency cap: pushes planned or sent to them in the last 7 days (all pushes, this run
   excluded) at or above the push's cap → skipped;
2. the channel (`choose_channel`): the first of the push's channels WeChat allows now
   (WECHAT_API.md §5), or skipped with why each one was refused;
3. holdout: a reachable recipient whose hash bucket is below holdout_percent is kept back.
   The holdout is drawn among the *reachable* on purpose: drawn before the channel, it would
   hold unreachable customers the variants never count, and the conversion comparison
   (variants against the holdout) would flatter the push.

The dry run (`dry_run`) makes the same decisions through the same code without writing.
Reach facts are loaded in bulk, 1,000 openids per query, so a 100,000-customer segment costs a
few hundred queries, not several per customer.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from campaigns import push_rules, segments, tags
from campaigns.push_rules import PushDraft
from campaigns.pushes import Push, PushDelivery, PushRun, Suppression
from content_audit.rulestore import LiveRules
from core.clock import SHANGHAI, as_utc
from core.db import inserted, upsert
from shop.followers import Follower
from shop.notices import THING_MAX, WINDOW, CustomerNotice, NoticeOptIn
from shop.orders import COUNTED_SOLD, Order

log = logging.getLogger(__name__)

#: WeChat's customer-service quota per 48-hour window (WECHAT_API.md §5A, since 2023-06).
CUSTOM_PER_WINDOW = segments.CUSTOM_PER_WINDOW
#: Mass messages one user receives per calendar month at most (§5D).
MASS_PER_MONTH = segments.MASS_PER_MONTH
#: Deliveries that may have reached WeChat: they count against quotas and caps. `calling` is
#: the sender's state while the WeChat call is in flight (campaigns/sender.py).
MAYBE_SENT = ("sent", "sending", "calling", "unknown")
#: Deliveries that reach, or are about to reach, a customer: the frequency cap and WeChat's
#: quotas (`reach_counts`) count them.
REACHING = ("planned", *MAYBE_SENT)
CAP_DAYS = 7
BATCH = 1000
HELD_NOTE = "文案未在发送时间前通过审核，未发送"
MISSED_NOTE = "已错过发送时间超过1天（推送暂停或调度中断），未发送"
CRON_MISSED_NOTE = "错过发送时间，已跳过"
#: How long after its time a run may still be planned (a scheduler down for an hour): a day
#: for a once-push and the daily event triggers, an hour for a cron push — its next fire is
#: near, and yesterday's copy going out 23 hours late (a push resumed after a pause) is not
#: what the manager scheduled.
LATE_LIMIT = timedelta(days=1)
CRON_LATE_LIMIT = timedelta(hours=1)
#: The setting naming the subscription-notice template pushes spend (core/config.py). The
#: shop's own service notices keep NOTICE_TEMPLATE_ID: an opt-in a customer gave for order
#: reminders is not spent on marketing.
TEMPLATE_SETTING = "PUSH_TEMPLATE_ID"
#: A subscription notice shows this many characters of copy (its `thing` field).
SUBSCRIBE_TEXT_MAX = THING_MAX


def push_template_id(settings: Mapping[str, Any] | None) -> str | None:
    """The subscription-notice template pushes use (PUSH_TEMPLATE_ID), or None: then no push
    goes as a subscription notice. The planner offers the channel only for opt-ins of this
    template, and the sender spends this one."""
    value = (settings or {}).get(TEMPLATE_SETTING)
    text = str(value).strip() if value is not None else ""
    return text or None


def late_limit(push: Push) -> timedelta:
    """How late a run of `push` may still be planned (see LATE_LIMIT)."""
    return CRON_LATE_LIMIT if push.trigger == "cron" else LATE_LIMIT


def missed_note(push: Push) -> str:
    return CRON_MISSED_NOTE if push.trigger == "cron" else MISSED_NOTE


def subscribe_text(text: str) -> str:
    """What a subscription notice shows of `text`: its first SUBSCRIBE_TEXT_MAX characters."""
    return text[:SUBSCRIBE_TEXT_MAX]


# --- reach: what WeChat allows per recipient ------------------------------------------------


@dataclass
class Reach:
    """What the channel rules read about one openid (loaded in bulk by `_load_reach`)."""

    openid: str
    subscribed: bool = False
    unfollowed: bool = False
    suppressed: int | None = None  # WeChat's code
    opened: datetime | None = None  # the 48-hour window's start: last message or payment
    custom_sent: int = 0  # customer-service messages in the open window (`reach_counts`)
    opt_in: tuple[str, int] | None = None  # (PUSH_TEMPLATE_ID, remaining)
    mass_this_month: int = 0


@dataclass(frozen=True)
class Counts:
    """WeChat's quotas as they stand for one openid (`reach_counts`)."""

    opened: datetime | None = None  # the 48-hour window's start: last message or payment
    custom_in_window: int = 0  # customer-service messages sent or due in that window
    mass_this_month: int = 0  # mass messages sent or due this Shanghai month

    def window_open(self, now: datetime) -> bool:
        return window_open(self.opened, now)


def _chunks(items: Sequence[str], size: int = BATCH) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def month_start(now: datetime) -> datetime:
    """The first moment of `now`'s Shanghai calendar month, UTC (mass sends count per month)."""
    local = as_utc(now).astimezone(SHANGHAI)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _next_month(now: datetime) -> datetime:
    local = as_utc(month_start(now)).astimezone(SHANGHAI)
    later = (local + timedelta(days=32)).replace(day=1)
    return later.astimezone(UTC)


def window_open(opened: datetime | None, now: datetime) -> bool:
    """The customer-service window's rule, shop.notices.in_window's: open for WINDOW after the
    customer's last message or payment."""
    return opened is not None and as_utc(now) < as_utc(opened) + WINDOW


def _in_window(opened: datetime | None, at: datetime | None) -> bool:
    """Whether a message at `at` falls in the window `opened` opened."""
    return (opened is not None and at is not None
            and as_utc(opened) <= as_utc(at) < as_utc(opened) + WINDOW)


def reach_counts(db: Session, openids: Sequence[str], now: datetime, *,
                 exclude_run: int | None = None) -> dict[str, Counts]:
    """WeChat's quotas per openid now — the one definition the planner and the segments'
    explanation share:
    - the window: opened by the last message (Follower.last_message_at) or payment, open for
      shop.notices.WINDOW;
    - customer-service messages in it: push deliveries on the custom channel sent, in flight
      or still planned (planned rows count at their not_before, so a run planned earlier and
      due inside the window is counted), and the shop's own notices sent as custom messages;
    - mass messages this Shanghai calendar month: push deliveries on the mass channel sent,
      in flight or planned for this month.
    `exclude_run`: a run being planned leaves its own rows out, so planning it again decides
    the same. Bulk: a few queries per 1,000 openids."""
    now = as_utc(now)
    opened: dict[str, datetime | None] = dict.fromkeys(openids)
    custom: Counter[str] = Counter()
    mass: Counter[str] = Counter()
    floor = now - WINDOW  # no open window started before this
    month, next_month = month_start(now), _next_month(now)
    at = func.coalesce(PushDelivery.sent_at, PushDelivery.not_before, PushDelivery.created_at)
    for chunk in _chunks(list(openids)):
        ids = list(chunk)
        for openid, message_at in db.execute(
                select(Follower.openid, Follower.last_message_at)
                .where(Follower.openid.in_(ids))):
            opened[openid] = as_utc(message_at) if message_at else None
        for openid, paid in db.execute(
                select(Order.openid, func.max(Order.paid_at))
                .where(Order.openid.in_(ids), Order.paid_at.is_not(None))
                .group_by(Order.openid)):
            if paid is not None:
                paid = as_utc(paid)
                before = opened.get(openid)
                opened[openid] = max(before, paid) if before else paid
        deliveries = (
            select(PushDelivery.openid, PushDelivery.channel, at)
            .where(PushDelivery.openid.in_(ids), PushDelivery.state.in_(REACHING),
                   or_(and_(PushDelivery.channel == "custom", at >= floor),
                       and_(PushDelivery.channel == "mass", at >= month, at < next_month))))
        if exclude_run is not None:
            deliveries = deliveries.where(PushDelivery.run_id != exclude_run)
        notices = (select(CustomerNotice.openid, CustomerNotice.channel, CustomerNotice.sent_at)
                   .where(CustomerNotice.openid.in_(ids), CustomerNotice.channel == "custom",
                          CustomerNotice.state == "sent", CustomerNotice.sent_at >= floor))
        for openid, channel, moment in [*db.execute(deliveries), *db.execute(notices)]:
            if channel == "mass":
                mass[openid] += 1
            elif _in_window(opened.get(openid), moment):
                custom[openid] += 1
    return {openid: Counts(opened.get(openid), custom[openid], mass[openid])
            for openid in openids}


def _load_reach(db: Session, openids: Sequence[str], now: datetime, *,
                template_id: str | None = None,
                exclude_run: int | None = None) -> dict[str, Reach]:
    now = as_utc(now)
    found = {openid: Reach(openid) for openid in openids}
    for openid, counted in reach_counts(db, openids, now, exclude_run=exclude_run).items():
        reach = found[openid]
        reach.opened, reach.custom_sent = counted.opened, counted.custom_in_window
        reach.mass_this_month = counted.mass_this_month
    for chunk in _chunks(list(openids)):
        ids = list(chunk)
        for openid, subscribed, unsubscribed_at in db.execute(
                select(Follower.openid, Follower.subscribed, Follower.unsubscribed_at)
                .where(Follower.openid.in_(ids))):
            reach = found[openid]
            reach.subscribed = bool(subscribed)
            reach.unfollowed = not subscribed and unsubscribed_at is not None
        for openid, code in db.execute(
                select(Suppression.openid, Suppression.code).where(Suppression.openid.in_(ids))):
            found[openid].suppressed = code
        if template_id is None:
            continue
        for openid, remaining in db.execute(
                select(NoticeOptIn.openid, NoticeOptIn.remaining)
                .where(NoticeOptIn.openid.in_(ids), NoticeOptIn.template_id == template_id,
                       NoticeOptIn.remaining > 0)):
            found[openid].opt_in = (template_id, remaining)
    return found


def _choose(reach: Reach, policy: Sequence[str], now: datetime,
            template_id: str | None = None) -> tuple[str | None, str]:
    """The first channel of `policy` the rules allow, with a note on the choice; or None with
    why each channel was refused (the skip reason). Subscription notices need PUSH_TEMPLATE_ID
    (`template_id`) set and an opt-in of that template."""
    if reach.unfollowed:
        return None, "已取消关注"
    if reach.suppressed is not None:
        return None, f"微信提示无法送达（代码{reach.suppressed}）"
    refused: list[str] = []
    for channel in policy:
        if channel == "custom":
            if not reach.subscribed:
                refused.append("客服消息：未关注公众号")
            elif not window_open(reach.opened, now):
                refused.append("客服消息：48小时内没有留言或付款")
            elif reach.custom_sent >= CUSTOM_PER_WINDOW:
                refused.append(f"客服消息：48小时内已发{reach.custom_sent}条（上限"
                               f"{CUSTOM_PER_WINDOW}条）")
            else:
                return "custom", f"客服消息：48小时窗口内第{reach.custom_sent + 1}条"
        elif channel == "subscribe":
            if template_id is None:
                refused.append(f"订阅通知：未设置推送用的订阅通知模板（{TEMPLATE_SETTING}）")
            elif reach.opt_in is None:
                refused.append("订阅通知：没有订阅授权")
            else:
                template_id, remaining = reach.opt_in
                return "subscribe", f"订阅通知：模板{template_id}剩余{remaining}次"
        elif channel == "mass":
            if not reach.subscribed:
                refused.append("群发：未关注公众号")
            elif reach.mass_this_month >= MASS_PER_MONTH:
                refused.append(f"群发：本月已收到{reach.mass_this_month}次群发"
                               f"（上限{MASS_PER_MONTH}次）")
            else:
                return "mass", f"群发：本月第{reach.mass_this_month + 1}次"
        else:
            refused.append(f"渠道「{channel}」不可用于推送")
    return None, ("；".join(refused) or "没有可用的发送渠道")[:120]


def choose_channel(db: Session, openid: str, policy: list[str], now: datetime, *,
                   template_id: str | None = None) -> tuple[str | None, str]:
    """The first channel in `policy` WeChat allows for `openid` now, and a note: for a
    channel, why it applies (for subscribe, which template's opt-in it would spend); for
    None, why each channel was refused — the skip reason the report shows. `template_id`:
    push_template_id(settings); None offers no subscription notice."""
    now = as_utc(now)
    reach = _load_reach(db, [openid], now, template_id=template_id)[openid]
    return _choose(reach, policy, now, template_id)


# --- holdout and variants -------------------------------------------------------------------


def assign(push_id: int, openid: str, holdout_percent: int,
           variants: Sequence[str]) -> tuple[bool, str]:
    """(held out, variant key) from a hash of push and openid, so planning again, on another
    host or after a crash, never moves anyone between the groups. Held out: no variant."""
    digest = int(hashlib.sha256(f"{push_id}:{openid}".encode()).hexdigest(), 16)
    if digest % 100 < holdout_percent:
        return True, ""
    keys = list(variants) or ["A"]
    return False, keys[(digest // 100) % len(keys)]


# --- recipients -----------------------------------------------------------------------------


def _day_bounds(fire_at: datetime, days_before: int) -> tuple[datetime, datetime]:
    """The Shanghai calendar day `days_before` days before `fire_at`'s day, as UTC bounds."""
    local = as_utc(fire_at).astimezone(SHANGHAI) - timedelta(days=days_before)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def recipients(db: Session, push: Push, fire_at: datetime, now: datetime,
               thresholds: segments.Thresholds | None = None) -> list[str]:
    """Who a run is for, by openid (sorted):
    once / cron — the push's segment as classified now;
    after_first_order — first (and only) paid order on the Shanghai day trigger_days before
      the fire day, no second paid order since (the segment is not consulted: the event is
      the selection);
    inactive — the latest interaction (segments' last_touch: any event, message or payment)
      fell on the Shanghai day trigger_days before the fire day.
    A push narrowed by a WeChat tag (push.tag_id) reaches only those carrying it at the last
    tag sync (campaigns/tags.py); a tag since deleted at WeChat is carried by nobody."""
    thresholds = thresholds or segments.DEFAULT_THRESHOLDS
    now = as_utc(now)
    if push.tag_id is not None:
        tagged = tags.members_of(db, push.tag_id)
        if push.trigger in ("after_first_order", "inactive"):
            carriers = set(tagged)
            return [openid for openid in _selected(db, push, fire_at, now, thresholds)
                    if openid in carriers]
        # the tag's members only are classified: a small tag costs a small pass
        return sorted(member.openid for member
                      in segments.classify_openids(db, tagged, now, thresholds)
                      if member.segment.value == push.segment)
    return _selected(db, push, fire_at, now, thresholds)


def _selected(db: Session, push: Push, fire_at: datetime, now: datetime,
              thresholds: segments.Thresholds) -> list[str]:
    """`recipients` before the tag: the trigger's event, or the segment."""
    if push.trigger == "after_first_order":
        start, end = _day_bounds(fire_at, push.trigger_days)
        first = func.min(Order.paid_at)
        return sorted(db.scalars(
            select(Order.openid)
            .where(Order.state.in_(COUNTED_SOLD), Order.paid_at.is_not(None))
            .group_by(Order.openid)
            .having(func.count() == 1, first >= start, first < end)))
    if push.trigger == "inactive":
        start, end = _day_bounds(fire_at, push.trigger_days)
        # segments' own loader, so "interaction" means what the 沉睡 rule means by it
        return sorted(facts.openid for facts in segments._load(db, now, thresholds)
                      if facts.last_touch is not None and start <= facts.last_touch < end)
    return sorted(member.openid for member in segments.classify_all(db, now, thresholds)
                  if member.segment.value == push.segment)


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    openid: str
    state: str  # planned | holdout | skipped
    variant: str
    channel: str
    reason: str


def _recent_counts(db: Session, openids: Sequence[str], now: datetime,
                   exclude_run: int | None) -> dict[str, int]:
    since = as_utc(now) - timedelta(days=CAP_DAYS)
    at = func.coalesce(PushDelivery.sent_at, PushDelivery.not_before, PushDelivery.created_at)
    found: dict[str, int] = {}
    for chunk in _chunks(list(openids)):
        query = (select(PushDelivery.openid, func.count())
                 .where(PushDelivery.openid.in_(list(chunk)),
                        PushDelivery.state.in_(REACHING), at >= since)
                 .group_by(PushDelivery.openid))
        if exclude_run is not None:
            query = query.where(PushDelivery.run_id != exclude_run)
        found.update(dict(db.execute(query).all()))
    return found


def decide(db: Session, push: Push, fire_at: datetime, now: datetime, *,
           run_id: int | None = None,
           thresholds: segments.Thresholds | None = None,
           template_id: str | None = None) -> list[Decision]:
    """Every recipient's decision for a run of `push` at `fire_at` (see the module's order).
    `template_id`: push_template_id(settings), the subscription template pushes spend."""
    now = as_utc(now)
    openids = recipients(db, push, fire_at, now, thresholds)
    recent = _recent_counts(db, openids, now, run_id)
    reach = _load_reach(db, openids, now, template_id=template_id, exclude_run=run_id)
    keys = [item["key"] for item in push.variant_list()]
    policy = push.channel_list()
    found = []
    for openid in openids:
        already = recent.get(openid, 0)
        if already >= push.frequency_cap:
            found.append(Decision(openid, "skipped", "", "",
                                  f"{CAP_DAYS}天内已收到{already}条推送"))
            continue
        channel, note = _choose(reach[openid], policy, now, template_id)
        if channel is None:
            found.append(Decision(openid, "skipped", "", "", note))
            continue
        held, variant = assign(push.id or 0, openid, push.holdout_percent, keys)
        if held:
            found.append(Decision(openid, "holdout", "", "", ""))
        else:
            found.append(Decision(openid, "planned", variant, channel, note))
    return found


def tally(decisions: Iterable[Decision]) -> dict[str, int]:
    """Counts by state ("planned", "holdout", "skipped"), by channel ("channel:custom"), by
    variant among the planned ("variant:A") and by skip reason ("skipped:<reason>")."""
    counts: Counter[str] = Counter()
    for decision in decisions:
        counts[decision.state] += 1
        if decision.state == "planned":
            counts[f"channel:{decision.channel}"] += 1
            counts[f"variant:{decision.variant}"] += 1
        elif decision.state == "skipped":
            counts[f"skipped:{decision.reason}"] += 1
    return dict(counts)


def stored_tally(db: Session, run_id: int) -> dict[str, int]:
    """The same counts read back from a run's deliveries (the report, and the tests' check
    that a dry run says what planning writes)."""
    rows = db.execute(select(PushDelivery.openid, PushDelivery.state, PushDelivery.variant,
                             PushDelivery.channel, PushDelivery.reason)
                      .where(PushDelivery.run_id == run_id))
    return tally(Decision(o, "planned" if s in ("planned", *MAYBE_SENT, "failed") else s,
                          v, c, r) for o, s, v, c, r in rows)


def _due(push: Push, run: PushRun) -> datetime:
    """When a run goes: its fire time, or for the announcement announce_days earlier."""
    fire_at = as_utc(run.fire_at)
    if run.kind == "announce":
        return fire_at - timedelta(days=push.announce_days)
    return fire_at


def _spread(push: Push, start: datetime, count: int) -> list[datetime]:
    """not_before for `count` planned deliveries from `start`: out of quiet hours, and at most
    throttle_per_minute a minute (the spread steps over quiet hours, it does not pile up at
    their end)."""
    cursor = push_rules.next_allowed(push, start)
    if push.throttle_per_minute <= 0:
        return [cursor] * count
    step = timedelta(minutes=1) / push.throttle_per_minute
    found = []
    for _ in range(count):
        found.append(cursor)
        cursor = push_rules.next_allowed(push, cursor + step)
    return found


def plan_run(db: Session, run: PushRun, now: datetime, *,
             thresholds: segments.Thresholds | None = None,
             template_id: str | None = None) -> dict[str, int]:
    """Write the run's deliveries (each (run, openid) once) and mark it planned; returns the
    decisions' counts (`tally`). Planning it again inserts nothing and moves nobody; a held or
    cancelled run is left alone ({})."""
    if run.state in ("held", "cancelled"):
        return {}
    now = as_utc(now)
    push = db.get(Push, run.push_id)
    if push is None:
        raise push_rules.PushError("推送不存在")
    decisions = decide(db, push, as_utc(run.fire_at), now, run_id=run.id,
                       thresholds=thresholds, template_id=template_id)
    planned = [d for d in decisions if d.state == "planned"]
    times = dict(zip((d.openid for d in planned), _spread(push, _due(push, run), len(planned)),
                     strict=True))
    rows = [{"run_id": run.id, "openid": d.openid, "variant": d.variant,
             "holdout": d.state == "holdout", "channel": d.channel, "state": d.state,
             "reason": d.reason[:120], "attempts": 0, "not_before": times.get(d.openid),
             "lease_until": None, "error_code": None, "error": "", "created_at": now,
             "sent_at": None} for d in decisions]
    # one statement, executed for many rows (SQLAlchemy batches it into multi-row INSERTs
    # and compiles it once)
    add = upsert(db, PushDelivery.__table__).on_conflict_do_nothing(
        index_elements=["run_id", "openid"])
    for start in range(0, len(rows), BATCH):
        db.execute(add, rows[start:start + BATCH])
    if run.state == "planning":
        run.state, run.planned_at = "planned", now
    db.flush()
    return tally(decisions)


# --- dry run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRow:
    openid: str  # masked
    state: str
    variant: str
    channel: str
    reason: str
    text: str


@dataclass
class DryRun:
    """Who a push would reach at its next fire, by which channel, who is skipped and why."""

    fire_at: datetime | None
    counts: dict[str, int]
    sample: list[SampleRow] = field(default_factory=list)
    #: The WeChat tag narrowing the segment, as the console names it ("" for none).
    tag: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.get(state, 0) for state in ("planned", "holdout", "skipped"))

    @property
    def by_channel(self) -> dict[str, int]:
        return {key.split(":", 1)[1]: n for key, n in self.counts.items()
                if key.startswith("channel:")}

    @property
    def by_variant(self) -> dict[str, int]:
        return {key.split(":", 1)[1]: n for key, n in self.counts.items()
                if key.startswith("variant:")}

    @property
    def skipped(self) -> dict[str, int]:
        return {key.split(":", 1)[1]: n for key, n in self.counts.items()
                if key.startswith("skipped:")}

    @property
    def skipped_total(self) -> int:
        return self.counts.get("skipped", 0)

    @property
    def holdout(self) -> int:
        return self.counts.get("holdout", 0)


def dry_run(db: Session, push_or_draft: Push | PushDraft, now: datetime, *, sample: int = 50,
            thresholds: segments.Thresholds | None = None,
            template_id: str | None = None) -> DryRun:
    """The decisions of the push's next run (or now, when it has none), written nowhere.
    A draft has no id yet, so its holdout and A/B split are drawn with id 0: the stored
    push's split is the same size but not the same people. A sample row going as a
    subscription notice shows the copy cut as the notice shows it (SUBSCRIBE_TEXT_MAX)."""
    now = as_utc(now)
    push = (push_rules.push_from_draft(push_or_draft, now)
            if isinstance(push_or_draft, PushDraft) else push_or_draft)
    fire_at = push_rules.first_fire(push, now) or now
    decisions = decide(db, push, fire_at, now, thresholds=thresholds, template_id=template_id)
    texts = push_rules.texts_of(push)
    rows = [SampleRow(segments.mask(d.openid), d.state, d.variant, d.channel, d.reason,
                      _shown(texts.get(d.variant, ""), d.channel)
                      if d.state == "planned" else "")
            for d in decisions[:sample]]
    return DryRun(fire_at, tally(decisions), rows, tags.label(db, push.tag_id))


def _shown(text: str, channel: str) -> str:
    return subscribe_text(text) if channel == "subscribe" else text


# --- the scheduler's job --------------------------------------------------------------------

#: The live rules per process (sessionmaker id →), built on the first run of the job.
_rules: dict[int, LiveRules] = {}


def _screener(storage: Any) -> Any:
    rules = _rules.get(id(storage.sessions))
    if rules is None:
        rules = _rules[id(storage.sessions)] = LiveRules(
            storage.sessions, storage.redis, background=False)
    return rules.screener()


def _create_runs(db: Session, push: Push, now: datetime) -> int:
    lead = timedelta(days=max(push.announce_days, 0))
    kinds = ["main", "announce"] if push.announce_days > 0 else ["main"]
    made = 0
    # never a fire time before the push existed (a cron push made at 12:00 owes nothing to
    # its 10:00 of the same day)
    since = max(now - late_limit(push), as_utc(push.created_at) - timedelta(microseconds=1))
    for fire_at in push_rules.next_fires(push, since, now + lead):
        for kind in kinds:
            made += inserted(db, upsert(db, PushRun.__table__)
                             .values(push_id=push.id, fire_at=fire_at, kind=kind,
                                     state="planning", note="")
                             .on_conflict_do_nothing(
                                 index_elements=["push_id", "fire_at", "kind"]))
    return made


def _copy_refusal(db: Session, push: Push, run: PushRun, screener: Any) -> str | None:
    texts = ([push.announce_text] if run.kind == "announce"
             else list(push_rules.texts_of(push).values()))
    for text in texts:
        judged = push_rules.judge_copy(db, text, screener, author=push.created_by or "system",
                                       submit_missing=True)
        if judged.status == "queued":
            return HELD_NOTE
        if judged.status != "send":
            return judged.message[:200]
    return None


def plan_due(storage: Any, now: datetime | None = None) -> dict[str, int]:
    """The minute job: create the runs of every scheduled push (fire times in the last day up
    to its announcement lead ahead; unique, so every scheduler may do it) and plan those that
    are due. A run whose copy is not approved at its time is held; one later than `late_limit`
    (a day; an hour for a cron push) is not sent (missed); a once-push whose main run is
    decided is done. Each run is planned in a transaction of its own, so one failure does not
    stop the others."""
    now = as_utc(now or datetime.now(UTC))
    settings = getattr(storage, "settings", None)
    thresholds = segments.thresholds_from(settings)
    template_id = push_template_id(settings)
    result: Counter[str] = Counter()
    with storage.sessions.begin() as db:
        for push in db.scalars(select(Push).where(Push.state == "scheduled")):
            try:
                result["runs_created"] += _create_runs(db, push, now)
            except (OverflowError, ValueError):  # a push stored before check() bounded it
                log.exception("creating the runs of push %s failed", push.id)
                result["failed"] += 1
    with storage.sessions() as db:
        waiting = [run_id for run_id, fire_at, kind, days in db.execute(
            select(PushRun.id, PushRun.fire_at, PushRun.kind, Push.announce_days)
            .join(Push, Push.id == PushRun.push_id)
            .where(PushRun.state == "planning", Push.state == "scheduled")
            .order_by(PushRun.fire_at, PushRun.id))
            # bounded: an announce_days stored before check() bounded it must not overflow
            if as_utc(fire_at) - timedelta(days=min(days, 3660) if kind == "announce" else 0)
            <= now]
    screener = None
    for run_id in waiting:
        try:
            with storage.sessions.begin() as db:
                run = db.get(PushRun, run_id)
                push = db.get(Push, run.push_id) if run is not None else None
                if run is None or push is None or run.state != "planning":
                    continue
                due = _due(push, run)
                if due > now:
                    continue
                # an announcement due before the push existed goes now (check warned so)
                if max(due, as_utc(push.created_at)) < now - late_limit(push):
                    run.state, run.note, run.done_at = "cancelled", missed_note(push), now
                    result["missed"] += 1
                else:
                    screener = screener or _screener(storage)
                    refusal = _copy_refusal(db, push, run, screener)
                    if refusal:
                        run.state, run.note, run.done_at = "held", refusal, now
                        result["held"] += 1
                    else:
                        counts = plan_run(db, run, now, thresholds=thresholds,
                                          template_id=template_id)
                        result["planned"] += 1
                        result["deliveries"] += counts.get("planned", 0)
                if push.trigger == "once" and run.kind == "main":
                    push.state, push.updated_at = "done", now
        except Exception:
            log.exception("planning push run %s failed", run_id)
            result["failed"] += 1
    return {key: number for key, number in result.items() if number}
