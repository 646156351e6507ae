"""The invitation page of one 砍价 launch (/b/<code>): what a friend opens from the link.

It works for anyone in WeChat, following the account or not: the visitor is identified by
silent web authorisation (snsapi_base, no consent page), which is the only way a page learns
an openid without asking anything. The openid is then kept in a signed cookie of our own
(path /b): the console's session interface only opens Flask's session under /admin, so the
Flask session cannot carry it here, and the console cookie stays out of the customer pages.

What the page says is exact and neutral: the amount still to cut in yuan and the number of
friends still needed, never a percentage or a bar (a court found an opaque 「只差0.9%」
misleading), and nothing asks anyone to share, forward or follow (WeChat's induced-sharing
rule). Cutting goes through bargain_ledger.help_cut with the form's nonce as idempotency
key, so a retried POST answers as the first one did.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.wechat_api import WeChatAPIError
from core.clock import as_utc, shanghai_text
from core.money import yuan
from core.storage import Storage
from promotions import bargain_ledger
from promotions.bargains import BargainCampaign, BargainHelp, BargainLaunch, BargainRefused
from shop.storefront_views import qr_image

log = logging.getLogger(__name__)

bp = Blueprint("bargain_page", __name__, url_prefix="/b", template_folder="templates")

#: The signed cookie naming the visitor: {"o": openid, "t": the visitor's CSRF token}.
VISITOR_COOKIE = "bargain_visitor"
VISITOR_SALT = "bargain-page-visitor"
#: An openid is stable for this account, so a month saves most authorisation round trips.
VISITOR_MAX_AGE = 30 * 86400
#: The state of one authorisation round trip, checked on return: {"s": state, "c": code}.
OAUTH_COOKIE = "bargain_oauth"
OAUTH_SALT = "bargain-page-oauth"
#: WeChat's code lives 5 minutes; the state a little longer for a slow phone.
OAUTH_MAX_AGE = 600
COOKIE_PATH = "/b"
CSRF_FIELD = "csrf_token"
NONCE_FIELD = "nonce"
#: secrets.token_urlsafe output; the ledger keeps 80 characters of "page:" + nonce.
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: Launch codes are 6 characters; a longer path segment is not worth a query.
MAX_CODE_LENGTH = 12

#: Inline styles only, the QR code as a data: image; no script, no outside request.
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
               "base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": PAGE_POLICY,
           "Referrer-Policy": "no-referrer"}

AUTH_EXPIRED = "微信授权已过期，请点下方按钮重新打开。"
AUTH_STALE = "这个链接已失效，请点下方按钮重新打开砍价页面。"
AUTH_DOWN = "暂时连不上微信，请稍后点下方按钮重新打开。"


@dataclass(frozen=True)
class Visitor:
    openid: str
    csrf: str


@dataclass(frozen=True)
class Cut:
    """One counted cut as the page lists it: who (masked), how much, when."""

    who: str
    amount: str
    at: str


@dataclass(frozen=True)
class Result:
    """What the visitor's 帮TA砍一刀 did, shown above the launch."""

    ok: bool
    lines: tuple[str, ...]


def _storage() -> Storage:
    return current_app.extensions["storage"]


def _signer(salt: str) -> URLSafeTimedSerializer | None:
    """Signed with the app's secret; None when the app has none (then nobody is identified,
    and the page is read-only rather than trusting an unsigned cookie)."""
    secret = current_app.secret_key or current_app.config.get("SECRET_KEY")
    return URLSafeTimedSerializer(str(secret), salt=salt) if secret else None


def _read(name: str, salt: str, max_age: int) -> dict[str, Any] | None:
    signer, raw = _signer(salt), request.cookies.get(name)
    if signer is None or not raw:
        return None
    try:
        value = signer.loads(raw, max_age=max_age)
    except BadSignature:  # tampered, another key, or too old (SignatureExpired)
        return None
    return value if isinstance(value, dict) else None


def _set(response: Response, name: str, salt: str, value: dict[str, str], max_age: int) -> None:
    signer = _signer(salt)
    assert signer is not None  # callers identify visitors only when there is a secret
    response.set_cookie(name, signer.dumps(value), max_age=max_age, path=COOKIE_PATH,
                        secure=request.is_secure, httponly=True, samesite="Lax")


def visitor_salt() -> str:
    """The visitor cookie's salt names the account: an openid is per account, so a cookie
    made while the shop used another account must not name anyone now."""
    return f"{VISITOR_SALT}:{getattr(_storage().wechat, 'app_id', '')}"


