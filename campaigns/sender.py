"""Sending planned push deliveries exactly once, or, where WeChat makes that impossible, at most
once and saying so.

The planner (campaigns/planner.py) leaves PushDelivery rows `planned` with a channel. A sender
(an RQ worker, or the scheduler's thread with PUSH_WORKERS=inline; campaigns/queue.py):

1. claims a batch by one conditional UPDATE (planned → sending, a lease, attempts + 1), so two
   workers on any number of hosts never hold the same row (SQLite and PostgreSQL alike);
2. checks each claimed delivery again at send time, in one transaction: the push is still
   scheduled, the customer is not suppressed, the copy still passes the content gate
   (push_rules.copy_may_go), the channel is still open (48-hour window, an opt-in left, still
   following); for mass sends it writes the `clientmsgid` onto the rows before calling;
3. calls WeChat outside any transaction, then records each outcome in its own transaction.

What a crash between 2 and 3 leaves behind, and why it is handled so:

- **Mass sends** carry a `clientmsgid` derived from the run, variant and sorted openids, and
  written to the rows before the call. A resend with the same id within 24 h is refused by
  WeChat with 45065 (its own dedupe), so a mass delivery whose lease expired is claimed again
  and sent again with the *recorded* id and the *recorded* openid list: whichever of the two
  submissions reaches WeChat first is the only one delivered; 45065 counts as sent.
- **Customer-service messages and subscription notices** have no idempotency key at WeChat.
  A `sending` row whose lease expired may or may not have gone out, so it is never sent again:
  it becomes `unknown` (UNKNOWN_REASON). The same holds for a call that got no answer (a
  timeout, a dropped connection). A customer missing one push is the price of never getting
  two; the report counts these rows, and at most one claimed batch can end up so.
- WeChat's `-1` (system busy) means "not sent", so it is retried with back-off, as WeChat
  documents; the sandbox's "accepted, then failed" fault shows the one case where that is
  wrong for a customer-service message (a second copy), which WeChat gives us no way to tell.

"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from campaigns.pushes import Push, PushDelivery, PushRun, Suppression
from core.clock import SHANGHAI, as_utc, shanghai_text
from core.db import upsert
from core.storage import Storage
from shop.followers import Follower
from shop.notices import THING_MAX, NoticeOptIn, in_window

log = logging.getLogger(__name__)

LEASE_SECONDS = 120
MAX_ATTEMPTS = 5
#: Back-off after a retryable answer: 60 s × 2^attempts (WeChat asks ≥ 60 s after 45011).
BACKOFF_SECONDS = 60
#: Rounds of claim + send one `send_due` call makes at most (it is called again 15 s later).
MAX_ROUNDS = 50
MASS_MIN, MASS_MAX = 2, 10_000
#: Busy (-1), the minute quota (45011); for mass sends also "same clientmsgid retried too fast".
RETRY_CODES = {-1, 45011}
MASS_RETRY_CODES = RETRY_CODES | {45066}
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
UNKNOWN_REASON = "发送中断，结果未知，为避免重复不再补发"
NO_ANSWER_REASON = "微信未应答，结果未知，为避免重复不再补发"
CANCELLED_REASON = "推送已取消"

#: The content gate at send time: (db, push, text) → None when it may go, else why not.
Screen = Callable[[Session, Push, str], "str | None"]


def clientmsgid(run_id: int, variant: str, openids: Iterable[str]) -> str:
    """The mass send's idempotency key: the same batch retried gets the same id (≤ 64 bytes)."""
    digest = hashlib.sha1(",".join(sorted(openids)).encode()).hexdigest()[:16]
    return f"push{run_id}-{variant}-{digest}"


def _due(now: datetime) -> Any:
    """Rows a sender may take: planned and due, or a mass send whose sender's lease ran out."""
    return or_(
        and_(PushDelivery.state == "planned",
             or_(PushDelivery.not_before.is_(None), PushDelivery.not_before <= now)),
        and_(PushDelivery.state == "sending", PushDelivery.channel == "mass",
             PushDelivery.lease_until < now),
    )


