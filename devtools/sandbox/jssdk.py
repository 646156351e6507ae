"""The JS-SDK's side of the sandbox: `ticket/getticket` and what `wx.config` checks.

A page that calls `wx.openAddress` first runs `wx.config` with a signature over the account's
jsapi_ticket, a nonce, a timestamp and the page's URL. WeChat's client checks it and reports
`config:invalid signature` when it does not match. POST /sandbox/jssdk/config does that same
check, so tests can prove the pages sign correctly without a phone.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import Blueprint, request

from devtools.sandbox.errors import WxError, ok_body
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_jssdk", __name__)

TICKET_LIFETIME = 7200


def _ticket(state) -> str:
    """The account's current jsapi_ticket (the same one while it is valid, like WeChat's)."""
    now = state.now()
    current = state.jsapi_ticket
    if current is None or now - current[1] >= TICKET_LIFETIME:
        current = ("sandbox_jsapi_" + secrets.token_urlsafe(24), now)
        state.jsapi_ticket = current
    return current[0]


@bp.get("/cgi-bin/ticket/getticket")
def getticket() -> Any:
    """type=jsapi → the ticket pages sign with; other types are not part of the sandbox."""
    if request.args.get("type") != "jsapi":
        raise WxError(40097, "(type)")
    state = get_state()
    with state.lock:
        ticket = _ticket(state)
        issued = state.jsapi_ticket[1] if state.jsapi_ticket else state.now()
        left = TICKET_LIFETIME - int(state.now() - issued)
    return ok_body(ticket=ticket, expires_in=left)


@bp.post("/sandbox/jssdk/config")
def config() -> Any:
    """What wx.config would say about {url, timestamp, nonceStr, signature}."""
    data = json_body()
    state = get_state()
    with state.lock:
        ticket = state.jsapi_ticket
    if ticket is None:
        return {"errMsg": "config:invalid signature"}
    url = str(data.get("url", "")).split("#")[0]
    plain = (f"jsapi_ticket={ticket[0]}&noncestr={data.get('nonceStr', '')}"
             f"&timestamp={data.get('timestamp', '')}&url={url}")
    expected = hashlib.sha1(plain.encode()).hexdigest()
    if data.get("appId") != state.app_id:
        return {"errMsg": "config:invalid appId"}
    ok = secrets.compare_digest(expected, str(data.get("signature", "")))
    return {"errMsg": "config:ok" if ok else "config:invalid signature"}
