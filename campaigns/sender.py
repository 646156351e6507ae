"""Sending planned push deliveries exactly once; where WeChat makes that impossible (no agent
account set; a subscription notice to a customer holding several opt-ins), once as far as
WeChat's answers tell, and saying what is in doubt (a call cut off is `unknown`, never resent;
a -1 that followed delivery is retried and so gives one extra copy).

The planner (campaigns/planner.py) leaves PushDelivery rows `planned` with a channel. A sender
(an RQ worker, or the scheduler's thread with PUSH_WORKERS=inline; campaigns/queue.py):

1. claims a batch by one conditional UPDATE (planned → sending, a lease, attempts + 1), so two
   workers on any number of hosts never hold the same row (SQLite and PostgreSQL alike); the
   mass rows of a run and variant are claimed whole (up to MASS_MAX), so they go in one call;
2. checks each claimed delivery again at send time, in one transaction: the push is still
   scheduled, it is not the push's quiet hours, the customer is not suppressed, the copy still
   passes the content gate (push_rules.copy_may_go), the channel is still open (48-hour
   window, an opt-in left, still following, fewer than 4 mass sends this month);
3. right before each WeChat call, commits that the call is starting: its rows go
   sending → calling (only while still ours: `sending` under the lease this sender holds), the
   push's coupon is issued to each recipient (campaigns/push_coupons.py; one the batch
   refuses is skipped, not called), a subscription notice spends its opt-in, a mass send
   records its `clientmsgid` and, in `sent_at`, the time that id was first used; the leases
   of the batch's rows not called yet are renewed as it goes, so a batch never outlives them;
4. calls WeChat outside any transaction, then records each outcome in its own transaction.
   Customer-service messages sent as an agent go in groups of up to AGENT_GROUP (one commit
   starts the group, one records its outcomes: `_groups`), since the chat log settles any of
   them a crash leaves in doubt; every other call is started and recorded alone.

So `sending` means "claimed, never called" and `calling` means "a call may have gone out".
What a dead sender leaves behind, and why it is handled so:

- **`sending` past its lease** (a crash, or an exception, before the call): nothing went out,
  so the row is `planned` again, its attempt not counted. An exception inside `send_batch`
  gives its uncalled rows back at once before it is raised again.
- **Mass sends** carry a `clientmsgid` derived from the run, variant and sorted openids, and
  written to the rows before the call. A resend with the same id within 24 h is refused by
  WeChat with 45065 (its own dedupe), so a mass delivery left `calling` past its lease is
  claimed again and sent again with the *recorded* id and the recorded openid list (less the
  rows skipped since): whichever of the two submissions reaches WeChat first is the only one
  delivered; 45065 counts as sent. WeChat forgets an id after 24 h, so a row whose id was
  first used more than 23 h ago (`sent_at`, see 3.) is never resent: it becomes `unknown`.
- **Customer-service messages** have no idempotency key at WeChat, but a message sent as a
  named agent (PUSH_KF_ACCOUNT) is filed in WeChat's chat log (campaigns/chat_log.py). With
  an agent set, a call that may have gone out — left `calling` by a dead sender, answered by
  nothing (a timeout, a dropped connection) or by `-1` (which WeChat also gives after
  delivering: the sandbox's "accepted, then failed" fault) — stays `calling` until its check
  is due (its lease; CHECK_AFTER after no answer; the back-off after -1), then
  `settle_from_chat_log` looks it up: in the log → `sent`; not there → `planned` again, sent
  once more. No customer is lost and none gets two. The log is read by the wall clock, which
  `called_at` records. A log that cannot be read settles nothing until CHECK_GIVE_UP, then
  the row is `unknown`.
- **Subscription notices** have neither an id nor a log, but WeChat refuses one to a customer
  with no opt-in left for the template (43101). So a notice in doubt (its sender died, no
  answer, -1) whose customer has no other opt-in in our ledger is sent again as a probe
  (PROBE_REASON, spending nothing more here): delivered, the first never went; refused with
  43101, the first went and spent the opt-in — `sent`. A customer holding another opt-in
  would get a second copy instead, so their notice in doubt is `unknown`, as below.
- **Without an agent**, a customer-service `calling` row whose lease expired may or may not
  have gone out, so it is never sent again: it becomes `unknown` (UNKNOWN_REASON); the same
  for a call that got no answer. A customer missing one push is the price of never getting
  two; the report counts these rows, and a dead sender leaves at most the one row it was
  calling for so.
- WeChat's `-1` (system busy) is otherwise taken for "not sent" and retried, here only (the
  client is called with retry_busy=False, so it does not retry it too): planned again after
  60 s × 2^attempts, at most MAX_ATTEMPTS calls in all. For a customer-service message
  without an agent, or a subscription notice whose customer holds another opt-in, a -1 that
  followed delivery is then one extra copy, which WeChat gives us no way to tell. A mass send
  is deduped by its clientmsgid.

Every later attempt respects the push's quiet hours (push_rules.next_allowed): a row due in
them is given back until they end, and back-off and the 45009 next-day deferral land outside
them. Copy the gate refuses at send time (its rules changed, it waits for a reviewer) holds its
rows for another look every 10 minutes, and skips them only once the run is a day late.

"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from campaigns import chat_log, planner, push_coupons, push_rules
from campaigns.pushes import Push, PushDelivery, PushRun, Suppression
from campaigns.segments import MASS_PER_MONTH
from core.clock import SHANGHAI, as_utc, shanghai_text
from core.db import upsert
from core.storage import Storage
from shop.followers import Follower
from shop.notices import THING_MAX, NoticeOptIn, in_window

log = logging.getLogger(__name__)

#: A claim's lease, renewed before each call for the rows of the batch not called yet, and the
#: lease of one call (its rows `calling`): a sender silent this long is taken for dead.
LEASE_SECONDS = 120
MAX_ATTEMPTS = 5
#: Back-off after a retryable answer: 60 s × 2^attempts (WeChat asks ≥ 60 s after 45011).
BACKOFF_SECONDS = 60
#: Rounds of claim + send one `send_due` call makes at most (it is called again 15 s later).
MAX_ROUNDS = 50
MASS_MIN, MASS_MAX = 2, 10_000
#: WeChat dedupes a clientmsgid for 24 h; a mass row whose id was first used longer ago than
#: this is never sent again (a resend could be a second copy).
MASS_RESEND_LIMIT = timedelta(hours=23)
#: Copy the gate refuses at send time is looked at again this often, and given up on (its rows
#: skipped) once the run is this late.
COPY_RECHECK = timedelta(minutes=10)
COPY_GIVE_UP = timedelta(hours=24)
#: Busy (-1), the minute quota (45011); for mass sends also "same clientmsgid retried too fast".
RETRY_CODES = {-1, 45011}
MASS_RETRY_CODES = RETRY_CODES | {45066}
#: Answers after which a customer-service message sent as an agent is looked up in the chat log
#: before anything else: -1 may follow delivery (WeChat's own "system busy").
LOOK_UP_CODE = -1
LOOK_UP_CODES = {LOOK_UP_CODE}
#: No opt-in left for the template (bizsend): for a probe, the proof the first call went.
OPT_IN_SPENT = 43101
#: A call that got no answer is looked up this long after it (its HTTP timeout is 5 s).
CHECK_AFTER = timedelta(seconds=60)
#: Customer-service messages sent as an agent whose start and outcomes share one commit each
#: (`_groups`). No call of a group starts later than GROUP_DEADLINE after the group was
#: recorded (half the lease, leaving the other half to the last call): the rest are given back,
#: so a group never outlives the lease a settling sender would take for a dead one.
AGENT_GROUP = 20
GROUP_DEADLINE = timedelta(seconds=LEASE_SECONDS / 2)
#: Doubtful calls looked up per round, and how long a log that cannot be read is waited for.
CHECK_BATCH = 1_000
CHECK_GIVE_UP = timedelta(hours=23)
DAILY_QUOTA = 45009
MASS_DUPLICATE = 45065
#: Codes that say this openid can never be reached by a push: they go on the suppression list.
SUPPRESS_CODES = {43004: "已取消关注（43004）", 40003: "openid无效（40003）",
                  43101: "用户拒收消息（43101）"}
#: Codes that skip this one delivery without suppressing the customer.
SKIP_CODES = {45015: "客服消息窗口已关闭（45015）", 45047: "客服消息额度已用完（45047）",
              43019: "用户已将公众号拉黑（43019）"}
#: Push states whose planned deliveries go out; paused ones wait, cancelled ones are skipped.
SENDING_PUSH_STATES = ("scheduled", "done")
LIVE_RUN_STATES = ("planned", "sending")
#: Delivery states a sender still has to finish: claimed (`sending`), mid-call (`calling`).
CLAIMED, CALLING = "sending", "calling"
#: Mass deliveries that count against WeChat's 4 a month (other runs; this Shanghai month).
MASS_COUNTED = ("sent", CALLING, "unknown")
UNKNOWN_REASON = "发送中断，结果未知，为避免重复不再补发"
NO_ANSWER_REASON = "微信未应答，结果未知，为避免重复不再补发"
CHECK_REASON = "结果待核对（查微信客服聊天记录）"
PROBE_REASON = "结果待核对（再发一次：已送达的话微信会拒绝）"
PROBE_SENT_REASON = "已送达（再发时微信回复授权已用完）"
LOG_UNREADABLE_REASON = "客服聊天记录无法读取，结果未知，为避免重复不再补发"
MASS_EXPIRED_REASON = "群发结果未知，已超过微信去重期限，为避免重复不再补发"
CANCELLED_REASON = "推送已取消"
COPY_REASON = "文案未通过审核，未发送"
MASS_CAP_REASON = f"本月群发已达{MASS_PER_MONTH}次"

#: The content gate at send time: (db, push, text) → None when it may go, else why not.
Screen = Callable[[Session, Push, str], "str | None"]


def clientmsgid(run_id: int, variant: str, openids: Iterable[str]) -> str:
    """The mass send's idempotency key: the same batch retried gets the same id (≤ 64 bytes)."""
    digest = hashlib.sha1(",".join(sorted(openids)).encode()).hexdigest()[:16]
    return f"push{run_id}-{variant}-{digest}"


