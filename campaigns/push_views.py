"""The manager's 推送 pages: every push with its state, review and next send; a new push
(with 预演 — who would get what, by which channel, who is skipped and why — before 创建);
one push with its runs, each run's delivery report and the conversion against the holdout;
pausing, resuming and cancelling; and a 14-day calendar of what goes out when.

The rules live in campaigns/push_rules.py (checking, creating, moving a push, its fire
times), the dry run in campaigns/planner.py, the arithmetic of conversion in
campaigns/conversion.py. These views turn form text into a draft, decide nothing themselves
and audit-log every change; the reports, next fire times and the calendar they show are
campaigns/push_reports.py's (the API and the CLI show the same).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from campaigns import conversion, planner, push_coupons, push_rules, segments, tags
from campaigns.push_reports import (
    CALENDAR_DAYS,
    MOVE_DONE,
    REVIEW_STATES,
    RUN_KINDS,
    RUN_STATES,
    RUNS_SHOWN,
    calendar_days,
    next_fire,
    reports,
    trigger_text,
)
from campaigns.pushes import (
    CHANNELS,
    DELIVERY_STATES,
    PUSH_STATES,
    TRIGGERS,
    Push,
    PushRun,
)
from campaigns.segments import LABELS, SEGMENTS, STRATEGIES, Segment
from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import console_blueprint
from content_audit import live_screener
from core.clock import SHANGHAI, as_utc, shanghai_text

bp = console_blueprint("campaign_pushes", __name__, "/admin/campaigns/pushes",
                       template_folder="templates")

#: Channels in a report's narrow cell (CHANNELS' labels carry their rules in brackets).
CHANNEL_SHORT = {"custom": "客服消息", "subscribe": "订阅通知", "mass": "群发"}
#: A segment nobody may be pushed to is not offered (流失: unfollowed).
PUSHABLE = tuple(s for s in SEGMENTS if s is not Segment.LOST)
TEXT_FIELDS = ("name", "segment", "variant_a", "variant_b", "trigger", "trigger_at", "cron",
               "trigger_days", "announce_days", "announce_text", "frequency_cap",
               "quiet_start", "quiet_end", "holdout_percent", "throttle_per_minute", "tag_id",
               "coupon_batch_id")
#: Copy may be long (a customer-service message takes 2048 bytes); other fields are short.
LONG_FIELDS = {"variant_a": 600, "variant_b": 600, "announce_text": 600}
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
_WHOLE = re.compile(r"^\d{1,6}$")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class FormError(ValueError):
    """A field that is not a number or a time; the message names it."""


def _now() -> datetime:
    return datetime.now(UTC)


def _page(template: str, **context: Any) -> str:
    return render_template(f"campaigns_pushes/{template}", shanghai_text=shanghai_text,
                           push_states=PUSH_STATES, review_states=REVIEW_STATES,
                           triggers=TRIGGERS, channels=CHANNELS, channel_short=CHANNEL_SHORT,
                           labels=LABELS,
                           run_kinds=RUN_KINDS, run_states=RUN_STATES,
                           delivery_states=DELIVERY_STATES, **context)


def _segment_label(key: str) -> str:
    try:
        return LABELS[Segment(key)]
    except ValueError:
        return key


# ---- the form's text as a draft ------------------------------------------------------------


def _defaults(now: datetime, segment: str = "") -> MultiDict:
    """A new form: tomorrow 10:00 Shanghai, all three channels, cap 2 a week, quiet
    22:00–08:00, 10% holdout; the segment's playbook copy when one is chosen."""
    tomorrow = as_utc(now).astimezone(SHANGHAI).replace(hour=10, minute=0, second=0,
                                                        microsecond=0) + timedelta(days=1)
    form = MultiDict({"trigger": "once", "trigger_at": tomorrow.strftime(LOCAL_FORMAT),
                      "cron": "0 10 * * 1", "trigger_days": "7", "announce_days": "0",
                      "frequency_cap": "2", "quiet_start": "22:00", "quiet_end": "08:00",
                      "holdout_percent": "10", "throttle_per_minute": "0"})
    form.setlist("channels", list(CHANNELS))
    try:
        chosen = Segment(segment)
    except ValueError:
        return form
    form["segment"] = chosen.value
    strategy = STRATEGIES.get(chosen)
    if strategy is not None:
        form["variant_a"] = strategy.copy
        form["name"] = f"{LABELS[chosen]}·{strategy.goal}"
    return form


