"""The console's own pages: sign in and out, the home page, one's own account."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from console import accounts, api_tokens, audit_log, lockout
from console.accounts import AccountError
from console.auth import (
    client_address,
    current_account,
    get_db,
    get_redis,
    login_required,
    safe_next,
    sign_in,
    sign_out,
)
from console.shell import console_blueprint, nav_for

bp = console_blueprint(
    "console",
    __name__,
    "/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; repeated failures slow down and then lock (see console/lockout.py).

    Only failures count: the attempt is counted up front (so parallel tries cannot all slip
    past the check) and a success takes that count back.
    """
    if request.method == "GET":
        if current_account() is not None:
            return redirect(url_for("console.home"))
        return render_template("console/login.html", next=request.args.get("next", ""))
    username = accounts.normalize_username(request.form.get("username", ""))[:64]
    password = request.form.get("password", "")
    address = client_address()
    target = safe_next(request.form.get("next")) or url_for("console.home")
    db = get_db()

    verdict = lockout.attempt(get_redis(), username, address)
    if not verdict.allowed:
        audit_log.record(
            db, "login.refused", actor_name=username or "?", target=username, address=address,
            wait_seconds=verdict.wait_seconds, locked=verdict.locked,
        )
        db.commit()
        return _login_error(username, _wait_message(verdict), 429)

    account = accounts.authenticate(db, username, password)
    if account is None:
        after = lockout.check(get_redis(), username, address)  # this try is already counted
        known = accounts.find(db, username)
        audit_log.record(
            db, "login.failed", actor=known, actor_name=None if known else username or "?",
            target=username, address=address, locked=after.locked,
        )
        db.commit()
        message = "用户名或密码错误"
        if not after.allowed:
            message += "。" + _wait_message(after)
        return _login_error(username, message, 401)

    if verdict.ticket is not None:  # always set for an allowed attempt
        lockout.succeeded(get_redis(), verdict.ticket)
    audit_log.record(db, "login", actor=account, target=account.username, address=address)
    db.commit()
    sign_in(account)
    return redirect(target)


def _wait_message(verdict: lockout.Verdict) -> str:
    if verdict.locked:
        minutes = max(1, (verdict.wait_seconds + 59) // 60)
        return f"失败次数过多，已暂时锁定，请 {minutes} 分钟后再试"
    return f"请 {verdict.wait_seconds} 秒后再试"


def _login_error(username: str, message: str, status: int):
    page = render_template(
        "console/login.html", error=message, username=username, next=request.form.get("next", "")
    )
    return page, status


@bp.post("/logout")
def logout():
    """Sign out: the session ends on the server too, so a copied cookie stops working."""
    account = current_account()
    if account is not None:
        db = get_db()
        audit_log.record(db, "logout", actor=account, address=client_address())
        db.commit()
    sign_out()
    return redirect(url_for("console.login"))


@bp.get("/")
@login_required
def home():
    """Each role lands on its first area; a role whose areas are not built yet sees its menu."""
    account = current_account()
    items = nav_for(account.role)
    areas = [item for item in items if item.permission is not None]
    if areas:
        return redirect(url_for(areas[0].endpoint))
    return render_template("console/home.html", items=items)


@bp.get("/account")
@login_required
def my_account():
    """One's own account: change the password, create and revoke API tokens."""
    return _render_account()


def _render_account(**extra):
    account = current_account()
    tokens = api_tokens.tokens_of(get_db(), account)
    status = extra.pop("status", 200)
    return render_template("console/account.html", tokens=tokens, **extra), status


@bp.post("/account/password")
@login_required
def change_password():
    """A new password needs the current one; every other session of the account ends."""
    account = current_account()
    db = get_db()
    if not accounts.authenticate(db, account.username, request.form.get("current", "")):
        return _render_account(password_error="当前密码不正确", status=400)
    if request.form.get("new", "") != request.form.get("repeat", ""):
        return _render_account(password_error="两次输入的新密码不一致", status=400)
    try:
        revoked = accounts.set_password(db, account, request.form.get("new", ""))
    except AccountError as error:
        return _render_account(password_error=str(error), status=400)
    audit_log.record(db, "account.password", actor=account, target=account.username,
                     address=client_address(), **api_tokens.revoked_detail(revoked))
    db.commit()
    sign_in(account)  # this browser stays signed in under the new epoch
    notice = "密码已更新，其他设备上的登录已失效"
    if revoked:
        notice += f"，{revoked} 个 API 令牌已撤销"
    return _render_account(notice=notice)


@bp.post("/account/tokens")
@login_required
def create_token():
    """A new API token, shown once on the page that answers this form."""
    account = current_account()
    db = get_db()
    row, secret = api_tokens.issue(db, account, request.form.get("name", ""))
    audit_log.record(db, "token.create", actor=account, target=f"token:{row.id}",
                     name=row.name, address=client_address())
    db.commit()
    return _render_account(new_token=secret, notice="令牌已创建，请立即复制，它只显示这一次")


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    account = current_account()
    db = get_db()
    row = api_tokens.revoke(db, account, token_id)
    if row is None:
        abort(404)
    audit_log.record(db, "token.revoke", actor=account, target=f"token:{row.id}",
                     name=row.name, address=client_address())
    db.commit()
    return redirect(url_for("console.my_account"))


