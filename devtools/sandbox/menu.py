"""Views for the custom menu (create/get/delete) and parametric QR codes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtools.sandbox.errors import WxError, ok_body
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_menu", __name__, url_prefix="/cgi-bin")

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5


@bp.post("/menu/create")
def create() -> Any:
    """Store the menu: 1-3 top buttons, each with at most 5 sub-buttons."""
    data = json_body()
    buttons = data.get("button")
    if not isinstance(buttons, list) or not 0 < len(buttons) <= MAX_BUTTONS:
        raise WxError(40016)
    for button in buttons:
        if not isinstance(button, dict) or not button.get("name"):
            raise WxError(47001, "(button)")
        subs = button.get("sub_button") or []
        if not isinstance(subs, list):
            raise WxError(47001, "(sub_button)")
        if len(subs) > MAX_SUB_BUTTONS:
            raise WxError(40023)
    state = get_state()
    with state.lock:
        state.menu = {"button": buttons}
    return ok_body()


@bp.get("/menu/get")
def get() -> Any:
    state = get_state()
    with state.lock:
        if state.menu is None:
            raise WxError(46003)
        return {"menu": state.menu}


@bp.get("/menu/delete")
def delete() -> Any:
    state = get_state()
    with state.lock:
        state.menu = None
    return ok_body()


@bp.post("/qrcode/create")
def qrcode_create() -> Any:
    """A ticket for a temporary (≤30 days, default 60 s) or permanent scene code."""
    data = json_body()
    state = get_state()
    with state.lock:
        now = state.now()
        code = state.qrcodes.create(data, now)
    answer: dict[str, Any] = {"ticket": code.ticket}
    if code.expires_at is not None:
        answer["expire_seconds"] = int(code.expires_at - now)
    answer["url"] = f"http://weixin.qq.com/q/{code.ticket[:24]}"
    return answer
