"""Request plumbing shared by every sandbox view: faults, token check, quotas, error JSON.

It runs before each WeChat view in a fixed order — count the call, play a scripted fault,
check `access_token`, spend the daily quota — so the views hold only their own API's rules.
Errors always leave as JSON (HTTP 200 for WeChat errors, as the real API does), never HTML.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from devtools.sandbox.errors import WxError, error_body
from devtools.sandbox.state import SandboxState

log = logging.getLogger(__name__)

#: Paths that are WeChat API calls (token checked, quotas and faults applied).
WECHAT_PREFIX = ("/cgi-bin/", "/customservice/")
TOKEN_FREE = ("/cgi-bin/token", "/cgi-bin/stable_token")


def get_state() -> SandboxState:
    return current_app.extensions["sandbox"]


def json_body() -> dict[str, Any]:
    """The POSTed JSON object, whatever the Content-Type (WeChat ignores it too)."""
    raw = request.get_data()
    if not raw.strip():
        raise WxError(44002)
    try:
        data = json.loads(raw)
    except ValueError:
        raise WxError(47001) from None
    if not isinstance(data, dict):
        raise WxError(47001)
    return data


def init_app(app: Flask) -> None:
    app.before_request(_guard_wechat_call)
    app.after_request(_spoil_answer)
    app.register_error_handler(WxError, _wx_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _guard_wechat_call() -> Any:
    path = request.path
    if not path.startswith(WECHAT_PREFIX) or request.routing_exception is not None:
        return None
    state = get_state()
    with state.lock:
        state.stats.calls[path] += 1
        fault = state.faults.take(path)
    if fault is not None and fault.after_accept:
        g.sandbox_fault = fault  # played by _spoil_answer once the view has run
        fault = None
    if fault is not None:
        if fault.delay:
            time.sleep(fault.delay)  # outside the lock: other requests go on meanwhile
        if fault.errcode:
            log.info("sandbox fault on %s: errcode %s", path, fault.errcode)
            with state.lock:
                state.stats.errors[fault.errcode] += 1
            return error_body(fault.errcode, fault.errmsg)
    with state.lock:
        now = state.now()
        if path not in TOKEN_FREE:
            state.tokens.check(request.args.get("access_token"), now)
        state.quotas.spend(path, now)
    return None


def _spoil_answer(response: Response) -> Response:
    """An `after_accept` fault: the view has delivered; answer errcode E (after the delay)
    instead of its success body. A WeChat error the view raised itself is left as it is."""
    fault = g.pop("sandbox_fault", None)
    if fault is None:
        return response
    answer = response.get_json(silent=True) if response.is_json else None
    if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
        return response
    if fault.delay:
        time.sleep(fault.delay)  # longer than the client's timeout: the answer is lost
    if not fault.errcode:
        return response
    log.info("sandbox fault on %s after accepting: errcode %s", request.path, fault.errcode)
    state = get_state()
    with state.lock:
        state.stats.errors[fault.errcode] += 1
    spoiled = current_app.json.response(error_body(fault.errcode, fault.errmsg))
    return spoiled


def _wx_error(error: WxError) -> Any:
    state = get_state()
    with state.lock:
        state.stats.errors[error.errcode] += 1
    return error_body(error.errcode, error.detail, **error.extra)


def _http_error(error: HTTPException) -> Any:
    if isinstance(error, MethodNotAllowed) and request.path.startswith(WECHAT_PREFIX):
        # WeChat answers a wrong method with 43001/43002 and HTTP 200.
        return _wx_error(WxError(43002 if request.method == "GET" else 43001))
    code = error.code or 500
    return error_body(code, f"({error.name}: {request.method} {request.path})"), code


def _unexpected(error: Exception) -> Any:
    log.exception("sandbox bug on %s %s", request.method, request.path)
    return error_body(-1, f"(sandbox bug: {type(error).__name__}: {error})"), 500