def claim(db: Session, now: datetime, *, limit: int,
          lease_seconds: int = LEASE_SECONDS) -> list[int]:
    """Take up to `limit` due deliveries for this sender; returns their ids.

    First every customer-service or subscription delivery left `sending` past its lease
    becomes `unknown` (it may have gone out; see the module docstring). Then one UPDATE …
    WHERE <still due> RETURNING claims rows: a row another sender took in between no longer
    matches, so it is never claimed twice. PostgreSQL skips rows locked by another claim
    instead of waiting for them. Rows come ordered by run, channel and variant so one batch
    holds whole mass groups.
    """
    now = as_utc(now)
    db.execute(update(PushDelivery)
               .where(PushDelivery.state == "sending", PushDelivery.channel != "mass",
                      PushDelivery.lease_until < now)
               .values(state="unknown", reason=UNKNOWN_REASON, lease_until=None)
               .execution_options(synchronize_session=False))
    live_runs = (select(PushRun.id).join(Push, Push.id == PushRun.push_id)
                 .where(PushRun.state.in_(LIVE_RUN_STATES),
                        Push.state.in_(SENDING_PUSH_STATES)))
    pick = (select(PushDelivery.id)
            .where(_due(now), PushDelivery.run_id.in_(live_runs))
            .order_by(PushDelivery.run_id, PushDelivery.channel, PushDelivery.variant,
                      PushDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True))
    ids = list(db.scalars(
        update(PushDelivery)
        .where(PushDelivery.id.in_(pick), _due(now))
        .values(state="sending", lease_until=now + timedelta(seconds=lease_seconds),
                attempts=PushDelivery.attempts + 1)
        .returning(PushDelivery.id)
        .execution_options(synchronize_session=False)))
    if ids:
        db.execute(update(PushRun)
                   .where(PushRun.state == "planned",
                          PushRun.id.in_(select(PushDelivery.run_id)
                                         .where(PushDelivery.id.in_(ids))))
                   .values(state="sending")
                   .execution_options(synchronize_session=False))
    return sorted(ids)


@dataclass
class _Call:
    """One WeChat call and the deliveries it decides."""

    channel: str  # custom | subscribe | mass
    text: str
    ids: list[int]
    openids: list[str]
    run_id: int
    cid: str = ""
    #: Per delivery id: the channel to record (a lone mass recipient goes as custom).
    record_channel: dict[int, str] = field(default_factory=dict)


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


def send_batch(storage: Storage, ids: list[int], now: datetime, *,
               screen: Screen | None = None) -> dict[str, int]:
    """Send the claimed deliveries `ids`; returns counts by outcome.

    `screen` defaults to push_rules.copy_may_go on this process's live content rules.
    """
    counts: Counter[str] = Counter()
    if not ids:
        return {}
    now = as_utc(now)
    api = storage.wechat
    if api is None:
        raise RuntimeError("WeChat API not configured: pushes cannot be sent")
    screen = screen or _live_screen(storage)
    template_id = storage.settings.get("NOTICE_TEMPLATE_ID") or None
    with storage.sessions.begin() as db:
        calls, runs = _prepare(db, ids, now, screen, template_id, counts)
    for call in calls:
        outcome = _call(api, call, template_id, now)
        with storage.sessions.begin() as db:
            _record(db, call, outcome, now, counts)
    with storage.sessions.begin() as db:
        _finish_runs(db, runs, now)
    return dict(counts)


