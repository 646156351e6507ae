"""Control endpoints under /sandbox/: not WeChat's, they let tests and the simulator act as
the user (inbound), read what was sent, script faults, move the clock and reset.

Errors here are plain HTTP 400 `{"ok": false, "error": ...}` so they can't be mistaken for a
WeChat answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from devtools.sandbox.rules.faults import Fault
from devtools.sandbox.rules.followers import OPENID_RE
from devtools.sandbox.state import KINDS
from devtools.sandbox.web import WECHAT_PREFIX, get_state

bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")


class BadRequest(ValueError):
    """A control call the sandbox can't act on."""


@bp.errorhandler(ValueError)
def _bad_request(error: ValueError) -> Any:
    return {"ok": False, "error": str(error)}, 400


def _body() -> dict[str, Any]:
    data = request.get_json(force=True, silent=True)
    if data is None and not request.get_data().strip():
        return {}
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _openid(value: Any) -> str:
    if not isinstance(value, str) or not OPENID_RE.match(value):
        raise BadRequest(f"bad openid {value!r}")
    return value


@bp.post("/inbound")
def inbound() -> Any:
    """The user did something WeChat would notice: follow, message, click, scan, pay…"""
    data = _body()
    openid, kind = _openid(data.get("openid")), data.get("kind")
    if kind not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}")
    state = get_state()
    with state.lock:
        at = float(data.get("time") or state.now())
        scene = data.get("scene")
        if scene is not None and not isinstance(scene, int | str):
            raise BadRequest("scene must be an integer or a string")
        if data.get("ticket"):
            scene = state.qrcodes.scene_of(data["ticket"], at)
            if scene is None:
                raise BadRequest("unknown or expired ticket")
        state.interact(openid, kind, at, scene=scene, template_id=data.get("template_id"),
                       accept=data.get("status", "accept") == "accept")
    return {"ok": True}


@bp.post("/users")
def seed_users() -> Any:
    """Followers who never interacted (imported or dormant): they follow, no window is open."""
    data = _body()
    openids = data.get("openids") or []
    if not isinstance(openids, list):
        raise BadRequest("openids must be a list")
    openids = [_openid(o) for o in openids]
    state = get_state()
    with state.lock:
        at = float(data.get("subscribe_time") or state.now())
        for openid in openids:
            state.followers.follow(openid, at)
    return {"ok": True, "count": len(openids)}


@bp.get("/users/<openid>")
def describe_user(openid: str) -> Any:
    state = get_state()
    with state.lock:
        return state.describe_user(_openid(openid))


@bp.get("/sent")
def sent() -> Any:
    """Delivered messages with id > since, optionally for one touser or one api."""
    try:
        since = int(request.args.get("since") or 0)
    except ValueError:
        raise BadRequest("since must be an integer") from None
    state = get_state()
    with state.lock:
        messages = state.outbox.since(since, request.args.get("touser"), request.args.get("api"))
        return {"messages": messages, "last_id": state.outbox.last_id}


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults() -> Any:
    """POST schedules a fault, DELETE clears (all, or ?path=), GET lists what is pending.

    POST {"path", "errcode" (default -1), "times" (1), "delay" (0 s), "errmsg",
    "after_accept" (false)}; with after_accept the call is carried out (the message is
    delivered) and only its answer is replaced: "accepted, then failed"."""
    state = get_state()
    if request.method == "POST":
        data = _body()
        path = data.get("path")
        if not isinstance(path, str) or not path.startswith(WECHAT_PREFIX):
            raise BadRequest("path must be a WeChat path such as /cgi-bin/message/custom/send")
        after_accept = data.get("after_accept", False)
        if not isinstance(after_accept, bool):
            raise BadRequest("after_accept must be true or false")
        fault = Fault(path, int(data.get("errcode", -1)), int(data.get("times", 1)),
                      float(data.get("delay", 0.0)), data.get("errmsg"), after_accept)
        with state.lock:
            state.faults.add(fault)
    elif request.method == "DELETE":
        with state.lock:
            state.faults.clear(request.args.get("path"))
    with state.lock:
        return {"ok": True, "pending": state.faults.pending()}


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Any:
    """POST {"advance": seconds} moves the sandbox clock forward; GET reads it."""
    state = get_state()
    with state.lock:
        if request.method == "POST":
            state.clock.advance(float(_body().get("advance", 0)))
        return {"ok": True, "now": state.now(), "offset": state.clock.offset}


@bp.get("/stats")
def stats() -> Any:
    state = get_state()
    with state.lock:
        return state.stats.snapshot(sent=len(state.outbox))


@bp.post("/reset")
def reset() -> Any:
    """Forget everything: tokens, users, windows, jobs, outbox, faults, counters, clock."""
    state = get_state()
    with state.lock:
        state.reset()
    return {"ok": True}