def _due(now: datetime) -> Any:
    """Rows a sender may take: planned and due, or a mass send whose caller's lease ran out."""
    return or_(
        and_(PushDelivery.state == "planned",
             or_(PushDelivery.not_before.is_(None), PushDelivery.not_before <= now)),
        and_(PushDelivery.state == CALLING, PushDelivery.channel == "mass",
             PushDelivery.lease_until < now),
    )


def _live_runs() -> Any:
    """Runs whose deliveries a sender may take: planned or sending, of a push still going."""
    return (select(PushRun.id).join(Push, Push.id == PushRun.push_id)
            .where(PushRun.state.in_(LIVE_RUN_STATES), Push.state.in_(SENDING_PUSH_STATES)))


def outstanding(db: Session, now: datetime) -> int:
    """Deliveries a sender would take at `now` (as `claim` chooses them) or holds right now:
    what is left of a send (`python -m bot pushes send` shows its progress with it)."""
    return db.scalar(select(func.count()).select_from(PushDelivery).where(
        PushDelivery.run_id.in_(_live_runs()),
        or_(_due(now), PushDelivery.state.in_((CLAIMED, CALLING))))) or 0


def claim(db: Session, now: datetime, *, limit: int, lease_seconds: int = LEASE_SECONDS,
          mass_limit: int = MASS_MAX) -> list[int]:
    """Take up to `limit` due deliveries for this sender, and the whole due mass group (run and
    variant, up to `mass_limit` rows) of every mass row among them; returns their ids.

    First the leases that ran out are settled: a customer-service delivery sent without an
    agent, or a subscription notice `_probe_dead_notices` did not take up as a probe, left
    `calling` becomes `unknown` (it may have gone out; see the module docstring); one sent as
    an agent is left for `settle_from_chat_log`; a row left `sending` (claimed, never called)
    is `planned` again, its attempt not counted. Then
    one UPDATE … WHERE <still due> RETURNING claims rows: a row another sender took in between
    no longer matches, so it is never claimed twice. PostgreSQL skips rows locked by another
    claim instead of waiting for them. Rows come ordered by run, channel and variant.
    """
    now = as_utc(now)
    db.execute(update(PushDelivery)
               .where(PushDelivery.state == CALLING, PushDelivery.channel != "mass",
                      PushDelivery.kf_account == "", PushDelivery.lease_until < now)
               .values(state="unknown", reason=UNKNOWN_REASON, lease_until=None)
               .execution_options(synchronize_session=False))
    db.execute(update(PushDelivery)
               .where(PushDelivery.state == CLAIMED, PushDelivery.lease_until < now)
               .values(state="planned", lease_until=None, attempts=PushDelivery.attempts - 1)
               .execution_options(synchronize_session=False))
    live_runs = _live_runs()
    lease = now + timedelta(seconds=lease_seconds)
    pick = (select(PushDelivery.id)
            .where(_due(now), PushDelivery.run_id.in_(live_runs))
            .order_by(PushDelivery.run_id, PushDelivery.channel, PushDelivery.variant,
                      PushDelivery.id)
            .limit(limit))
    ids = _take(db, pick, now, lease)
    if ids:
        groups = db.execute(
            select(PushDelivery.run_id, PushDelivery.variant, func.count())
            .where(PushDelivery.id.in_(ids), PushDelivery.channel == "mass")
            .group_by(PushDelivery.run_id, PushDelivery.variant)).all()
        for run_id, variant, taken in groups:
            if taken < mass_limit:
                ids += _take(db, select(PushDelivery.id)
                             .where(_due(now), PushDelivery.run_id == run_id,
                                    PushDelivery.variant == variant,
                                    PushDelivery.channel == "mass")
                             .order_by(PushDelivery.id)
                             .limit(mass_limit - taken), now, lease)
        db.execute(update(PushRun)
                   .where(PushRun.state == "planned",
                          PushRun.id.in_(select(PushDelivery.run_id)
                                         .where(PushDelivery.id.in_(ids))))
                   .values(state="sending")
                   .execution_options(synchronize_session=False))
    return sorted(ids)