def _form() -> MultiDict:
    form = MultiDict({name: request.form.get(name, "").strip()[:LONG_FIELDS.get(name, 100)]
                      for name in TEXT_FIELDS})
    form.setlist("channels", [c for c in request.form.getlist("channels") if c in CHANNELS])
    return form


def _whole(form: MultiDict, name: str, label: str) -> int:
    text = form.get(name, "")
    if not _WHOLE.match(text):
        raise FormError(f"{label}需为整数")
    return int(text)


def _time(form: MultiDict, name: str, label: str) -> datetime | None:
    """A Shanghai wall-clock time from the form, as aware UTC; None when left empty."""
    text = form.get(name, "")
    if not text:
        return None
    if not _LOCAL_TIME.match(text):
        raise FormError(f"{label}格式不对（北京时间，如 2026-03-02 10:00）")
    try:
        local = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise FormError(f"{label}不是有效的时间：{text}") from None
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC)


def draft_from(form: MultiDict) -> Any:
    """The form as a push_rules.PushDraft; FormError names a field that is not a number or
    a time (everything else — empty copy, a bad cron, quiet hours — is check()'s to say)."""
    from campaigns import push_rules

    trigger = form.get("trigger", "once")
    variants = [form.get("variant_a", "")]
    if form.get("variant_b", ""):
        variants.append(form["variant_b"])
    return push_rules.PushDraft(
        name=form.get("name", ""), segment=form.get("segment", ""), variants=variants,
        channels=form.getlist("channels"), trigger=trigger,
        trigger_at=_time(form, "trigger_at", "发送时间") if trigger == "once" else None,
        cron=form.get("cron", "") if trigger == "cron" else "",
        trigger_days=(_whole(form, "trigger_days", "天数")
                      if trigger in ("after_first_order", "inactive") else 0),
        announce_days=_whole(form, "announce_days", "提前预告天数"),
        announce_text=form.get("announce_text", ""),
        frequency_cap=_whole(form, "frequency_cap", "频次上限"),
        quiet_start=form.get("quiet_start", ""), quiet_end=form.get("quiet_end", ""),
        holdout_percent=_whole(form, "holdout_percent", "对照组比例"),
        throttle_per_minute=_whole(form, "throttle_per_minute", "每分钟发送上限"),
        tag_id=_whole(form, "tag_id", "标签") if form.get("tag_id", "") else None,
        coupon_batch_id=(_whole(form, "coupon_batch_id", "优惠券")
                         if form.get("coupon_batch_id", "") else None))


def _coupon_hint(segment: str) -> str:
    """The playbook's coupon for this segment's starting push, as the form's hint."""
    try:
        return push_coupons.HINTS.get(Segment(segment), "")
    except ValueError:
        return ""


def _thresholds() -> segments.Thresholds:
    return segments.thresholds_from(current_app.config)


def _segment_counts(db: Session, now: datetime) -> dict[Segment, int]:
    return segments.counts(db, now, _thresholds())


def _template_id() -> str | None:
    """PUSH_TEMPLATE_ID: the subscription template a push's dry run may plan to spend."""
    return planner.push_template_id(current_app.config)


