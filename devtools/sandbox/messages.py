"""Views for one-to-one sends: customer-service messages, template messages, bizsend notices.

Each delivered message lands in the outbox (`/sandbox/sent`), which is what the chat simulator
shows and tests assert on; refused ones land nowhere, as on WeChat.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtools.sandbox.errors import WxError, ok_body
from devtools.sandbox.media import check_media
from devtools.sandbox.rules.followers import check_openid
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_messages", __name__, url_prefix="/cgi-bin/message")

CUSTOM_TYPES = ("text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle",
                "msgmenu", "wxcard", "miniprogrampage")
THING_MAX_CHARS = 20  # bizsend `thing*` fields (WECHAT_API.md §5C)


@bp.post("/custom/send")
def custom_send() -> Any:
    """Deliver if the user's 48-hour (or 1-minute) window is open and has sends left; an
    image must name a temporary upload still valid (40007 otherwise)."""
    data = json_body()
    openid = check_openid(data.get("touser"))
    msgtype = data.get("msgtype")
    if msgtype not in CUSTOM_TYPES or not isinstance(data.get(msgtype), dict):
        raise WxError(40008)
    if msgtype == "text" and not str(data["text"].get("content") or "").strip():
        raise WxError(44004)
    state = get_state()
    with state.lock:
        now = state.now()
        if msgtype == "image":
            check_media(state, data["image"].get("media_id"), "image", now)
        if not state.followers.is_following(openid):
            raise WxError(45015)
        state.windows.consume(openid, now)
        state.outbox.record("custom/send", openid, msgtype, data, now)
    return ok_body()


@bp.post("/template/send")
def template_send() -> Any:
    """Deliver to a follower (43004 otherwise); a repeated client_msg_id is sent once."""
    data = json_body()
    openid = check_openid(data.get("touser"))
    state = get_state()
    template_id = data.get("template_id")
    if not isinstance(template_id, str) or not template_id or (
            state.template_ids is not None and template_id not in state.template_ids):
        raise WxError(40037)
    if not isinstance(data.get("data", {}), dict):
        raise WxError(47001, "(data)")
    with state.lock:
        now = state.now()
        if not state.followers.is_following(openid):
            raise WxError(43004)
        msgid, duplicate = state.notices.template_msgid(openid, data.get("client_msg_id"), now)
        if not duplicate:
            state.outbox.record("template/send", openid, "template", data, now, msgid=msgid)
    return ok_body(msgid=msgid)


@bp.post("/subscribe/bizsend")
def bizsend() -> Any:
    """Spend one opt-in the user gave in a subscription popup (43101 when none is left)."""
    data = json_body()
    openid = check_openid(data.get("touser"))
    template_id = data.get("template_id")
    if not isinstance(template_id, str) or not template_id:
        raise WxError(40037)
    _check_notice_data(data.get("data"))
    state = get_state()
    with state.lock:
        now = state.now()
        state.notices.spend(openid, template_id)
        state.outbox.record("subscribe/bizsend", openid, "subscribe", data, now)
    return ok_body()


def _check_notice_data(fields: Any) -> None:
    """The strict field checks of bizsend, reduced to the ones shop copy trips over."""
    if not isinstance(fields, dict) or not fields:
        raise WxError(47003, "data is empty")
    for key, item in fields.items():
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, str | int | float) or value == "":
            raise WxError(47003, f"data.{key}.value is empty")
        if key.startswith("thing") and len(str(value)) > THING_MAX_CHARS:
            raise WxError(47003, f"data.{key}.value exceed length limit")