def _rowcount(result: Any) -> int:
    """Rows an UPDATE matched (a CursorResult's rowcount)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _take(db: Session, pick: Any, now: datetime, lease: datetime) -> list[int]:
    """Claim the rows `pick` selects that are still due (see `claim`)."""
    return list(db.scalars(
        update(PushDelivery)
        .where(PushDelivery.id.in_(pick.with_for_update(skip_locked=True)), _due(now))
        .values(state=CLAIMED, lease_until=lease, attempts=PushDelivery.attempts + 1)
        .returning(PushDelivery.id)
        .execution_options(synchronize_session=False)))


@dataclass
class _Call:
    """One WeChat call and the deliveries it decides."""

    channel: str  # custom | subscribe | mass
    text: str
    ids: list[int]
    openids: list[str]
    run_id: int
    #: The push's quiet hours (a detached stand-in): later attempts land outside them.
    quiet: Push
    cid: str = ""
    #: A mass send under a clientmsgid made in this batch (never submitted before).
    fresh: bool = False
    #: A subscription notice that spends an opt-in when it starts.
    spend_opt_in: bool = False
    #: Per delivery id: the channel to record (a lone mass recipient goes as custom).
    record_channel: dict[int, str] = field(default_factory=dict)
    #: The agent a customer-service message goes as (PUSH_KF_ACCOUNT; "" = none).
    kf_account: str = ""
    #: A fresh mass send's A/B variant: its clientmsgid is made again if recipients drop out.
    variant: str = ""
    #: A subscription notice sent again to learn whether the first went (PROBE_REASON): 43101
    #: then means WeChat already spent the customer's only opt-in on it.
    probe: bool = False
    #: The subscription template a notice goes under.
    template_id: str = ""
    #: Its push gives each recipient a coupon (campaigns/push_coupons.py).
    coupon: bool = False


@dataclass
class _Row:
    id: int
    run_id: int
    openid: str
    variant: str
    channel: str
    attempts: int
    error_code: int | None
    cid: str
    #: For a row with a clientmsgid: when that id was first used (see `_start`).
    first_call: datetime | None
    #: A subscription notice in doubt, due to be sent again as a probe.
    probe: bool = False


class _Held:
    """The claimed rows of a batch not called yet: id → the lease they are held under (the
    lease is the sender's mark of ownership: another sender's claim would have set another)."""

    def __init__(self, leases: dict[int, datetime]):
        self.leases = leases

    def owned(self, ids: Iterable[int]) -> Any:
        """SQL: these rows, still `sending` under our lease."""
        by_lease: dict[datetime, list[int]] = defaultdict(list)
        for delivery_id in ids:
            if delivery_id in self.leases:
                by_lease[self.leases[delivery_id]].append(delivery_id)
        if not by_lease:
            return PushDelivery.id.is_(None)
        return and_(PushDelivery.state == CLAIMED,
                    or_(*(and_(PushDelivery.id.in_(group), PushDelivery.lease_until == lease)
                          for lease, group in by_lease.items())))

    def drop(self, ids: Iterable[int]) -> None:
        for delivery_id in ids:
            self.leases.pop(delivery_id, None)

    def renew(self, db: Session, at: datetime) -> None:
        """Extend the lease of the rows not called yet once half of it is gone."""
        lease = at + timedelta(seconds=LEASE_SECONDS)
        due = [i for i, held in self.leases.items()
               if held - at < timedelta(seconds=LEASE_SECONDS / 2)]
        if not due:
            return
        db.execute(update(PushDelivery).where(self.owned(due)).values(lease_until=lease)
                   .execution_options(synchronize_session=False))
        for delivery_id in due:
            self.leases[delivery_id] = lease

    def release(self, db: Session) -> int:
        """Give every row not called yet back (planned, its attempt not counted)."""
        if not self.leases:
            return 0
        released = _rowcount(db.execute(
            update(PushDelivery).where(self.owned(list(self.leases)))
            .values(state="planned", lease_until=None, attempts=PushDelivery.attempts - 1)
            .execution_options(synchronize_session=False)))
        self.leases.clear()
        return released


def send_batch(storage: Storage, ids: list[int], now: datetime, *,
               screen: Screen | None = None) -> dict[str, int]:
    """Send the claimed deliveries `ids`; returns counts by outcome.

    `screen` defaults to push_rules.copy_may_go on this process's live content rules. Should
    anything raise, the rows not called yet are given back (planned) before it propagates.
    """
    counts: Counter[str] = Counter()
    if not ids:
        return {}
    now = as_utc(now)
    api = storage.wechat
    if api is None:
        raise RuntimeError("WeChat API not configured: pushes cannot be sent")
    # pushes spend opt-ins of their own template, never those given for the shop's reminders
    template_id = planner.push_template_id(storage.settings)
    kf_account = str(storage.settings.get("PUSH_KF_ACCOUNT") or "")
    started = time.monotonic()

    def clock() -> datetime:  # `now`, moved on by the time this batch has taken
        return now + timedelta(seconds=time.monotonic() - started)

    with storage.sessions() as db:
        held = _Held({delivery_id: as_utc(lease) for delivery_id, lease in db.execute(
            select(PushDelivery.id, PushDelivery.lease_until)
            .where(PushDelivery.id.in_(ids), PushDelivery.state == CLAIMED,
                   PushDelivery.lease_until.is_not(None)))})
    try:
        screen = screen or _live_screen(storage)
        with storage.sessions.begin() as db:
            calls, runs = _prepare(db, ids, now, screen, template_id, counts)
            with_coupons = push_coupons.runs_with_coupons(db, runs)
        for call in calls:
            call.coupon = call.run_id in with_coupons
            if call.channel == "custom":
                call.kf_account = kf_account
        calling = {delivery_id for call in calls for delivery_id in call.ids}
        held.leases = {i: lease for i, lease in held.leases.items() if i in calling}
        for group in _groups(calls):
            at = clock()
            with storage.sessions.begin() as db:
                going = [call for call in group
                         if _start(db, call, held, at, template_id, counts)]
            outcomes, late = [], []
            for call in going:
                if clock() - at > GROUP_DEADLINE:  # WeChat is slow: the rest waits
                    late.append(call)
                else:
                    outcomes.append((call, _call(api, call, template_id, clock())))
            with storage.sessions.begin() as db:
                for call, outcome in outcomes:
                    _record(db, call, outcome, clock(), counts)
                for call in late:
                    _not_called(db, call, at, counts)
    except BaseException:
        with storage.sessions.begin() as db:
            released = held.release(db)
        log.exception("push batch failed; %d deliveries not yet called were given back",
                      released)
        raise
    with storage.sessions.begin() as db:
        _finish_runs(db, runs, clock())
    return dict(counts)


def _groups(calls: list[_Call]) -> Iterable[list[_Call]]:
    """The calls in the groups their start and outcome are committed for: one call alone, or
    up to AGENT_GROUP customer-service messages sent as an agent in a row. A group's calls
    are all recorded `calling` before the first goes out, so a sender dying in the middle
    leaves some `calling` that never went: for an agent's messages the chat log tells (they
    are sent again), which is why only they are grouped — two commits per group, not per
    message. Without an agent every call keeps its own two commits, so at most the one call
    in flight is in doubt."""
    group: list[_Call] = []
    for call in calls:
        if call.channel == "custom" and call.kf_account:
            group.append(call)
            if len(group) == AGENT_GROUP:
                yield group
                group = []
            continue
        if group:
            yield group
            group = []
        yield [call]
    if group:
        yield group


def _quiet_of(push: Push) -> Push:
    """A detached stand-in carrying only the push's quiet hours (for push_rules.next_allowed
    after the session that loaded `push` is gone)."""
    return Push(quiet_start=push.quiet_start, quiet_end=push.quiet_end)


def _prepare(db: Session, ids: list[int], now: datetime, screen: Screen,
             template_id: str | None, counts: Counter[str]) -> tuple[list[_Call], set[int]]:
    """Check every claimed delivery again and turn those that may go into calls."""
    found = db.execute(
        select(PushDelivery, PushRun, Push)
        .join(PushRun, PushRun.id == PushDelivery.run_id)
        .join(Push, Push.id == PushRun.push_id)
        .where(PushDelivery.id.in_(ids), PushDelivery.state == CLAIMED)
        .order_by(PushDelivery.id)).all()
    suppressed = set(db.scalars(select(Suppression.openid).where(
        Suppression.openid.in_([d.openid for d, _, _ in found]))))
    mass_openids = [d.openid for d, _, _ in found if d.channel == "mass"]
    following: dict[str, bool] = {openid: bool(subscribed) for openid, subscribed in db.execute(
        select(Follower.openid, Follower.subscribed).where(
            Follower.openid.in_(mass_openids)))} if mass_openids else {}
    verdicts: dict[tuple[int, str], str | None] = {}
    calls: list[_Call] = []
    mass: dict[tuple[int, str, str], list[_Row]] = defaultdict(list)
    texts: dict[tuple[int, str], tuple[str, Push]] = {}
    runs: set[int] = set()
    for delivery, run, push in found:
        runs.add(run.id)
        if push.state not in (*SENDING_PUSH_STATES, "cancelled"):  # paused (or back to draft)
            _release(db, delivery.id, counts)
            continue
        if push.state == "cancelled" or run.state == "cancelled":
            _skip(db, delivery.id, CANCELLED_REASON, counts)
            continue
        if push_rules.in_quiet_hours(push, now):
            _release(db, delivery.id, counts, not_before=push_rules.next_allowed(push, now))
            continue
        if delivery.openid in suppressed:
            _skip(db, delivery.id, "已在屏蔽名单（微信曾拒绝发送给此用户）", counts)
            continue
        row = _Row(delivery.id, run.id, delivery.openid, delivery.variant, delivery.channel,
                   delivery.attempts, delivery.error_code, delivery.clientmsgid,
                   as_utc(delivery.sent_at) if delivery.clientmsgid and delivery.sent_at
                   else None, delivery.reason == PROBE_REASON)
        if row.first_call is not None and now - row.first_call > MASS_RESEND_LIMIT:
            _settle(db, row.id, {"state": "unknown", "reason": MASS_EXPIRED_REASON,
                                 "lease_until": None}, (CLAIMED,))
            counts["unknown"] += 1
            continue
        text = _copy(push, run, delivery.variant)
        if not text.strip():
            _skip(db, row.id, "文案为空", counts)
            continue
        if (push.id, text) not in verdicts:
            verdicts[(push.id, text)] = screen(db, push, text)
        refusal = verdicts[(push.id, text)]
        if refusal:
            if now > as_utc(run.fire_at) + COPY_GIVE_UP:
                _skip(db, row.id, COPY_REASON, counts, error=refusal)
            else:  # held until a reviewer passes it (or the copy is changed)
                _release(db, row.id, counts,
                         not_before=push_rules.next_allowed(push, now + COPY_RECHECK))
            continue
        quiet = _quiet_of(push)
        if row.channel == "custom":
            if not in_window(db, row.openid, now):
                _skip(db, row.id, "客服消息窗口已关闭（48小时内未互动）", counts)
                continue
            calls.append(_Call("custom", text, [row.id], [row.openid], run.id, quiet))
        elif row.channel == "subscribe":
            spend = _opt_in_needed(row)
            if not template_id or (spend and not _has_opt_in(db, row.openid, template_id)):
                _skip(db, row.id, "没有可用的订阅通知授权", counts)
                continue
            if row.probe and _has_opt_in(db, row.openid, template_id):
                # an opt-in given since: WeChat would deliver a second copy, not refuse one
                _settle(db, row.id, {"state": "unknown", "reason": UNKNOWN_REASON,
                                     "lease_until": None}, (CLAIMED,))
                counts["unknown"] += 1
                continue
            calls.append(_Call("subscribe", text, [row.id], [row.openid], run.id, quiet,
                               spend_opt_in=spend, probe=row.probe,
                               template_id=template_id))
        elif row.channel == "mass":
            if following.get(row.openid) is False and not row.cid:
                _skip(db, row.id, "已取消关注", counts)
                continue
            mass[(run.id, row.variant, row.cid)].append(row)
            texts[(run.id, row.variant)] = (text, quiet)
        else:
            _fail(db, row.id, None, f"unknown channel {row.channel!r}", counts)
    capped = _mass_capped(db, [r.openid for rows in mass.values() for r in rows], now)
    for (run_id, variant, cid), rows in mass.items():
        going = []
        for row in rows:
            if row.openid in capped:
                _skip(db, row.id, MASS_CAP_REASON, counts)
            else:
                going.append(row)
        if going:
            text, quiet = texts[(run_id, variant)]
            calls += _mass_calls(db, run_id, variant, cid, going, text, quiet, now, counts)
    return calls, runs


def _mass_capped(db: Session, openids: list[str], now: datetime) -> set[str]:
    """Those of `openids` that got MASS_PER_MONTH mass sends this Shanghai month already (sent,
    being sent or perhaps sent, in other runs: a claimed row is `sending`, so not counted)."""
    if not openids:
        return set()
    local = now.astimezone(SHANGHAI)
    month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    at = func.coalesce(PushDelivery.sent_at, PushDelivery.created_at)
    return {openid for openid, number in db.execute(
        select(PushDelivery.openid, func.count())
        .where(PushDelivery.openid.in_(openids), PushDelivery.channel == "mass",
               PushDelivery.state.in_(MASS_COUNTED), at >= month)
        .group_by(PushDelivery.openid)) if number >= MASS_PER_MONTH}


def _mass_calls(db: Session, run_id: int, variant: str, cid: str, rows: list[_Row], text: str,
                quiet: Push, now: datetime, counts: Counter[str]) -> list[_Call]:
    """Mass sends for one run and variant (one call per MASS_MAX rows).

    Rows that already carry a clientmsgid (a retry, or a sender that died) are sent again with
    that id and the openid list it was made for, less the rows skipped or failed since, never
    only the part in this batch: WeChat delivers the first submission of an id only, so a
    partial first one would lose the rest.
    """
    ids = [r.id for r in rows]
    if cid:
        group = set(db.scalars(select(PushDelivery.openid).where(
            PushDelivery.run_id == run_id, PushDelivery.clientmsgid == cid,
            PushDelivery.state.not_in(("skipped", "failed", "holdout")))))
        openids = sorted(group | {r.openid for r in rows})
        if len(openids) < MASS_MIN:  # WeChat takes no list this short (40130)
            for row in rows:
                _settle(db, row.id, {"state": "unknown", "reason": UNKNOWN_REASON,
                                     "lease_until": None}, (CLAIMED,))
            counts["unknown"] += len(rows)
            return []
        return [_Call("mass", text, ids, openids, run_id, quiet, cid)]
    calls = []
    for start in range(0, len(rows), MASS_MAX):
        chunk = rows[start:start + MASS_MAX]
        if len(chunk) < MASS_MIN:
            lone = chunk[0]
            if _has_mass_peer(db, lone, now):
                _release(db, lone.id, counts)  # goes out with the rest of its run later
            elif in_window(db, lone.openid, now):
                calls.append(_Call("custom", text, [lone.id], [lone.openid], run_id, quiet,
                                   record_channel={lone.id: "custom"}))
            else:
                _skip(db, lone.id, "群发至少需两位收件人，且客服消息窗口已关闭", counts)
            continue
        openids = sorted(r.openid for r in chunk)
        calls.append(_Call("mass", text, [r.id for r in chunk], openids, run_id, quiet,
                           clientmsgid(run_id, variant, openids), fresh=True,
                           variant=variant))
    return calls


def _has_mass_peer(db: Session, row: _Row, now: datetime) -> bool:
    """Whether another mass delivery of the same run and variant is planned and due."""
    return db.scalar(select(func.count()).select_from(PushDelivery).where(
        PushDelivery.run_id == row.run_id, PushDelivery.variant == row.variant,
        PushDelivery.channel == "mass", PushDelivery.id != row.id,
        PushDelivery.state == "planned",
        or_(PushDelivery.not_before.is_(None), PushDelivery.not_before <= now))) != 0


def _opt_in_needed(row: _Row) -> bool:
    """Whether this subscription notice spends an opt-in. A retry after WeChat said "not sent"
    (-1, 45011, 45009: so not spent there either) goes on the opt-in its earlier call spent."""
    return row.error_code not in RETRY_CODES | {DAILY_QUOTA}


def _has_opt_in(db: Session, openid: str, template_id: str) -> bool:
    return db.scalar(select(func.count()).select_from(NoticeOptIn).where(
        NoticeOptIn.openid == openid, NoticeOptIn.template_id == template_id,
        NoticeOptIn.remaining > 0)) != 0


def _spend_opt_in(db: Session, openid: str, template_id: str) -> bool:
    """Spend one opt-in, as shop/notices.py does, before the call."""
    return _rowcount(db.execute(update(NoticeOptIn)
                                .where(NoticeOptIn.openid == openid,
                                       NoticeOptIn.template_id == template_id,
                                       NoticeOptIn.remaining > 0)
                                .values(remaining=NoticeOptIn.remaining - 1)
                                .execution_options(synchronize_session=False))) == 1


def _refund_opt_in(db: Session, openid: str, template_id: str) -> None:
    """Give back the opt-in `_spend_opt_in` took for a call that is not made after all."""
    db.execute(update(NoticeOptIn)
               .where(NoticeOptIn.openid == openid, NoticeOptIn.template_id == template_id)
               .values(remaining=NoticeOptIn.remaining + 1)
               .execution_options(synchronize_session=False))


def _start(db: Session, call: _Call, held: _Held, at: datetime, template_id: str | None,
           counts: Counter[str]) -> bool:
    """Commit, right before the call, that it is starting; returns whether to make it.

    Its rows go `calling` only if every one is still ours (`sending` under our lease); a row
    taken back meanwhile (our lease ran out) means no call, and the rest are given back.
    """
    ids = call.ids
    mine = db.scalar(select(func.count()).select_from(PushDelivery).where(held.owned(ids)))
    if mine != len(ids):
        log.warning("push %s call not made: %d of its %d deliveries are no longer ours",
                    call.channel, len(ids) - (mine or 0), len(ids))
        released = _rowcount(db.execute(
            update(PushDelivery).where(held.owned(ids))
            .values(state="planned", lease_until=None, attempts=PushDelivery.attempts - 1)
            .execution_options(synchronize_session=False)))
        if released:
            counts["released"] += released
        held.drop(ids)
        return False
    if call.spend_opt_in and not _spend_opt_in(db, call.openids[0], str(template_id)):
        _skip(db, ids[0], "没有可用的订阅通知授权", counts)
        held.drop(ids)
        return False
    first = call.openids[0]
    if not _give_coupons(db, call, held, at, counts):  # refused: nobody is called
        if call.spend_opt_in:
            _refund_opt_in(db, first, str(template_id))
        return False
    ids = call.ids
    values: dict[str, Any] = {"state": CALLING,
                              "lease_until": at + timedelta(seconds=LEASE_SECONDS),
                              "called_at": datetime.now(UTC), "kf_account": call.kf_account}
    if call.channel == "mass":
        # sent_at: when this clientmsgid was first used (WeChat dedupes it for 24 h only).
        values.update(clientmsgid=call.cid,
                      sent_at=func.coalesce(PushDelivery.sent_at, at) if not call.fresh else at)
    elif call.record_channel:  # a lone mass recipient, as custom: a dead caller's row is so
        values["channel"] = call.record_channel[ids[0]]
    db.execute(update(PushDelivery).where(held.owned(ids)).values(**values)
               .execution_options(synchronize_session=False))
    held.drop(ids)
    held.renew(db, at)
    return True


def _give_coupons(db: Session, call: _Call, held: _Held, at: datetime,
                  counts: Counter[str]) -> bool:
    """The push's coupon, one per recipient, committed with the start of the call
    (campaigns/push_coupons.py); returns whether anyone is left to call.

    A recipient the batch refuses is skipped and left out of the call. Only a fresh mass
    send may drop recipients (its clientmsgid is made again for the rest); a resubmission
    keeps its openid list (`_mass_calls`) and issues nothing: its coupons went with its first
    submission. A fresh mass send left with one recipient gives that row back, its coupon
    issued, to go out as `_mass_calls` sends a lone recipient.
    """
    if not call.coupon or (call.channel == "mass" and not call.fresh):
        return True
    refused = push_coupons.issue_for(db, call.run_id, call.ids, at)
    if not refused:
        return True
    for delivery_id, (_openid, reason) in refused.items():
        _skip(db, delivery_id, reason, counts)
    held.drop(refused)
    gone = {openid for openid, _reason in refused.values()}
    call.ids = [i for i in call.ids if i not in refused]
    call.openids = [o for o in call.openids if o not in gone]
    if call.channel == "mass" and call.ids:
        if len(call.openids) < MASS_MIN:
            for delivery_id in call.ids:
                _release(db, delivery_id, counts)
            held.drop(call.ids)
            return False
        call.cid = clientmsgid(call.run_id, call.variant, call.openids)
    return bool(call.ids)


@dataclass(frozen=True)
class _Outcome:
    """What WeChat answered: code 0 (accepted), an errcode, or None for no answer at all."""

    code: int | None
    message: str = ""


def _call(api: Any, call: _Call, template_id: str | None, now: datetime) -> _Outcome:
    """One call, with the client's own -1 retries off: the sender owns all back-off."""
    try:
        if call.channel == "custom":
            api.send_text(call.openids[0], call.text, retry_busy=False,
                          kf_account=call.kf_account)
        elif call.channel == "subscribe":
            api.send_subscribe_notice(call.openids[0], str(template_id),
                                      {"thing1": call.text[:THING_MAX],
                                       "time2": shanghai_text(now)}, retry_busy=False)
        else:
            api.mass_send_text(call.openids, call.text, call.cid, retry_busy=False)
    except requests.RequestException as error:
        log.warning("push %s call to WeChat got no answer: %s", call.channel,
                    type(error).__name__)
        return _Outcome(None, f"no answer ({type(error).__name__})")
    except Exception as error:
        code = getattr(error, "errcode", None)
        if isinstance(code, int):
            return _Outcome(code, str(error)[:200])
        log.exception("push %s call failed unexpectedly", call.channel)
        return _Outcome(None, f"{type(error).__name__}: {error}"[:200])
    return _Outcome(0)


