"""/api/v1/audit: screening and the review queue for scripts, with the console's role checks."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, g, jsonify, request

from console import audit_log
from console.api import requires
from console.auth import get_db
from content_audit import exemptions, live_screener, review, rulestore
from content_audit.exemptions import ExemptionError
from content_audit.review import ReviewError, ReviewItem
from content_audit.ruleset import RuleError
from core.clock import as_utc

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


def _item_json(item: ReviewItem) -> dict:
    return {
        "id": item.id,
        "source": item.source,
        "source_ref": item.source_ref,
        "text": item.text,
        "version": item.version,
        "state": item.state,
        "verdict": item.verdict,
        "flags": item.flag_list,
        "ruleset_version": item.ruleset_version,
        "author": item.author,
        "reviewer": item.reviewer,
        "reason": item.reason,
    }


@bp.post("/check")
@requires("review")
def check() -> Response:
    """Screen a text (nothing is queued): {"text": ..., "scope": optional}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return _error(400, "bad_request", 'send {"text": "..."}')
    if len(body["text"]) > 20_000:
        return _error(413, "too_large", "at most 20000 characters")
    verdict = live_screener().screen(body["text"], body.get("scope"))
    return jsonify({"text": body["text"], **verdict.as_json()})


@bp.get("/queue")
@requires("review")
def queue() -> Response:
    items = review.queue(
        get_db(),
        state=request.args.get("state", "pending"),
        source=request.args.get("source", ""),
        category=request.args.get("category", ""),
    )
    return jsonify({"items": [_item_json(item) for item in items]})


def _act_on_item(item_id: int, usage: str, action) -> Response:
    """Read a JSON object, load the item, run `action(db, item, body)`; 409 when refused."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "bad_request", f"send {usage}")
    db = get_db()
    item = db.get(ReviewItem, item_id)
    if item is None:
        return _error(404, "not_found", "no such item")
    try:
        result = action(db, item, body)
    except ReviewError as error:
        db.rollback()
        return _error(409, "refused", str(error))
    db.commit()
    return jsonify(_item_json(result))


@bp.post("/items/<int:item_id>/decide")
@requires("review")
def decide(item_id: int) -> Response:
    """{"decision": "approved" | "rejected" | "changes_requested", "reason": "..."}"""
    return _act_on_item(
        item_id,
        '{"decision": ..., "reason": ...}',
        lambda db, item, body: review.decide(
            db, item, g.api_account.username, str(body.get("decision", "")),
            str(body.get("reason", "")),
        ),
    )


@bp.post("/items/<int:item_id>/edit")
@requires("review")
def edit_and_approve(item_id: int) -> Response:
    """{"text": "...", "reason": "..."}: a screened new version, approved if it may be."""

    def edit(db, item, body):
        text = str(body.get("text", "")).strip()
        return review.edit_and_approve(db, item, g.api_account.username, text,
                                       live_screener().screen(text), str(body.get("reason", "")))

    return _act_on_item(item_id, '{"text": ..., "reason": ...}', edit)


@bp.post("/bulk")
@requires("review")
def bulk_approve() -> Response:
    """{"ids": [...], "reason": "..."}: only items with identical hits."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        return _error(400, "bad_request", 'send {"ids": [...], "reason": ...}')
    db = get_db()
    ids = [i for i in body["ids"] if isinstance(i, int)]
    items = [item for item in (db.get(ReviewItem, i) for i in ids) if item is not None]
    if not items:
        return _error(400, "bad_request", "ids must name review items")
    try:
        result = review.bulk_approve(db, items, g.api_account.username,
                                     str(body.get("reason", "")))
    except ReviewError as error:
        db.rollback()
        return _error(409, "refused", str(error))
    db.commit()
    return jsonify({"approved": result.approved, "skipped": result.skipped})


@bp.get("/rules")
@requires("lexicon")
def list_rules() -> Response:
    ruleset = rulestore.latest(get_db())
    get_db().commit()
    return jsonify({"version": ruleset.version,
                    "rules": [rulestore.rule_to_dict(rule) for rule in ruleset.rules]})


@bp.put("/rules/<rule_id>")
@requires("lexicon")
def save_rule(rule_id: str) -> Response:
    """The rule as JSON (the fields of a rule in rules/adlaw.toml); saved as a new version."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "bad_request", "send the rule as a JSON object")
    db = get_db()
    before = rulestore.latest(db).by_id(rule_id)
    try:
        saved = rulestore.replace_rule(db, {**body, "id": rule_id},
                                       actor=g.api_account.username, note="via api")
    except RuleError as error:
        db.rollback()
        return _error(400, "invalid", str(error))
    audit_log.record(db, "audit.rule_saved", actor=g.api_account, target=rule_id,
                     version=saved.version, via="api",
                     before=rulestore.rule_to_dict(before) if before else None, after=body)
    db.commit()
    rulestore.announce(current_app.extensions["storage"].redis, saved.version)
    current_app.extensions["audit_rules"].load_now(saved.version)
    return jsonify({"version": saved.version})


@bp.get("/exemptions")
@requires("lexicon")
def list_exemptions() -> Response:
    return jsonify({"exemptions": [
        {"id": e.id, "rule_id": e.rule_id, "term": e.term, "source": e.source,
         "source_ref": e.source_ref, "note": e.note, "expires_at": as_utc(e.expires_at).isoformat(),
         "created_by": e.created_by, "revoked": e.revoked_at is not None}
        for e in exemptions.listing(get_db())
    ]})


@bp.post("/exemptions")
@requires("lexicon")
def grant_exemption() -> Response:
    """{"rule_id", "term", "source", "source_ref", "note", "expires_at": ISO 8601 with offset}"""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "bad_request", "send the exemption as a JSON object")
    db = get_db()
    try:
        expires = datetime.fromisoformat(str(body.get("expires_at", "")))
        if expires.tzinfo is None:
            raise ExemptionError("expires_at needs a UTC offset, e.g. 2027-06-30T23:59:59+08:00")
        exemption = exemptions.grant(
            db, rule_id=str(body.get("rule_id", "")), term=str(body.get("term", "")),
            source=str(body.get("source", "product")), source_ref=str(body.get("source_ref", "")),
            note=str(body.get("note", "")), expires_at=expires, actor=g.api_account.username,
        )
    except ValueError as error:
        db.rollback()
        return _error(400, "invalid", str(error))
    audit_log.record(db, "audit.exemption_granted", actor=g.api_account,
                     target=f"exemption:{exemption.id}", rule=exemption.rule_id,
                     term=exemption.term, note=exemption.note, via="api")
    db.commit()
    response = jsonify({"id": exemption.id})
    response.status_code = 201
    return response
