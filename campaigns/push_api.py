"""/api/v1/campaigns: the 客群 and 推送 consoles' data and actions for scripts.

Authenticated as every /api/v1 blueprint is (console/api.py): a bearer token whose account's
role has the "campaigns" permission; cookies are ignored, so no CSRF token is needed. Every
change is audit-logged with via="api"; errors are JSON with a Chinese `message` (400 for bad
input, with the full `errors` list where there can be several; 404 for an unknown segment or
push; 409 for a move the push's state does not allow).

Times are ISO 8601: answers in UTC, a draft's `trigger_at` with its offset
(2026-12-05T10:00:00+08:00). Openids are cut to 6 characters (campaigns.segments.mask), as
the console shows them. The rules are push_rules.py's and the reports push_reports.py's: this
module only turns JSON into a draft and answers into JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from sqlalchemy import select

from campaigns import conversion, planner, push_coupons, push_reports, push_rules, segments, tags
from campaigns.pushes import PUSH_STATES, Push, PushRun
from campaigns.segments import LABELS, SEGMENTS, STRATEGIES, Segment
from console import api, audit_log
from console.auth import client_address, get_db
from content_audit import live_screener
from core.clock import as_utc

api_bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1/campaigns")

#: A page of a segment's members: 50 unless said, at most this many.
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
#: An offset beyond this is a typo, not a page (each page costs a classification pass).
MAX_OFFSET = 1_000_000
#: The calendar covers 14 days unless said, at most this many.
MAX_CALENDAR_DAYS = 92
#: Rows of a dry run's sample in the answer.
DRY_RUN_SAMPLE = 50
#: A draft's fields as JSON carries them (PushDraft's), each with the console form's label.
TEXT_FIELDS = {"name": "推送名称", "segment": "客群", "trigger": "触发方式", "cron": "cron表达式",
               "announce_text": "预告文案", "quiet_start": "免打扰开始时间",
               "quiet_end": "免打扰结束时间"}
WHOLE_FIELDS = {"trigger_days": "天数", "announce_days": "提前预告天数",
                "frequency_cap": "频次上限", "holdout_percent": "对照组比例",
                "throttle_per_minute": "每分钟发送上限"}
LIST_FIELDS = {"variants": "推送文案", "channels": "发送渠道"}
DRAFT_FIELDS = (*TEXT_FIELDS, *WHOLE_FIELDS, *LIST_FIELDS, "trigger_at", "tag_id",
                "coupon_batch_id")
#: Longest text a field may carry (copy may be long; a customer-service message is 2048 bytes).
MAX_TEXT = 600


class DraftError(ValueError):
    """A JSON field of the wrong kind; the message names it (Chinese)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _thresholds() -> segments.Thresholds:
    return segments.thresholds_from(current_app.config)


def _template_id() -> str | None:
    """PUSH_TEMPLATE_ID: the subscription template a dry run may plan to spend."""
    return planner.push_template_id(current_app.config)


def _segment_label(key: str) -> str:
    try:
        return LABELS[Segment(key)]
    except ValueError:
        return key


def _when(at: datetime | None) -> str | None:
    return as_utc(at).isoformat() if at is not None else None


def _invalid(errors: list[str], **extra: Any) -> Response:
    """400 with every problem: `message` joins them, `errors` lists them."""
    response = jsonify({"error": "invalid", "message": "；".join(errors), "errors": errors,
                        **extra})
    response.status_code = 400
    return response


def _no_push() -> Response:
    return api.api_error(404, "not_found", "没有这个推送")


def _json_body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _whole_arg(name: str, default: int, low: int, high: int) -> int:
    """A query argument that must be a whole number in [low, high]; DraftError otherwise."""
    text = request.args.get(name, str(default)).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise DraftError(f"{name} 需为 {low}–{high} 的整数")
    return int(text)


@api_bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# ---- segments ------------------------------------------------------------------------------


