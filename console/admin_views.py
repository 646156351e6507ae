"""Admin pages: manage console accounts and read the audit log."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from console import accounts, api_tokens, audit_log, lockout
from console.accounts import Account, AccountError
from console.auth import (
    client_address,
    current_account,
    get_db,
    get_or_404,
    get_redis,
    requires,
)
from console.permissions import ROLES
from console.shell import console_blueprint

bp = console_blueprint("console_admin", __name__, "/admin")


@bp.get("/accounts")
@requires("accounts")
def list_accounts():
    """Every account with its role and state, and the form to add one."""
    return _render_accounts()


def _render_accounts(status: int = 200, **extra):
    db = get_db()
    rows = accounts.all_accounts(db)
    locked = {a.id for a in rows if lockout.is_locked(get_redis(), a.username)}
    page = render_template("console/accounts.html", rows=rows, locked=locked, roles=ROLES, **extra)
    return page, status


@bp.post("/accounts")
@requires("accounts")
def create_account():
    db = get_db()
    form = request.form
    try:
        created = accounts.create(db, form.get("username", ""), form.get("role", ""),
                                  form.get("password", ""))
    except AccountError as error:
        db.rollback()
        return _render_accounts(400, error=str(error), form=form)
    audit_log.record(db, "account.create", actor=current_account(), target=created.username,
                     role=created.role, address=client_address())
    db.commit()
    return _render_accounts(notice=f"已创建账号 {created.username}")


@bp.post("/accounts/<int:account_id>")
@requires("accounts")
def update_account(account_id: int):
    """Change an account's role or enable/disable it (the last admin cannot be removed)."""
    db = get_db()
    target = get_or_404(Account, account_id)
    before = {"role": target.role, "active": target.active}
    try:
        if role := request.form.get("role"):
            accounts.set_role(db, target, role)
        if (active := request.form.get("active")) in ("0", "1"):
            accounts.set_active(db, target, active == "1")
    except AccountError as error:
        db.rollback()
        return _render_accounts(400, error=str(error))
    after = {"role": target.role, "active": target.active}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_log.record(db, "account.update", actor=current_account(), target=target.username,
                         address=client_address(), **changes)
    db.commit()
    return redirect(url_for("console_admin.list_accounts"))


@bp.post("/accounts/<int:account_id>/password")
@requires("accounts")
def reset_password(account_id: int):
    """Set a new password for someone who lost theirs; their sessions and API tokens end."""
    db = get_db()
    target = get_or_404(Account, account_id)
    try:
        revoked = accounts.set_password(db, target, request.form.get("password", ""))
    except AccountError as error:
        db.rollback()
        return _render_accounts(400, error=str(error))
    audit_log.record(db, "account.password", actor=current_account(), target=target.username,
                     address=client_address(), **api_tokens.revoked_detail(revoked))
    db.commit()
    notice = f"已重置 {target.username} 的密码"
    if revoked:
        notice += f"，其 {revoked} 个 API 令牌已撤销"
    return _render_accounts(notice=notice)


@bp.post("/accounts/<int:account_id>/unlock")
@requires("accounts")
def unlock_account(account_id: int):
    """Lift every lock that keeps this account out (account-wide and per address)."""
    db = get_db()
    target = get_or_404(Account, account_id)
    lockout.unlock(get_redis(), target.username)
    audit_log.record(db, "account.unlock", actor=current_account(), target=target.username,
                     address=client_address())
    db.commit()
    return redirect(url_for("console_admin.list_accounts"))


@bp.get("/audit-log")
@requires("audit_log")
def show_audit_log():
    """Sign-ins and every change, newest first, filterable by action and account."""
    action = request.args.get("action", "")[:64]
    actor = request.args.get("actor", "")[:64]
    entries = audit_log.recent(get_db(), limit=200, action=action, actor=actor)
    return render_template("console/audit_log.html", entries=entries, action=action, actor=actor)