def current_visitor() -> Visitor | None:
    """The visitor this browser was identified as, or None."""
    value = _read(VISITOR_COOKIE, visitor_salt(), VISITOR_MAX_AGE)
    if value is None:
        return None
    openid, csrf = value.get("o"), value.get("t")
    if not isinstance(openid, str) or not openid or not isinstance(csrf, str) or not csrf:
        return None
    return Visitor(openid, csrf)


def _can_identify(storage: Storage) -> bool:
    return storage.wechat is not None and _signer(visitor_salt()) is not None


def _find(db: Session, code: str) -> BargainLaunch | None:
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    return bargain_ledger.find(db, code)


def _to_authorisation(code: str, status: int = 302) -> Response:
    """Off to WeChat's silent authorisation, with a fresh state kept in a signed cookie."""
    storage = _storage()
    state = secrets.token_urlsafe(24)
    base = str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    target = storage.wechat.oauth_authorize_url(base + url_for(".auth", code=code), state)
    response = redirect(target, status)
    _set(response, OAUTH_COOKIE, OAUTH_SALT, {"s": state, "c": code}, OAUTH_MAX_AGE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _message(status: int, title: str, text: str, retry: str | None = None) -> Response:
    """A short Chinese page for what went wrong: no stack trace, no detail of ours."""
    body = render_template("bargain_page/message.html", title=title, text=text, retry=retry)
    return Response(body, status, headers=HEADERS, content_type="text/html; charset=utf-8")


def _not_found() -> Response:
    return _message(404, "没有找到这个砍价", "链接可能有误，或者这个砍价已经不存在了。")


# ---- the page -------------------------------------------------------------------------------


@bp.get("/<code>")
def page(code: str) -> Any:
    """The launch for whoever opened its link; an unidentified visitor goes through WeChat's
    silent authorisation first (when the account is configured)."""
    storage = _storage()
    with storage.sessions() as db:
        launch = _find(db, code)
        if launch is None:
            return _not_found()
        canonical = launch.code
    visitor = current_visitor()
    if visitor is None and _can_identify(storage):
        return _to_authorisation(canonical)
    return _render(storage, canonical, visitor, None)


@bp.get("/<code>/auth")
def auth(code: str) -> Any:
    """WeChat's return from authorisation: the state must be the one this browser was given
    for this launch; the code becomes the visitor's openid, kept in a signed cookie."""
    storage = _storage()
    retry = url_for(".page", code=code)
    kept = _read(OAUTH_COOKIE, OAUTH_SALT, OAUTH_MAX_AGE) or {}
    state, wx_code = request.args.get("state", ""), request.args.get("code", "")
    expected = kept.get("s")
    if (not isinstance(expected, str) or not expected or kept.get("c") != code
            or not hmac.compare_digest(expected.encode(), state.encode())):
        log.info("bargain page: authorisation state missing or wrong")
        return _failed(_message(400, "打开失败", AUTH_STALE, retry))
    if not wx_code or not _can_identify(storage):
        return _failed(_message(400, "打开失败", AUTH_STALE, retry))
    try:
        openid = storage.wechat.oauth_openid(wx_code)
    except WeChatAPIError as error:
        log.info("bargain page: authorisation code refused (errcode %s)", error.errcode)
        text = AUTH_EXPIRED if error.errcode in (40029, 40163) else AUTH_DOWN
        return _failed(_message(400, "打开失败", text, retry))
    response = redirect(retry, 302)
    _set(response, VISITOR_COOKIE, visitor_salt(),
         {"o": openid, "t": secrets.token_urlsafe(32)}, VISITOR_MAX_AGE)
    response.delete_cookie(OAUTH_COOKIE, path=COOKIE_PATH)
    response.headers["Cache-Control"] = "no-store"
    return response


def _failed(response: Response) -> Response:
    """A failed return uses up its state: retrying starts a new round trip."""
    response.delete_cookie(OAUTH_COOKIE, path=COOKIE_PATH)
    return response


@bp.post("/<code>/help")
def help_friend(code: str) -> Any:
    """帮TA砍一刀: one cut by the identified visitor, keyed by the form's nonce so a retried
    POST shows the same result. A refusal is an answer (200), not an error."""
    storage = _storage()
    with storage.sessions() as db:
        launch = _find(db, code)
        if launch is None:
            return _not_found()
        launch_id, canonical = launch.id, launch.code
    visitor = current_visitor()
    if visitor is None:
        if _can_identify(storage):
            return _to_authorisation(canonical, 303)
        return redirect(url_for(".page", code=canonical), 303)
    sent = request.form.get(CSRF_FIELD, "")
    if not sent or not hmac.compare_digest(visitor.csrf.encode(), sent.encode()):
        log.info("bargain page: help refused, missing or wrong CSRF token")
        return _message(400, "没有砍成", "页面已过期，请点下方按钮刷新后再试。",
                        url_for(".page", code=canonical))
    nonce = request.form.get(NONCE_FIELD, "")
    if not NONCE_RE.match(nonce):
        return _message(400, "没有砍成", "页面已过期，请点下方按钮刷新后再试。",
                        url_for(".page", code=canonical))
    try:
        outcome = bargain_ledger.help_cut(storage, launch_id, visitor.openid, source="page",
                                          key="page:" + nonce)
    except BargainRefused as refusal:
        result = Result(False, (refusal.message,))
    else:
        result = _result(outcome)
    return _render(storage, canonical, visitor, result)


def _result(outcome: bargain_ledger.HelpOutcome) -> Result:
    if outcome.state != "counted":
        return Result(True, ("你的帮砍已收到，正在审核中，审核通过后才会计入。",))
    lines = [f"你帮TA砍掉了 {yuan(outcome.amount_fen)}"]
    if outcome.left_fen <= 0:
        lines.append(f"已经砍到底价 {yuan(outcome.floor_fen)}，谢谢你！")
    else:
        lines.append(f"现价 {yuan(outcome.price_fen)}，还差 {yuan(outcome.left_fen)}，"
                     f"还需 {outcome.helpers_left} 位好友。")
    return Result(True, tuple(lines))


# ---- what the page shows ----------------------------------------------------------------------


def _render(storage: Storage, code: str, visitor: Visitor | None,
            result: Result | None) -> Response:
    now = datetime.now(UTC)
    with storage.sessions() as db:
        launch = _find(db, code)
        if launch is None:
            return _not_found()
        values = _view(db, launch, visitor, now)
        body = render_template("bargain_page/page.html", result=result, visitor=visitor,
                               identify=_can_identify(storage), csrf_field=CSRF_FIELD,
                               nonce_field=NONCE_FIELD, nonce=secrets.token_urlsafe(18),
                               yuan=yuan, **values)
    return Response(body, 200, headers=HEADERS, content_type="text/html; charset=utf-8")


def state_label(launch: BargainLaunch, now: datetime) -> str:
    """进行中 / 已砍到底 / 已下单 / 已过期: a launch past its time is over even before the
    expiry job has marked it."""
    if launch.state == "ordered":
        return "已下单"
    if launch.state == "expired" or now >= as_utc(launch.expires_at):
        return "已过期"
    if launch.state == "completed":
        return "已砍到底"
    if launch.state == "open":
        return "进行中"
    return "已结束"


def _view(db: Session, launch: BargainLaunch, visitor: Visitor | None,
          now: datetime) -> dict[str, Any]:
    campaign = db.get(BargainCampaign, launch.campaign_id)
    helps = list(db.scalars(select(BargainHelp).where(BargainHelp.launch_id == launch.id)
                            .order_by(BargainHelp.seq, BargainHelp.id)))
    cuts, friend = [], 0
    for help_ in helps:
        if help_.state != "counted":
            continue  # held or rejected: nothing was cut
        if help_.source == "starter":
            who = "发起人"
        else:
            friend += 1
            who = f"好友 {friend}"
        cuts.append(Cut(who, yuan(help_.amount_fen), shanghai_text(help_.created_at)))
    starter = visitor is not None and visitor.openid == launch.openid
    mine = None
    if visitor is not None and not starter:
        mine = next((h for h in helps if h.openid == visitor.openid), None)
    live = launch.is_live(now)
    return {
        "launch": launch,
        "product": bargain_ledger.product_name(db, campaign),
        "state": state_label(launch, now),
        "live": live,
        "cuts": cuts,
        "expires": shanghai_text(launch.expires_at),
        "starter": starter,
        "completed": launch.state == "completed" and now < as_utc(launch.expires_at),
        "buy_now": (starter and live and campaign.buy_before_floor and campaign.state == "on"),
        "mine": mine,
        "can_help": visitor is not None and not starter and live and mine is None,
        "qr": qr_image(launch.qr_url) if live and launch.qr_url else None,
    }