@api_bp.get("/segments")
@api.requires("campaigns")
def api_segments() -> Response:
    """Every lifecycle segment with how many customers it holds now, and its playbook."""
    found = segments.counts(get_db(), _now(), _thresholds())
    answer = []
    for segment in SEGMENTS:
        strategy = STRATEGIES.get(segment)
        answer.append({
            "key": segment.value, "label": LABELS[segment], "count": found.get(segment, 0),
            "strategy": None if strategy is None else {
                "offers": list(strategy.offers), "goal": strategy.goal, "copy": strategy.copy},
        })
    return jsonify({"segments": answer, "total": sum(found.values())})


def _member_json(member: segments.Member) -> dict[str, Any]:
    rfm = member.rfm
    return {
        "openid": member.masked, "segment": member.segment.value, "reason": member.reason,
        "rfm": {"recency": rfm.recency, "frequency": rfm.frequency, "monetary": rfm.monetary,
                "text": rfm.text, "days_since_paid": rfm.days_since_paid,
                "paid_orders": rfm.paid_orders, "spend_fen": rfm.spend_fen},
        "tier": member.tier, "flags": list(member.flags), "tags": list(member.tags),
        "channel": {"kind": member.channel.kind, "text": member.channel.text},
    }


@api_bp.get("/segments/<key>")
@api.requires("campaigns")
def api_segment_members(key: str) -> Response:
    """A page of a segment's members (`limit` 1–200, 50 unless said; `offset`), by openid,
    each with why they are there, RFM, tier and the channel that reaches them now."""
    try:
        segment = Segment(key)
    except ValueError:
        return api.api_error(404, "not_found", "没有这个客群")
    try:
        limit = _whole_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _whole_arg("offset", 0, 0, MAX_OFFSET)
    except DraftError as error:
        return api.api_error(400, "invalid", str(error))
    found = segments.members(get_db(), segment, _now(), limit=limit + 1, offset=offset,
                             thresholds=_thresholds())
    return jsonify({"segment": segment.value, "label": LABELS[segment], "limit": limit,
                    "offset": offset, "has_more": len(found) > limit,
                    "members": [_member_json(m) for m in found[:limit]]})


# ---- pushes --------------------------------------------------------------------------------


def _coupon_json(push: Push) -> dict[str, Any] | None:
    """The batch the push carries in words, and its coupons issued and used so far."""
    if push.coupon_batch_id is None:
        return None
    db = get_db()
    figures = push_coupons.push_usage(db, push.id)
    return {"batch_id": push.coupon_batch_id,
            "text": push_coupons.batch_label(db, push.coupon_batch_id),
            "issued": figures.issued, "used": figures.used, "figures_text": figures.text}


def _push_json(push: Push, now: datetime) -> dict[str, Any]:
    return {
        "id": push.id, "name": push.name, "segment": push.segment,
        "segment_label": _segment_label(push.segment),
        "tag_id": push.tag_id, "tag": tags.label(get_db(), push.tag_id),
        "coupon_batch_id": push.coupon_batch_id, "coupon": _coupon_json(push),
        "variants": push.variant_list(), "channels": push.channel_list(),
        "trigger": push.trigger, "trigger_text": push_reports.trigger_text(push),
        "trigger_at": _when(push.trigger_at), "cron": push.cron,
        "trigger_days": push.trigger_days, "announce_days": push.announce_days,
        "announce_text": push.announce_text, "frequency_cap": push.frequency_cap,
        "quiet_start": push.quiet_start, "quiet_end": push.quiet_end,
        "holdout_percent": push.holdout_percent,
        "throttle_per_minute": push.throttle_per_minute,
        "state": push.state, "state_text": PUSH_STATES.get(push.state, push.state),
        "review": push.review,
        "review_text": push_reports.REVIEW_STATES.get(push.review, push.review),
        "review_note": push.review_note, "created_by": push.created_by,
        "created_at": _when(push.created_at), "updated_at": _when(push.updated_at),
        "next_fire": _when(push_reports.next_fire(push, now)),
    }