def _prepare(db: Session, ids: list[int], now: datetime, screen: Screen,
             template_id: str | None, counts: Counter[str]) -> tuple[list[_Call], set[int]]:
    """Check every claimed delivery again and turn those that may go into calls."""
    found = db.execute(
        select(PushDelivery, PushRun, Push)
        .join(PushRun, PushRun.id == PushDelivery.run_id)
        .join(Push, Push.id == PushRun.push_id)
        .where(PushDelivery.id.in_(ids), PushDelivery.state == "sending")
        .order_by(PushDelivery.id)).all()
    suppressed = set(db.scalars(select(Suppression.openid).where(
        Suppression.openid.in_([d.openid for d, _, _ in found]))))
    verdicts: dict[tuple[int, str], str | None] = {}
    calls: list[_Call] = []
    mass: dict[tuple[int, str, str], list[_Row]] = defaultdict(list)
    texts: dict[tuple[int, str], str] = {}
    runs: set[int] = set()
    for delivery, run, push in found:
        runs.add(run.id)
        if push.state not in (*SENDING_PUSH_STATES, "cancelled"):  # paused (or back to draft)
            _release(db, delivery.id)
            counts["released"] += 1
            continue
        if push.state == "cancelled" or run.state == "cancelled":
            _skip(db, delivery.id, CANCELLED_REASON, counts)
            continue
        if delivery.openid in suppressed:
            _skip(db, delivery.id, "已在屏蔽名单（微信曾拒绝发送给此用户）", counts)
            continue
        text = _copy(push, run, delivery.variant)
        if (push.id, text) not in verdicts:
            verdicts[(push.id, text)] = screen(db, push, text) if text.strip() else "文案为空"
        refusal = verdicts[(push.id, text)]
        if refusal:
            _skip(db, delivery.id, refusal, counts)
            continue
        row = _Row(delivery.id, run.id, delivery.openid, delivery.variant, delivery.channel,
                   delivery.attempts, delivery.error_code, delivery.clientmsgid)
        if row.channel == "custom":
            if not in_window(db, row.openid, now):
                _skip(db, row.id, "客服消息窗口已关闭（48小时内未互动）", counts)
                continue
            calls.append(_Call("custom", text, [row.id], [row.openid], run.id))
        elif row.channel == "subscribe":
            if not _spend_opt_in(db, row, template_id):
                _skip(db, row.id, "没有可用的订阅通知授权", counts)
                continue
            calls.append(_Call("subscribe", text, [row.id], [row.openid], run.id))
        elif row.channel == "mass":
            follower = db.get(Follower, row.openid)
            if follower is not None and not follower.subscribed and not row.cid:
                _skip(db, row.id, "已取消关注", counts)
                continue
            mass[(run.id, row.variant, row.cid)].append(row)
            texts[(run.id, row.variant)] = text
        else:
            _fail(db, row.id, None, f"unknown channel {row.channel!r}", counts)
    for (run_id, variant, cid), rows in mass.items():
        calls += _mass_calls(db, run_id, variant, cid, rows, texts[(run_id, variant)], now,
                             counts)
    return calls, runs


def _mass_calls(db: Session, run_id: int, variant: str, cid: str, rows: list[_Row], text: str,
                now: datetime, counts: Counter[str]) -> list[_Call]:
    """Mass sends for one run and variant, with their clientmsgid recorded before the call.

    Rows that already carry a clientmsgid (a retry, or a sender that died) are sent again with
    that id and the complete openid list it was made for, never a part of it: WeChat delivers
    the first submission of an id only, so a partial first one would lose the rest.
    """
    ids = [r.id for r in rows]
    if cid:
        group = list(db.scalars(select(PushDelivery.openid).where(
            PushDelivery.run_id == run_id, PushDelivery.clientmsgid == cid)))
        openids = sorted(set(group) | {r.openid for r in rows})
        return [_Call("mass", text, ids, openids, run_id, cid)]
    calls = []
    for start in range(0, len(rows), MASS_MAX):
        chunk = rows[start:start + MASS_MAX]
        if len(chunk) < MASS_MIN:
            lone = chunk[0]
            if _has_mass_peer(db, lone, now):
                _release(db, lone.id)  # goes out with the rest of its run in a later batch
                counts["released"] += 1
            elif in_window(db, lone.openid, now):
                calls.append(_Call("custom", text, [lone.id], [lone.openid], run_id,
                                   record_channel={lone.id: "custom"}))
            else:
                _skip(db, lone.id, "群发至少需两位收件人，且客服消息窗口已关闭", counts)
            continue
        openids = sorted(r.openid for r in chunk)
        new_cid = clientmsgid(run_id, variant, openids)
        db.execute(update(PushDelivery)
                   .where(PushDelivery.id.in_([r.id for r in chunk]))
                   .values(clientmsgid=new_cid)
                   .execution_options(synchronize_session=False))
        calls.append(_Call("mass", text, [r.id for r in chunk], openids, run_id, new_cid))
    return calls