def _form_page(form: MultiDict, *, errors: list[str] | None = None,
               warnings: list[str] | None = None, dry: Any = None,
               status: int | None = None,
               counts: dict[Segment, int] | None = None) -> tuple[str, int]:
    """The form filled in as sent; 400 when it carries errors, unless said otherwise.
    `counts`: the segment counts this request already computed."""
    db, now = get_db(), _now()
    if counts is None:
        counts = _segment_counts(db, now)
    page = _page("form.html", form=form, errors=errors or [], warnings=warnings or [],
                 dry=dry, segments=PUSHABLE, counts=counts, strategies=STRATEGIES,
                 tags=tags.all_tags(db), coupons=push_coupons.live_batches(db, now),
                 coupon_hint=_coupon_hint(form.get("segment", "")))
    return page, status if status is not None else (400 if errors else 200)


# ---- the list and the next fire times ------------------------------------------------------


@bp.get("")
@requires("campaigns")
def list_pushes():
    """Every push, newest first, with its state, the content gate's word and next send."""
    db, now = get_db(), _now()
    pushes = list(db.scalars(select(Push).order_by(Push.id.desc())))
    nexts = {p.id: next_fire(p, now) for p in pushes}
    return _page("list.html", pushes=pushes, nexts=nexts, trigger_text=trigger_text,
                 segment_label=_segment_label,
                 notice=request.args.get("notice", ""), error=request.args.get("error", ""))


# ---- creating, with a dry run --------------------------------------------------------------


@bp.get("/new")
@requires("campaigns")
def new_push():
    """An empty push form; ?segment=dormant starts from that segment's playbook copy."""
    return _form_page(_defaults(_now(), request.args.get("segment", "")))


@bp.post("/new")
@requires("campaigns")
def create_push():
    """「预演」 shows who would get what and who is skipped (nothing is written); 「创建」
    stores the push, or brings the form back filled in with check()'s errors and warnings.
    Every customer is classified once per request: the segment counts feed check(), create()
    (which reuses check()'s verdict) and the form."""
    db, now = get_db(), _now()
    form = _form()
    try:
        draft = draft_from(form)
    except FormError as error:
        return _form_page(form, errors=[str(error)])
    screener = live_screener()
    counts = _segment_counts(db, now)
    checked = push_rules.check(db, draft, now, screener=screener, segment_counts=counts,
                               thresholds=_thresholds(), template_id=_template_id())
    if request.form.get("action") == "preview":
        return _dry_run(form, draft, checked, now, counts)
    if checked.errors:
        return _form_page(form, errors=checked.errors, warnings=checked.warnings,
                          counts=counts)
    try:
        push = push_rules.create(db, draft, now, screener=screener,
                                 author=current_account().username, checked=checked)
    except push_rules.PushError as error:
        db.rollback()
        return _form_page(form, errors=error.errors, warnings=checked.warnings,
                          counts=counts)
    audit_log.record(db, "campaigns.push_create", actor=current_account(),
                     target=f"push:{push.id}", **push_rules.audit_fields(push),
                     address=client_address())
    db.commit()
    notice = f"已创建推送「{push.name}」"
    if checked.warnings:
        notice += "。请注意：" + "；".join(checked.warnings)
    return redirect(url_for("campaign_pushes.show_push", push_id=push.id, notice=notice))


def _dry_run(form: MultiDict, draft: Any, checked: Any, now: datetime,
             counts: dict[Segment, int] | None = None) -> tuple[str, int]:
    """The planner's dry run of the draft beside check()'s verdict: a refused draft still
    shows who it would reach, so the manager sees the whole picture at once. A draft the
    planner cannot plan (days beyond any calendar, a refused rule) shows why, never a 500."""
    db = get_db()
    try:
        dry = planner.dry_run(db, draft, now, sample=50, thresholds=_thresholds(),
                              template_id=_template_id())
    except (ValueError, OverflowError) as error:  # push_rules.PushError is a ValueError
        db.rollback()
        why = f"无法预演：{error}" if isinstance(error, ValueError) else "无法预演：天数过大"
        return _form_page(form, errors=[*checked.errors, why],
                          warnings=checked.warnings, status=200, counts=counts)
    db.rollback()  # a dry run writes nothing
    return _form_page(form, errors=checked.errors, warnings=checked.warnings, dry=dry,
                      status=200, counts=counts)


