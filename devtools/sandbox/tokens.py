"""Views for the credential and quota endpoints: token, stable_token, clear_quota, quota/get.

The token endpoints are the only ones without `access_token=`; they check appid and secret in
WeChat's order (missing → 41002/41004, wrong → 40013/40125).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from devtools.sandbox.errors import WxError, ok_body
from devtools.sandbox.rules.tokens import TOKEN_LIFETIME
from devtools.sandbox.state import SandboxState
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_tokens", __name__)


def check_credentials(state: SandboxState, appid: Any, secret: Any) -> None:
    """Raise what WeChat answers for a missing or wrong appid/secret pair."""
    if not appid:
        raise WxError(41002)
    if appid != state.app_id:
        raise WxError(40013)
    if not secret:
        raise WxError(41004)
    if secret != state.app_secret:
        raise WxError(40125)


@bp.get("/cgi-bin/token")
def token() -> Any:
    """A new token each call; the previous one keeps working for 5 minutes only."""
    args = request.args
    if args.get("grant_type") != "client_credential":
        raise WxError(40002)
    state = get_state()
    check_credentials(state, args.get("appid"), args.get("secret"))
    with state.lock:
        issued = state.tokens.issue(state.now())
        state.stats.token_fetches += 1
    return {"access_token": issued.value, "expires_in": TOKEN_LIFETIME}


@bp.post("/cgi-bin/stable_token")
def stable_token() -> Any:
    """The same token while ≥5 min remain; force_refresh replaces it (20/day, ≥30 s apart)."""
    data = json_body()
    if data.get("grant_type") != "client_credential":
        raise WxError(40002)
    state = get_state()
    check_credentials(state, data.get("appid"), data.get("secret"))
    with state.lock:
        now = state.now()
        issued = state.tokens.stable(now, force=data.get("force_refresh") is True)
        state.stats.stable_token_fetches += 1
        return {"access_token": issued.value, "expires_in": issued.expires_in(now)}


@bp.post("/cgi-bin/clear_quota")
def clear_quota() -> Any:
    """Reset today's daily quotas; allowed 10 times a month (48006 after)."""
    data = json_body()
    state = get_state()
    if data.get("appid") != state.app_id:
        raise WxError(40013)
    with state.lock:
        state.quotas.clear(state.now())
    return ok_body()


@bp.post("/cgi-bin/openapi/quota/get")
def quota_get() -> Any:
    """Daily limit, used and remaining calls of one API path."""
    data = json_body()
    path = data.get("cgi_path")
    if not isinstance(path, str) or not path.startswith("/cgi-bin/"):
        raise WxError(47001, "(cgi_path)")
    state = get_state()
    with state.lock:
        return ok_body(quota=state.quotas.report(path, state.now()))