#: States an outcome is recorded on: ours (`calling`), or `unknown` — a sender that outlived
#: its lease knows better than the sender that gave up on it.
RECORDABLE = (CALLING, "unknown")


def _record(db: Session, call: _Call, outcome: _Outcome, now: datetime,
            counts: Counter[str]) -> None:
    """Write what WeChat said onto every delivery of the call (rows still ours only)."""
    code = outcome.code
    ids = call.ids
    if call.kf_account and (code is None or code in LOOK_UP_CODES):
        # it may have gone out: the chat log decides, once the call is surely over
        check_at = now + (CHECK_AFTER if code is None else _backoff(db, ids[0]))
        for delivery_id in ids:
            _settle(db, delivery_id, {"lease_until": push_rules.next_allowed(call.quiet, check_at),
                                      "reason": CHECK_REASON, "error_code": code,
                                      "error": outcome.message[:200]}, (CALLING,))
        counts["checking"] += len(ids)
        return
    if call.probe and code == OPT_IN_SPENT:  # the first call went: it spent the only opt-in
        for delivery_id in ids:
            _settle(db, delivery_id, {"state": "sent", "sent_at": now, "lease_until": None,
                                      "reason": PROBE_SENT_REASON, "error_code": None})
        counts["sent"] += len(ids)
        return
    if call.channel == "subscribe" and (code is None or code in LOOK_UP_CODES) \
            and not _has_opt_in(db, call.openids[0], call.template_id):
        # WeChat refuses a notice without an opt-in: sending again tells whether this went
        _probe_again(db, call, outcome, now, counts)
        return
    if code == 0 or (call.channel == "mass" and code == MASS_DUPLICATE):
        for delivery_id in ids:
            # A mass send reached its customers when its clientmsgid was first accepted.
            sent_at = func.coalesce(PushDelivery.sent_at, now) if call.channel == "mass" else now
            values: dict[str, Any] = {"state": "sent", "sent_at": sent_at, "lease_until": None,
                                      "error_code": None, "reason": ""}
            if delivery_id in call.record_channel:
                values["channel"] = call.record_channel[delivery_id]
            _settle(db, delivery_id, values)
        counts["sent"] += len(ids)
        return
    if code is None:
        if call.channel == "mass":  # the clientmsgid makes a resend safe
            for delivery_id in ids:
                _retry(db, delivery_id, None, outcome.message, now, call.quiet, counts)
            return
        for delivery_id in ids:
            _settle(db, delivery_id, {"state": "unknown", "reason": NO_ANSWER_REASON,
                                      "error": outcome.message, "lease_until": None})
        counts["unknown"] += len(ids)
        return
    retryable = MASS_RETRY_CODES if call.channel == "mass" else RETRY_CODES
    if code in retryable:
        for delivery_id in ids:
            _retry(db, delivery_id, code, outcome.message, now, call.quiet, counts)
    elif code == DAILY_QUOTA:
        tomorrow = (now.astimezone(SHANGHAI) + timedelta(days=1)).replace(
            hour=0, minute=5, second=0, microsecond=0).astimezone(UTC)
        deferred: dict[str, Any] = {
            "state": "planned", "lease_until": None, "error_code": code,
            "not_before": push_rules.next_allowed(call.quiet, tomorrow),
            "attempts": PushDelivery.attempts - 1}
        if call.fresh:  # refused, so never submitted: tomorrow's group gets a fresh id
            deferred.update(clientmsgid="", sent_at=None)
        for delivery_id in ids:
            _settle(db, delivery_id, deferred)
        counts["deferred"] += len(ids)
    elif code in SUPPRESS_CODES and len(call.openids) == 1:
        db.execute(upsert(db, Suppression.__table__)
                   .values(openid=call.openids[0], code=code, reason=SUPPRESS_CODES[code],
                           created_at=now)
                   .on_conflict_do_nothing(index_elements=["openid"]))
        for delivery_id in ids:
            _settle(db, delivery_id, {"state": "skipped", "reason": SUPPRESS_CODES[code],
                                      "error_code": code, "lease_until": None})
        counts["skipped"] += len(ids)
    elif code in SKIP_CODES:
        for delivery_id in ids:
            _settle(db, delivery_id, {"state": "skipped", "reason": SKIP_CODES[code],
                                      "error_code": code, "lease_until": None})
        counts["skipped"] += len(ids)
    else:
        for delivery_id in ids:
            _fail(db, delivery_id, code, outcome.message, counts, RECORDABLE)