@api_bp.get("/pushes")
@api.requires("campaigns")
def api_pushes() -> Response:
    """Every push, newest first, with its state, review and next send."""
    now = _now()
    pushes = get_db().scalars(select(Push).order_by(Push.id.desc()))
    return jsonify({"pushes": [_push_json(push, now) for push in pushes]})


def _text(body: dict[str, Any], name: str, label: str, default: str) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise DraftError(f"{label}需为文字（{name}）")
    return value.strip()[:MAX_TEXT]


def _whole(body: dict[str, Any], name: str, label: str, default: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise DraftError(f"{label}需为整数（{name}）")
    return value


def _texts(body: dict[str, Any], name: str, label: str, default: list[str]) -> list[str]:
    value = body.get(name, default)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DraftError(f"{label}需为文字列表（{name}）")
    return [item.strip()[:MAX_TEXT] for item in value]


def _trigger_at(body: dict[str, Any]) -> datetime | None:
    """An ISO 8601 time with its offset (2026-12-05T10:00:00+08:00), as aware UTC."""
    value = body.get("trigger_at")
    if value is None or value == "":
        return None
    example = "发送时间需为带时区的 ISO 8601 时间，如 2026-12-05T10:00:00+08:00（trigger_at）"
    if not isinstance(value, str):
        raise DraftError(example)
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise DraftError(example) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise DraftError(example)
    return at.astimezone(UTC)


def _tag_id(body: dict[str, Any]) -> int | None:
    """`tag_id`: a synced WeChat tag's id, or null/absent for the whole segment."""
    value = body.get("tag_id")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DraftError("标签需为整数（tag_id），不限标签时省略或填 null")
    return value


def _coupon_batch_id(body: dict[str, Any]) -> int | None:
    """`coupon_batch_id`: a coupon batch each recipient is given one copy of, or null/absent
    for copy only."""
    value = body.get("coupon_batch_id")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DraftError("优惠券批次需为整数（coupon_batch_id），不发券时省略或填 null")
    return value


def draft_from_json(body: dict[str, Any]) -> push_rules.PushDraft:
    """The JSON as a PushDraft (PushDraft's defaults for fields left out); DraftError names
    a field that is unknown or of the wrong kind. Everything else — empty copy, a bad cron,
    quiet hours, a 100% holdout — is push_rules.check's to say."""
    unknown = sorted(name for name in body if name not in DRAFT_FIELDS)
    if unknown:
        raise DraftError(f"未知的字段：{', '.join(unknown)}")
    defaults = push_rules.PushDraft(name="", segment="", variants=[])
    text = {name: _text(body, name, label, getattr(defaults, name))
            for name, label in TEXT_FIELDS.items()}
    whole = {name: _whole(body, name, label, getattr(defaults, name))
             for name, label in WHOLE_FIELDS.items()}
    lists = {name: _texts(body, name, label, getattr(defaults, name))
             for name, label in LIST_FIELDS.items()}
    trigger = text["trigger"] or defaults.trigger
    # As the console's form: only the trigger's own setting is kept.
    return push_rules.PushDraft(
        name=text["name"], segment=text["segment"],
        variants=lists["variants"],
        channels=lists["channels"], trigger=trigger,
        trigger_at=_trigger_at(body) if trigger == "once" else None,
        cron=text["cron"] if trigger == "cron" else "",
        trigger_days=whole["trigger_days"] if trigger in ("after_first_order", "inactive")
        else 0,
        announce_days=whole["announce_days"], announce_text=text["announce_text"],
        frequency_cap=whole["frequency_cap"], quiet_start=text["quiet_start"],
        quiet_end=text["quiet_end"], holdout_percent=whole["holdout_percent"],
        throttle_per_minute=whole["throttle_per_minute"], tag_id=_tag_id(body),
        coupon_batch_id=_coupon_batch_id(body))


def _draft() -> push_rules.PushDraft | Response:
    body = _json_body()
    if body is None:
        return _invalid(["请发送 JSON 对象（推送的各项设置）"])
    try:
        return draft_from_json(body)
    except DraftError as error:
        return _invalid([str(error)])


@api_bp.post("/pushes")
@api.requires("campaigns")
def api_create_push() -> Response:
    """A new push from JSON (PushDraft's fields): 201 with it and check()'s warnings; 400
    with every error (and the warnings) when it is refused."""
    draft = _draft()
    if isinstance(draft, Response):
        return draft
    db, now, actor = get_db(), _now(), g.api_account
    screener = live_screener()
    checked = push_rules.check(db, draft, now, screener=screener, thresholds=_thresholds(),
                               template_id=_template_id())
    if checked.errors:
        return _invalid(checked.errors, warnings=checked.warnings)
    try:
        push = push_rules.create(db, draft, now, screener=screener, author=actor.username,
                                 checked=checked)  # one classification per request
    except push_rules.PushError as error:
        db.rollback()
        return _invalid(error.errors, warnings=checked.warnings)
    audit_log.record(db, "campaigns.push_create", actor=actor,
                     target=f"push:{push.id}", **push_rules.audit_fields(push),
                     address=client_address(), via="api")
    db.commit()
    response = jsonify({**_push_json(push, now), "warnings": checked.warnings})
    response.status_code = 201
    response.headers["Location"] = url_for("campaign_api.api_push", push_id=push.id)
    return response


@api_bp.post("/pushes/dry-run")
@api.requires("campaigns")
def api_dry_run() -> Response:
    """Who the draft would reach at its next fire, by which channel, who is skipped and
    why — beside check()'s errors and warnings (`ok` false: create would refuse it).
    Writes nothing; 400 only when the JSON is not a draft or cannot be planned at all."""
    draft = _draft()
    if isinstance(draft, Response):
        return draft
    db, now = get_db(), _now()
    checked = push_rules.check(db, draft, now, screener=live_screener(),
                               thresholds=_thresholds(), template_id=_template_id())
    try:
        dry = planner.dry_run(db, draft, now, sample=DRY_RUN_SAMPLE, thresholds=_thresholds(),
                              template_id=_template_id())
    except (ValueError, OverflowError) as error:  # PushError included: a draft it cannot plan
        db.rollback()
        why = f"无法预演：{error}" if isinstance(error, ValueError) else "无法预演：天数过大"
        return _invalid([*checked.errors, why], warnings=checked.warnings)
    db.rollback()  # a dry run writes nothing
    return jsonify({
        "ok": checked.ok, "errors": checked.errors, "warnings": checked.warnings,
        "review": checked.review, "fire_at": _when(dry.fire_at), "total": dry.total,
        "tag_id": draft.tag_id, "tag": dry.tag,
        "planned": dry.counts.get("planned", 0), "holdout": dry.holdout,
        "skipped_total": dry.skipped_total, "by_channel": dry.by_channel,
        "by_variant": dry.by_variant, "skipped": dry.skipped,
        "sample": [{"openid": row.openid, "state": row.state, "variant": row.variant,
                    "channel": row.channel, "reason": row.reason, "text": row.text}
                   for row in dry.sample],
    })


def _report_json(report: push_reports.Report) -> dict[str, Any]:
    return {
        "total": report.total, "planned": report.planned, "sending": report.sending,
        "sent": report.sent, "holdout": report.holdout, "unknown": report.unknown,
        "skipped": report.skipped, "skipped_total": sum(report.skipped.values()),
        "failed": [{"code": code, "error": report.failed_text.get(code, ""), "count": count}
                   for code, count in sorted(report.failed.items(),
                                             key=lambda item: (item[0] is None, item[0] or 0))],
        "failed_total": sum(report.failed.values()), "by_channel": report.by_channel,
        "coupons_issued": report.coupons.issued, "coupons_used": report.coupons.used,
    }


def _group_json(group: conversion.Group) -> dict[str, Any]:
    low, high = group.wilson()
    return {"label": group.label, "recipients": group.recipients,
            "converters": group.converters, "rate": group.rate, "low": low, "high": high,
            "open": group.open}


def _conversion_json(found: conversion.Conversion) -> dict[str, Any]:
    return {"window_days": conversion.WINDOW.days, "min_sample": conversion.MIN_SAMPLE,
            "variants": [_group_json(group) for group in found.variants],
            "holdout": _group_json(found.holdout), "sentences": found.sentences,
            "open": found.open}


@api_bp.get("/pushes/<int:push_id>")
@api.requires("campaigns")
def api_push(push_id: int) -> Response:
    """One push, its runs (the newest 30) each with its delivery report (and, for a main
    run that has deliveries, its conversion), and the conversion of all its main runs with
    the verdict sentences."""
    db, now = get_db(), _now()
    push = db.get(Push, push_id)
    if push is None:
        return _no_push()
    runs = list(db.scalars(select(PushRun).where(PushRun.push_id == push_id)
                           .order_by(PushRun.fire_at.desc(), PushRun.kind)
                           .limit(push_reports.RUNS_SHOWN)))
    by_run = push_reports.reports(db, [run.id for run in runs])
    answer_runs = []
    for run in runs:
        report = by_run.get(run.id)
        answer_runs.append({
            "id": run.id, "kind": run.kind,
            "kind_text": push_reports.RUN_KINDS.get(run.kind, run.kind),
            "fire_at": _when(run.fire_at), "state": run.state,
            "state_text": push_reports.RUN_STATES.get(run.state, run.state), "note": run.note,
            "planned_at": _when(run.planned_at), "done_at": _when(run.done_at),
            "report": _report_json(report or push_reports.Report()),
            "conversion": (_conversion_json(conversion.for_run(db, run.id, now))
                           if run.kind == "main" and report else None),
        })
    return jsonify({**_push_json(push, now), "runs": answer_runs,
                    "conversion": _conversion_json(conversion.for_push(db, push_id, now))})


@api_bp.post("/pushes/<int:push_id>/<any(pause, resume, cancel):move>")
@api.requires("campaigns")
def api_move_push(push_id: int, move: str) -> Response:
    """暂停 / 恢复 / 取消 (cancelled is final): 200 with the push, 409 with why its state
    does not allow the move."""
    db, now = get_db(), _now()
    if db.get(Push, push_id) is None:
        return _no_push()
    try:
        push = getattr(push_rules, move)(db, push_id, now)
    except push_rules.PushError as error:
        db.rollback()
        return api.api_error(409, "invalid_state", "；".join(error.errors))
    audit_log.record(db, f"campaigns.push_{move}", actor=g.api_account,
                     target=f"push:{push_id}", name=push.name, state=push.state,
                     address=client_address(), via="api")
    db.commit()
    return jsonify({**_push_json(push, now),
                    "message": f"「{push.name}」{push_reports.MOVE_DONE[move]}"})


# ---- the calendar --------------------------------------------------------------------------


@api_bp.get("/calendar")
@api.requires("campaigns")
def api_calendar() -> Response:
    """Today and the next days (`days`, 14 unless said), Shanghai: each scheduled push's
    sends in time order (`at` when it goes, `fire` when it was due: they differ when a fire
    in the quiet hours waits for their end)."""
    try:
        days = _whole_arg("days", push_reports.CALENDAR_DAYS, 1, MAX_CALENDAR_DAYS)
    except DraftError as error:
        return api.api_error(400, "invalid", str(error))
    calendar = push_reports.calendar_days(get_db(), _now(), days)
    return jsonify({"days": [
        {"day": day.day, "weekday": day.weekday, "entries": [
            {"at": _when(entry.at), "fire": _when(entry.fire), "deferred": entry.deferred,
             "kind": entry.kind, "kind_text": push_reports.RUN_KINDS.get(entry.kind, entry.kind),
             "push_id": entry.push.id, "name": entry.push.name,
             "segment": entry.push.segment,
             "segment_label": _segment_label(entry.push.segment)}
            for entry in day.entries]}
        for day in calendar], "total": sum(len(day.entries) for day in calendar)})