def _has_mass_peer(db: Session, row: _Row, now: datetime) -> bool:
    """Whether another mass delivery of the same run and variant is planned and due."""
    return db.scalar(select(func.count()).select_from(PushDelivery).where(
        PushDelivery.run_id == row.run_id, PushDelivery.variant == row.variant,
        PushDelivery.channel == "mass", PushDelivery.id != row.id,
        PushDelivery.state == "planned",
        or_(PushDelivery.not_before.is_(None), PushDelivery.not_before <= now))) != 0


def _spend_opt_in(db: Session, row: _Row, template_id: str | None) -> bool:
    """Spend one opt-in, as shop/notices.py does, before the call. A retry after -1 (WeChat:
    not sent, so not spent there either) goes on the opt-in spent by the first attempt."""
    if not template_id:
        return False
    if row.attempts > 1 and row.error_code in RETRY_CODES:
        return True
    spent = db.execute(update(NoticeOptIn)
                       .where(NoticeOptIn.openid == row.openid,
                              NoticeOptIn.template_id == template_id,
                              NoticeOptIn.remaining > 0)
                       .values(remaining=NoticeOptIn.remaining - 1)
                       .execution_options(synchronize_session=False)).rowcount
    return spent == 1


@dataclass(frozen=True)
class _Outcome:
    """What WeChat answered: code 0 (accepted), an errcode, or None for no answer at all."""

    code: int | None
    message: str = ""


def _call(api: Any, call: _Call, template_id: str | None, now: datetime) -> _Outcome:
    try:
        if call.channel == "custom":
            api.send_text(call.openids[0], call.text)
        elif call.channel == "subscribe":
            api.send_subscribe_notice(call.openids[0], str(template_id),
                                      {"thing1": call.text[:THING_MAX],
                                       "time2": shanghai_text(now)})
        else:
            api.mass_send_text(call.openids, call.text, call.cid)
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


def _record(db: Session, call: _Call, outcome: _Outcome, now: datetime,
            counts: Counter[str]) -> None:
    """Write what WeChat said onto every delivery of the call (rows still ours only)."""
    code = outcome.code
    ids = call.ids
    if code == 0 or (call.channel == "mass" and code == MASS_DUPLICATE):
        for delivery_id in ids:
            values: dict[str, Any] = {"state": "sent", "sent_at": now, "lease_until": None,
                                      "error_code": None}
            if delivery_id in call.record_channel:
                values["channel"] = call.record_channel[delivery_id]
            _settle(db, delivery_id, values)
        counts["sent"] += len(ids)
        return
    if code is None:
        if call.channel == "mass":  # the clientmsgid makes a resend safe
            for delivery_id in ids:
                _retry(db, delivery_id, None, outcome.message, now, counts)
            return
        for delivery_id in ids:
            _settle(db, delivery_id, {"state": "unknown", "reason": NO_ANSWER_REASON,
                                      "error": outcome.message, "lease_until": None})
        counts["unknown"] += len(ids)
        return
    retryable = MASS_RETRY_CODES if call.channel == "mass" else RETRY_CODES
    if code in retryable:
        for delivery_id in ids:
            _retry(db, delivery_id, code, outcome.message, now, counts)
    elif code == DAILY_QUOTA:
        tomorrow = (now.astimezone(SHANGHAI) + timedelta(days=1)).replace(
            hour=0, minute=5, second=0, microsecond=0).astimezone(UTC)
        for delivery_id in ids:
            _settle(db, delivery_id, {"state": "planned", "lease_until": None,
                                      "not_before": tomorrow, "error_code": code,
                                      "attempts": PushDelivery.attempts - 1})
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
            _fail(db, delivery_id, code, outcome.message, counts)