def _retry(db: Session, delivery_id: int, code: int | None, message: str, now: datetime,
           quiet: Push, counts: Counter[str]) -> None:
    """Back to planned after 60 s × 2^attempts (outside the quiet hours), or failed after
    MAX_ATTEMPTS."""
    if _attempts(db, delivery_id) >= MAX_ATTEMPTS:
        _fail(db, delivery_id, code, message, counts, RECORDABLE)
        return
    later = now + _backoff(db, delivery_id)
    _settle(db, delivery_id, {"state": "planned", "lease_until": None, "error_code": code,
                              "not_before": push_rules.next_allowed(quiet, later)})
    counts["retry"] += 1


def _probe_again(db: Session, call: _Call, outcome: _Outcome, now: datetime,
                 counts: Counter[str]) -> None:
    """A subscription notice in doubt whose customer has no other opt-in: planned again as a
    probe after its wait (CHECK_AFTER after no answer, the back-off after -1), or, after
    MAX_ATTEMPTS calls, given up on as `unknown` (the first may have gone)."""
    code, ids = outcome.code, call.ids
    values: dict[str, Any] = {"lease_until": None, "error": outcome.message[:200]}
    if _attempts(db, ids[0]) >= MAX_ATTEMPTS:
        values.update(state="unknown", reason=UNKNOWN_REASON, error_code=code)
        counts["unknown"] += len(ids)
    else:
        check_at = now + (CHECK_AFTER if code is None else _backoff(db, ids[0]))
        # a probe's code is -1 whatever happened, so its resend spends no opt-in
        values.update(state="planned", reason=PROBE_REASON, error_code=LOOK_UP_CODE,
                      not_before=push_rules.next_allowed(call.quiet, check_at))
        counts["probe"] += len(ids)
    for delivery_id in ids:
        _settle(db, delivery_id, values)