@bp.get("/<int:push_id>/dry-run")
@requires("campaigns")
def dry_run_push(push_id: int):
    """The same dry run for a stored push, at its next fire time (now when it has none)."""
    db = get_db()
    push = get_or_404(Push, push_id)
    try:
        dry = planner.dry_run(db, push, _now(), sample=50, thresholds=_thresholds(),
                              template_id=_template_id())
    except (ValueError, OverflowError) as error:
        db.rollback()
        why = str(error) if isinstance(error, ValueError) else "天数过大，无法计算发送时间"
        return redirect(url_for("campaign_pushes.show_push", push_id=push_id,
                                error=f"无法预演：{why}"))
    db.rollback()
    return _page("dry_run.html", push=push, dry=dry, segment_label=_segment_label,
                 tag_label=tags.label(db, push.tag_id),
                 coupon_label=push_coupons.batch_label(db, push.coupon_batch_id))


# ---- one push: runs, delivery reports, conversion -------------------------------------------


@bp.get("/<int:push_id>")
@requires("campaigns")
def show_push(push_id: int):
    """One push: its settings, its runs (newest first) with each run's delivery report and
    conversion, the conversion of all its runs together, and the moves its state allows."""
    db, now = get_db(), _now()
    push = get_or_404(Push, push_id)
    runs = list(db.scalars(select(PushRun).where(PushRun.push_id == push_id)
                           .order_by(PushRun.fire_at.desc(), PushRun.kind)
                           .limit(RUNS_SHOWN)))
    by_run = reports(db, [run.id for run in runs])
    converted = conversion.for_runs(
        db, [run.id for run in runs if run.kind == "main" and by_run.get(run.id)], now)
    overall = conversion.for_push(db, push_id, now)
    upcoming = next_fire(push, now)
    return _page("push.html", push=push, runs=runs, reports=by_run, converted=converted,
                 overall=overall, main_runs=sum(run.kind == "main" for run in runs),
                 tag_label=tags.label(db, push.tag_id),
                 coupon_label=push_coupons.batch_label(db, push.coupon_batch_id),
                 coupon_figures=push_coupons.push_usage(db, push_id),
                 upcoming=upcoming, trigger_text=trigger_text,
                 segment_label=_segment_label, window_days=conversion.WINDOW.days,
                 min_sample=conversion.MIN_SAMPLE,
                 notice=request.args.get("notice", ""), error=request.args.get("error", ""))


@bp.post("/<int:push_id>/<any(pause, resume, cancel):move>")
@requires("campaigns")
def move_push(push_id: int, move: str):
    """暂停 / 恢复 / 取消 (cancelled is final), each audit-logged."""
    db = get_db()
    get_or_404(Push, push_id)
    try:
        push = getattr(push_rules, move)(db, push_id, _now())
    except push_rules.PushError as error:
        db.rollback()
        return redirect(url_for("campaign_pushes.show_push", push_id=push_id,
                                error="；".join(error.errors)))
    audit_log.record(db, f"campaigns.push_{move}", actor=current_account(),
                     target=f"push:{push_id}", name=push.name, state=push.state,
                     address=client_address())
    db.commit()
    return redirect(url_for("campaign_pushes.show_push", push_id=push_id,
                            notice=f"「{push.name}」{MOVE_DONE[move]}"))


# ---- the calendar --------------------------------------------------------------------------


@bp.get("/calendar")
@requires("campaigns")
def calendar():
    """The next 14 days, Shanghai time: which scheduled push goes out when."""
    days = calendar_days(get_db(), _now())
    return _page("calendar.html", days=days, segment_label=_segment_label,
                 total=sum(len(d.entries) for d in days), calendar_days=CALENDAR_DAYS)
