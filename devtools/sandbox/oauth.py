"""Web authorisation (网页授权): how a page served by the shop learns its visitor's openid.

The real flow (WX-svc /OA_Web_Apps/Wechat_webpage_authorization.html): the page sends the
browser to `open.weixin.qq.com/connect/oauth2/authorize?...#wechat_redirect`; WeChat redirects
to `redirect_uri?code=CODE&state=STATE`; the shop's server exchanges the code at
`api.weixin.qq.com/sns/oauth2/access_token` (appid + secret, no account access_token) for the
openid. `snsapi_base` is silent and works for visitors who do not follow; `snsapi_userinfo`
shows a consent page, which the sandbox treats as accepted. A code lives 5 minutes and is
single-use (40163 "code been used"; unknown or expired 40029 "invalid code").

Authorize errors are an error *page* on WeChat carrying these codes (the doc's 错误返回码 list):
10003 redirect_uri domain differs from the configured 网页授权域名, 10005 the account lacks the
scope, 10009 too frequent, 10010 scope empty, 10011 redirect_uri empty, 10012 appid empty,
10016 appid of the open platform. The sandbox answers them as HTTP 400 JSON; an unknown appid
is answered 40013 like the API does (what WeChat's page says for it is unverified).

Which visitor? The sandbox has no WeChat client, so:
* `?sandbox_openid=<openid>` on the authorize URL names the visitor for that one request
  (not WeChat's parameter; tests and the simulator use it);
* otherwise the cookie `sandbox_openid` names it: the first visit of a browser gets a generated
  openid in that cookie, so one browser stays one visitor, as on a phone.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, redirect, request

from devtools.sandbox.errors import ERRMSG, WxError, new_rid
from devtools.sandbox.rules.followers import OPENID_RE
from devtools.sandbox.rules.oauth import SCOPES
from devtools.sandbox.tokens import check_credentials
from devtools.sandbox.web import get_state

bp = Blueprint("sandbox_oauth", __name__)

AUTHORIZE = "/connect/oauth2/authorize"
VISITOR_PARAM = "sandbox_openid"
VISITOR_COOKIE = "sandbox_openid"
COOKIE_MAX_AGE = 365 * 86400

#: The web-authorisation codes, worded as WeChat does; the rest come from errors.ERRMSG.
OAUTH_ERRMSG: dict[int, str] = {
    10003: "redirect_uri域名与后台配置不一致",
    10005: "此公众号并没有这些scope的权限",
    10010: "scope不能为空",
    10011: "redirect_uri不能为空",
    10012: "appid不能为空",
    40029: "invalid code",
    40163: "code been used",
    41008: "missing code",
}


class AuthorizeError(WxError):
    """A failure of the authorize page: HTTP 400, where API failures are HTTP 200."""


@bp.errorhandler(WxError)
def _error(error: WxError) -> Any:
    state = get_state()
    with state.lock:
        state.stats.errors[error.errcode] += 1
    text = OAUTH_ERRMSG.get(error.errcode) or ERRMSG.get(error.errcode, "error")
    if error.detail:
        text = f"{text} {error.detail}"
    body = {"errcode": error.errcode, "errmsg": f"{text} rid: {new_rid()}"}
    return body, 400 if isinstance(error, AuthorizeError) else 200


@bp.get(AUTHORIZE)
def authorize() -> Any:
    """302 to redirect_uri with `code` and `state` added, for the visitor this browser is."""
    args = request.args
    state = get_state()
    appid, scope, target = args.get("appid"), args.get("scope"), args.get("redirect_uri")
    if not appid:
        raise AuthorizeError(10012)
    if appid != state.app_id:
        raise AuthorizeError(40013)
    if not target:
        raise AuthorizeError(10011)
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AuthorizeError(10003)
    if state.oauth_domains is not None and parts.netloc not in state.oauth_domains:
        raise AuthorizeError(10003)
    if not scope:
        raise AuthorizeError(10010)
    if scope not in SCOPES:
        raise AuthorizeError(10005)
    openid, generated = _visitor()
    with state.lock:
        code = state.oauth.issue(openid, scope, state.now())
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [("code", code.value), ("state", args.get("state", ""))]
    response = redirect(urlunsplit(parts._replace(query=urlencode(query))), 302)
    if generated:
        response.set_cookie(VISITOR_COOKIE, openid, max_age=COOKIE_MAX_AGE, path=AUTHORIZE,
                            httponly=True, samesite="Lax")
    return response


def _visitor() -> tuple[str, bool]:
    """(openid of the simulated visitor, whether it was just made up for a new browser)."""
    for value in (request.args.get(VISITOR_PARAM), request.cookies.get(VISITOR_COOKIE)):
        if value:
            if not OPENID_RE.match(value):
                raise AuthorizeError(40003, f"({VISITOR_PARAM})")
            return value, False
    # Shaped like a real openid: 28 characters starting with "o".
    return "o" + secrets.token_urlsafe(20)[:27], True


@bp.get("/sns/oauth2/access_token")
def access_token() -> Any:
    """Exchange a code for the visitor's openid (and a web token the shop does not need)."""
    args = request.args
    if args.get("grant_type") != "authorization_code":
        raise WxError(40002)
    state = get_state()
    check_credentials(state, args.get("appid"), args.get("secret"))
    code = args.get("code")
    if not code:
        raise WxError(41008)
    with state.lock:
        grant = state.oauth.redeem(code, state.now())
    return grant.as_dict()