def _not_called(db: Session, call: _Call, started: datetime, counts: Counter[str]) -> None:
    """A call of a group that was recorded `calling` and never made (the group ran out of
    time): back to planned, its attempt not counted — only while still under the lease its
    group started with, which no one else can have settled yet (GROUP_DEADLINE < lease)."""
    lease = started + timedelta(seconds=LEASE_SECONDS)
    for delivery_id in call.ids:
        _settle(db, delivery_id, {"state": "planned", "lease_until": None,
                                  "attempts": PushDelivery.attempts - 1},
                (CALLING,), lease=lease)
    counts["released"] += len(call.ids)


def _attempts(db: Session, delivery_id: int) -> int:
    """Calls made for this delivery so far (counted when it is claimed)."""
    return db.scalar(select(PushDelivery.attempts).where(PushDelivery.id == delivery_id)) or 1


def _backoff(db: Session, delivery_id: int) -> timedelta:
    """60 s × 2^attempts: how long a retryable answer waits before the next try."""
    return timedelta(seconds=BACKOFF_SECONDS * 2 ** _attempts(db, delivery_id))


def settle_from_chat_log(storage: Storage, now: datetime, *,
                         limit: int = CHECK_BATCH) -> dict[str, int]:
    """Settle customer-service deliveries whose call may have gone out (left `calling` by a
    dead sender, or answered by no answer or -1) once their check is due: the chat log shows
    the message → `sent`; it does not → `planned` again (or `failed` after MAX_ATTEMPTS calls).

    A row is written only if it is still the row that was looked up (`calling` under the same
    lease), so two senders settling at once, or a sender that came back, change nothing twice.
    A log that cannot be read settles nothing; a call older than CHECK_GIVE_UP is then given
    up on as `unknown` (WeChat's log is read a day at a time, and no one waits for longer).
    """
    counts: Counter[str] = Counter()
    now = as_utc(now)
    api = storage.wechat
    if api is None:
        return {}
    with storage.sessions() as db:
        found = db.execute(
            select(PushDelivery, PushRun, Push)
            .join(PushRun, PushRun.id == PushDelivery.run_id)
            .join(Push, Push.id == PushRun.push_id)
            .where(PushDelivery.state == CALLING, PushDelivery.channel == "custom",
                   PushDelivery.kf_account != "", PushDelivery.lease_until < now)
            .order_by(PushDelivery.called_at).limit(limit)).all()
        doubtful = [(d.id, d.run_id, as_utc(d.lease_until), d.attempts, d.error_code,
                     chat_log.Lookup(d.id, d.openid, d.kf_account, _copy(push, run, d.variant),
                                     as_utc(d.called_at or d.lease_until)))
                    for d, run, push in found]
    if not doubtful:
        return {}
    wall_now = datetime.now(UTC)
    try:
        sent = chat_log.delivered(api, [row[-1] for row in doubtful], wall_now)
    except chat_log.ChatLogUnavailable as error:
        with storage.sessions.begin() as db:
            for delivery_id, _, lease, _, _, lookup in doubtful:
                if wall_now - lookup.called_at > CHECK_GIVE_UP:
                    _settle(db, delivery_id, {"state": "unknown", "reason": LOG_UNREADABLE_REASON,
                                              "error": str(error)[:200], "lease_until": None},
                            (CALLING,), lease=lease)
                    counts["unknown"] += 1
        return dict(counts)
    with storage.sessions.begin() as db:
        for delivery_id, _, lease, attempts, code, _ in doubtful:
            if delivery_id in sent:
                values: dict[str, Any] = {"state": "sent", "sent_at": now, "lease_until": None,
                                          "reason": "", "error_code": None, "error": ""}
                counts["sent"] += 1
            elif attempts >= MAX_ATTEMPTS:
                values = {"state": "failed", "lease_until": None, "reason": ""}
                counts["failed"] += 1
            else:  # never reached WeChat: due again now (its back-off was the wait)
                values = {"state": "planned", "lease_until": None, "not_before": None,
                          "reason": "", "error_code": code}
                counts["resend"] += 1
            _settle(db, delivery_id, values, (CALLING,), lease=lease)
        _finish_runs(db, {row[1] for row in doubtful}, now)
    return dict(counts)


