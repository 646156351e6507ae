"""Views for mass sends (群发): by tag or to all, by openid list, status, and preview.

The sandbox "delivers" at submission: followers still under this month's cap get an outbox
entry each; everyone else is filtered and counted in the job (`mass/get`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtools.sandbox.errors import WxError, ok_body
from devtools.sandbox.rules.followers import check_openid
from devtools.sandbox.rules.mass import MAX_OPENIDS
from devtools.sandbox.state import SandboxState
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_mass", __name__, url_prefix="/cgi-bin/message/mass")

MASS_TYPES = ("mpnews", "text", "voice", "image", "mpvideo", "wxcard")


@bp.post("/sendall")
def sendall() -> Any:
    """Send to every follower, or to the followers carrying `filter.tag_id`."""
    data = json_body()
    _check_content(data)
    scope = data.get("filter")
    if not isinstance(scope, dict):
        raise WxError(47001, "(filter)")
    state = get_state()
    with state.lock:
        if scope.get("is_to_all") is True:
            openids = state.followers.following_ids()
        else:
            tagid = state.tags.require(scope.get("tag_id"))
            openids = state.tags.members(tagid, state.followers)
        return _submit(state, "mass/sendall", data, scope, openids)


@bp.post("/send")
def send() -> Any:
    """Send to an openid list of 2..10 000 (40130 otherwise); non-followers are filtered."""
    data = json_body()
    _check_content(data)
    touser = data.get("touser")
    if not isinstance(touser, list) or not 2 <= len(touser) <= MAX_OPENIDS:
        raise WxError(40130)
    openids = list(dict.fromkeys(check_openid(o) for o in touser))
    state = get_state()
    with state.lock:
        return _submit(state, "mass/send", data, sorted(openids), openids)


@bp.post("/get")
def get() -> Any:
    """The job's status; the sandbox's jobs finish at once (SEND_SUCCESS)."""
    data = json_body()
    state = get_state()
    with state.lock:
        return state.mass.job(data.get("msg_id")).status()


@bp.post("/preview")
def preview() -> Any:
    """One copy to one follower (or a WeChat name), outside the monthly cap."""
    data = json_body()
    _check_content(data)
    state = get_state()
    with state.lock:
        now = state.now()
        towxname = data.get("towxname")
        openid = None if towxname else check_openid(data.get("touser"))
        if openid is not None and not state.followers.is_following(openid):
            raise WxError(40003)
        msg_id = state.mass.new_id()
        state.outbox.record("mass/preview", openid, data.get("msgtype"), data, now,
                            msg_id=msg_id, towxname=towxname)
    return ok_body("preview success", msg_id=msg_id)


def _check_content(data: dict[str, Any]) -> None:
    msgtype = data.get("msgtype")
    if msgtype not in MASS_TYPES or not isinstance(data.get(msgtype), dict):
        raise WxError(40008)


def _submit(state: SandboxState, api: str, data: dict[str, Any], scope: Any,
            openids: list[str]) -> dict[str, Any]:
    """Dedupe, then record one outbox entry per follower under the monthly cap."""
    now = state.now()
    key = state.mass.dedupe_key(data.get("clientmsgid"), scope, data)
    state.mass.check_duplicate(key, now)
    followers = [o for o in openids if state.followers.is_following(o)]
    is_news = data.get("msgtype") == "mpnews"
    job = state.mass.submit(key, followers, now, with_data_id=is_news, addressed=len(openids))
    for openid in job.delivered:
        state.outbox.record(api, openid, data.get("msgtype"), data, now, msg_id=job.msg_id)
    extra = {"msg_data_id": job.msg_data_id} if is_news else {}
    return ok_body("send job submission success", msg_id=job.msg_id, **extra)
