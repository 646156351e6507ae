"""/api/v1/audit: screening and the review queue for scripts, with the console's role checks."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from bot.console.api import requires
from bot.console.auth import get_db
from content_audit import live_screener, review
from content_audit.review import ReviewError, ReviewItem

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


@bp.post("/items/<int:item_id>/decide")
@requires("review")
def decide(item_id: int) -> Response:
    """{"decision": "approved" | "rejected" | "changes_requested", "reason": "..."}"""
    body = request.get_json(silent=True) or {}
    db = get_db()
    item = db.get(ReviewItem, item_id)
    if item is None:
        return _error(404, "not_found", "no such item")
    try:
        review.decide(db, item, g.api_account.username, str(body.get("decision", "")),
                      str(body.get("reason", "")))
    except ReviewError as error:
        db.rollback()
        return _error(409, "refused", str(error))
    db.commit()
    return jsonify(_item_json(item))