def _settle(db: Session, delivery_id: int, values: dict[str, Any],
            states: tuple[str, ...] = RECORDABLE, *, lease: datetime | None = None) -> None:
    """Write `values` on a row still in one of `states` (and, given `lease`, still held under
    it: the row has not been taken up again since it was read)."""
    where = [PushDelivery.id == delivery_id, PushDelivery.state.in_(states)]
    if lease is not None:
        where.append(PushDelivery.lease_until == lease)
    db.execute(update(PushDelivery)
               .where(*where)
               .values(**values)
               .execution_options(synchronize_session=False))


def _skip(db: Session, delivery_id: int, reason: str, counts: Counter[str], *,
          error: str = "") -> None:
    """Skip a claimed row at send time (it is never called)."""
    values: dict[str, Any] = {"state": "skipped", "reason": reason[:120], "lease_until": None}
    if error:
        values["error"] = error[:200]
    _settle(db, delivery_id, values, (CLAIMED,))
    counts["skipped"] += 1


def _fail(db: Session, delivery_id: int, code: int | None, message: str,
          counts: Counter[str], states: tuple[str, ...] = (CLAIMED,)) -> None:
    _settle(db, delivery_id, {"state": "failed", "error_code": code, "error": message[:200],
                              "lease_until": None}, states)
    counts["failed"] += 1