def _retry(db: Session, delivery_id: int, code: int | None, message: str, now: datetime,
           counts: Counter[str]) -> None:
    """Back to planned after 60 s × 2^attempts, or failed after MAX_ATTEMPTS."""
    attempts = db.scalar(select(PushDelivery.attempts).where(PushDelivery.id == delivery_id))
    attempts = attempts or 1
    if attempts >= MAX_ATTEMPTS:
        _fail(db, delivery_id, code, message, counts)
        return
    values: dict[str, Any] = {
        "state": "planned", "lease_until": None, "error_code": code,
        "not_before": now + timedelta(seconds=BACKOFF_SECONDS * 2 ** attempts)}
    _settle(db, delivery_id, values)
    counts["retry"] += 1


def _settle(db: Session, delivery_id: int, values: dict[str, Any]) -> None:
    """Record an outcome on a row still `sending` (or `unknown`: a sender that outlived its
    lease knows better than the sender that gave up on it)."""
    db.execute(update(PushDelivery)
               .where(PushDelivery.id == delivery_id,
                      PushDelivery.state.in_(("sending", "unknown")))
               .values(**values)
               .execution_options(synchronize_session=False))


def _skip(db: Session, delivery_id: int, reason: str, counts: Counter[str]) -> None:
    _settle(db, delivery_id, {"state": "skipped", "reason": reason[:120], "lease_until": None})
    counts["skipped"] += 1


def _fail(db: Session, delivery_id: int, code: int | None, message: str,
          counts: Counter[str]) -> None:
    _settle(db, delivery_id, {"state": "failed", "error_code": code, "error": message[:200],
                              "lease_until": None})
    counts["failed"] += 1


def _release(db: Session, delivery_id: int) -> None:
    """Give a claimed row back untouched (its push is paused, or it waits for its group)."""
    _settle(db, delivery_id, {"state": "planned", "lease_until": None,
                              "attempts": PushDelivery.attempts - 1})


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
    """A run with nothing planned or sending left is done."""
    for run_id in runs:
        left = db.scalar(select(func.count()).select_from(PushDelivery).where(
            PushDelivery.run_id == run_id, PushDelivery.state.in_(("planned", "sending"))))
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
    for _ in range(MAX_ROUNDS):
        at = as_utc(now or datetime.now(UTC))
        with storage.sessions.begin() as db:
            cancelled = _cancel_planned(db, at)
            _finish_runs(db, cancelled, at)
            ids = claim(db, at, limit=batch)
            _finish_runs(db, _stale_runs(db, at), at)
        if not ids:
            break
        totals.update(send_batch(storage, ids, at, screen=screen))
    if any(totals.values()):
        log.info("push deliveries: %s", dict(totals))
    return dict(totals)


def _stale_runs(db: Session, now: datetime) -> set[int]:
    """Runs still `sending` whose last deliveries claim() just marked unknown."""
    return set(db.scalars(select(PushRun.id).where(PushRun.state == "sending")))


#: The live content rules per process, made on first use (sessionmaker id →).
_rules: dict[int, Any] = {}


def _live_screen(storage: Storage) -> Screen:
    """push_rules.copy_may_go on this process's live rules (content_audit.rulestore)."""
    from campaigns import push_rules
    from content_audit.rulestore import LiveRules

    def screen(db: Session, push: Push, text: str) -> str | None:
        rules = _rules.get(id(storage.sessions))
        if rules is None:
            rules = _rules[id(storage.sessions)] = LiveRules(
                storage.sessions, storage.redis, background=False)
        return push_rules.copy_may_go(db, push, text, screener=rules.screener())

    return screen

