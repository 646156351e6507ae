"""The Flask side of signing in: the cookie, the current account, role checks and CSRF.

Pages use `@requires("permission")` (or `@login_required`); the table of who may do what is
console/permissions.py. Every form posts a CSRF token that must match the one in the
signed session cookie; the API uses bearer tokens instead of cookies, so it needs none.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console import accounts, audit_log, sessions
from console.accounts import Account
from console.permissions import can

log = logging.getLogger("console")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, only under /admin, marked Secure over HTTPS (or always/never).

    The webhook and the API never read the cookie, so they skip decoding it: ~30 µs a
    message on the webhook's hot path.
    """

    def open_session(self, app: Flask, request: Any) -> Any:
        if not request.path.startswith("/admin"):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        mode = str(app.config.get("CONSOLE_COOKIE_SECURE", "auto")).lower()
        if mode == "auto":
            return has_request_context() and request.is_secure
        return mode == "true"


def init_app(app: Flask) -> None:
    app.secret_key = secret_key(app.config)
    app.config.update(
        SESSION_COOKIE_NAME="console_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = ConsoleSessionInterface()
    app.jinja_env.globals.update(csrf_token=csrf_token, can=can)
    app.teardown_appcontext(_close_db)
    create_first_admin(app)


def secret_key(config: Any) -> str:
    """SECRET_KEY, or one generated once under the data dir and shared by every worker."""
    if config.get("SECRET_KEY"):
        return str(config["SECRET_KEY"])
    path = Path(config["BOT_DATA_DIR"]).resolve() / "secret_key"
    if not path.exists():
        # Written aside, then linked into place: workers starting together agree on one key
        # and none reads a half-written file.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def create_first_admin(app: Flask) -> None:
    """`admin` from ADMIN_PASSWORD, once, even when several workers start at the same moment."""
    storage = app.extensions["storage"]
    try:
        with storage.sessions.begin() as db:
            admin = accounts.ensure_first_admin(db, app.config.get("ADMIN_PASSWORD"))
            if admin is not None:
                audit_log.record(db, "account.create", target=admin.username, role="admin")
                source = app.config.get("ADMIN_PASSWORD_SOURCE") or "ADMIN_PASSWORD"
                log.info("created the first console account 'admin' from %s", source)
    except IntegrityError:
        log.info("another worker created the first console account 'admin' just now")
    except accounts.AccountError as error:
        # A weak ADMIN_PASSWORD must not stop the shop's webhook from starting: say why
        # (in the log) and carry on without the account.
        log.error("ADMIN_PASSWORD was refused, so no 'admin' account was created: %s", error)
    with storage.sessions() as db:
        if not accounts.all_accounts(db):
            log.warning(
                "no console accounts yet: set ADMIN_PASSWORD or run "
                "`python -m bot users create NAME --role admin`"
            )


# --- the SQL session of one request ---------------------------------------------------------


def get_db() -> Session:
    """This request's SQL session; views commit what they change, teardown closes it."""
    if "console_db" not in g:
        g.console_db = current_app.extensions["storage"].sessions()
    return g.console_db


def _close_db(_error: BaseException | None) -> None:
    db = g.pop("console_db", None)
    if db is not None:
        db.close()


def get_or_404(model: type, ident: int) -> Any:
    """The row of `model` with this id in this request's session, or a 404 page."""
    row = get_db().get(model, ident)
    if row is None:
        abort(404)
    return row


def get_redis():
    return current_app.extensions["storage"].redis


def client_address() -> str:
    return request.remote_addr or ""


# --- who is signed in -----------------------------------------------------------------------


def current_account() -> Account | None:
    """The signed-in account of this request, or None (cached on `g`)."""
    if "account" in g:
        return g.account
    g.account = None
    login = sessions.load(get_redis(), session.get("sid", ""))
    if login is not None:
        account = get_db().get(Account, login.account_id)
        if account is not None and account.active and account.session_epoch == login.epoch:
            g.account = account
        else:
            sessions.end(get_redis(), login.sid)
    return g.account


def sign_in(account: Account) -> None:
    """A fresh session id and CSRF token at every sign-in (no session fixation)."""
    session.clear()
    login = sessions.start(get_redis(), account.id, account.session_epoch)
    session["sid"] = login.sid
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.account = account


def sign_out() -> None:
    sessions.end(get_redis(), session.get("sid", ""))
    session.clear()
    g.account = None


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def requires(permission: str, *, json: bool = False) -> Callable[[Callable], Callable]:
    """Signed in and allowed `permission`, else the sign-in page or 403.

    `json=True` is for what a page's script polls: it gets JSON 401/403 it can act on
    instead of a sign-in page or an error page.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if account is None:
                if json:
                    return jsonify(error="signed_out", message="登录已过期，请重新登录"), 401
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if not can(account.role, permission):
                if json:
                    return jsonify(error="forbidden", message="您的角色不能使用这个页面"), 403
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate


def safe_next(target: str | None) -> str | None:
    """Only a path inside the console may be a redirect target (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    return target


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token() -> str:
    """The token forms must post back; created with the cookie on the first page."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a state-changing request whose token is missing or wrong (400)."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(CSRF_FIELD, "")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        log.warning("console refused a %s to %s: missing or wrong CSRF token", request.method,
                    request.path)
        abort(400, description="csrf")