def _release(db: Session, delivery_id: int, counts: Counter[str], *,
             not_before: datetime | None = None) -> None:
    """Give a claimed row back, its attempt not counted (its push is paused, it waits for its
    group, the quiet hours or its copy's review); `not_before`: not before then."""
    values: dict[str, Any] = {"state": "planned", "lease_until": None,
                              "attempts": PushDelivery.attempts - 1}
    if not_before is not None:
        values["not_before"] = not_before
    _settle(db, delivery_id, values, (CLAIMED,))
    counts["released"] += 1


def _copy(push: Push, run: PushRun, variant: str) -> str:
    """The words this delivery sends: the announcement's, or its A/B variant's."""
    if run.kind == "announce":
        return push.announce_text or ""
    variants = push.variant_list()
    for item in variants:
        if item.get("key") == variant:
            return str(item.get("text") or "")
    return str(variants[0].get("text") or "") if variants else ""


def _finish_runs(db: Session, runs: Iterable[int], now: datetime) -> None:
    """A run with nothing planned, claimed or being sent left is done."""
    for run_id in runs:
        left = db.scalar(select(func.count()).select_from(PushDelivery).where(
            PushDelivery.run_id == run_id,
            PushDelivery.state.in_(("planned", CLAIMED, CALLING))))
        if not left:
            db.execute(update(PushRun)
                       .where(PushRun.id == run_id, PushRun.state.in_(LIVE_RUN_STATES))
                       .values(state="done", done_at=now)
                       .execution_options(synchronize_session=False))


def _cancel_planned(db: Session, now: datetime) -> set[int]:
    """Planned deliveries of a cancelled push or run are skipped; returns the runs touched."""
    dead_runs = (select(PushRun.id).join(Push, Push.id == PushRun.push_id)
                 .where(or_(Push.state == "cancelled", PushRun.state == "cancelled")))
    runs = set(db.scalars(select(PushDelivery.run_id).distinct().where(
        PushDelivery.state == "planned", PushDelivery.run_id.in_(dead_runs))))
    if runs:
        db.execute(update(PushDelivery)
                   .where(PushDelivery.state == "planned", PushDelivery.run_id.in_(runs))
                   .values(state="skipped", reason=CANCELLED_REASON)
                   .execution_options(synchronize_session=False))
    return runs


def send_due(storage: Storage, now: datetime | None = None, *, batch: int = 200,
             screen: Screen | None = None) -> dict[str, int]:
    """Claim and send until nothing is due (at most MAX_ROUNDS batches); returns counts.

    The scheduler's job (PUSH_WORKERS=inline) and the RQ job (campaigns/queue.py) both call
    this; any number of them may run at once.
    """
    totals: Counter[str] = Counter()
    if storage.wechat is None:
        log.debug("pushes not sent: the WeChat API is not configured")
        return {}
    screen = screen or _live_screen(storage)
    totals.update(settle_from_chat_log(storage, as_utc(now or datetime.now(UTC))))
    for _ in range(MAX_ROUNDS):
        at = as_utc(now or datetime.now(UTC))
        with storage.sessions.begin() as db:
            cancelled = _cancel_planned(db, at)
            _finish_runs(db, cancelled, at)
            probes = _probe_dead_notices(db, at, planner.push_template_id(storage.settings))
            if probes:
                totals["probe"] += probes
            ids = claim(db, at, limit=batch)
            _finish_runs(db, _stale_runs(db, at), at)
        if not ids:
            break
        totals.update(send_batch(storage, ids, at, screen=screen))
    if any(totals.values()):
        log.info("push deliveries: %s", dict(totals))
    return dict(totals)


def _probe_dead_notices(db: Session, now: datetime, template_id: str | None) -> int:
    """Subscription notices a dead sender left `calling`, whose customer has no opt-in left
    for the template: due again now as probes (PROBE_REASON), since WeChat refuses a notice
    without an opt-in (43101) and so a second copy cannot reach them. The rest are left to
    `claim`, which marks them `unknown`. Returns how many became probes."""
    if not template_id:
        return 0
    dead = db.execute(select(PushDelivery.id, PushDelivery.openid, PushDelivery.lease_until)
                      .where(PushDelivery.state == CALLING, PushDelivery.channel == "subscribe",
                             PushDelivery.lease_until < now,
                             PushDelivery.attempts < MAX_ATTEMPTS)).all()
    probes = 0
    for delivery_id, openid, lease in dead:
        if _has_opt_in(db, openid, template_id):
            continue
        _settle(db, delivery_id, {"state": "planned", "lease_until": None, "not_before": None,
                                  "error_code": LOOK_UP_CODE, "reason": PROBE_REASON},
                (CALLING,), lease=as_utc(lease) if lease is not None else None)
        probes += 1
    return probes


def _stale_runs(db: Session, now: datetime) -> set[int]:
    """Runs still `sending` whose last deliveries claim() just marked unknown."""
    return set(db.scalars(select(PushRun.id).where(PushRun.state == "sending")))


#: The live content rules per process, made on first use (sessionmaker id →).
_rules: dict[int, Any] = {}


def _live_screen(storage: Storage) -> Screen:
    """push_rules.copy_may_go on this process's live rules (content_audit.rulestore).

    The rules are loaded here, outside any transaction: loading them may write (the shipped
    rule set, on first use), which on SQLite would wait for `_prepare`'s own transaction."""
    from content_audit.rulestore import LiveRules

    rules = _rules.get(id(storage.sessions))
    if rules is None:
        rules = _rules[id(storage.sessions)] = LiveRules(
            storage.sessions, storage.redis, background=False)

    def screen(db: Session, push: Push, text: str) -> str | None:
        return push_rules.copy_may_go(db, push, text, screener=rules.screener())

    return screen

