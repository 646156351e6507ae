"""/api/v1: the console's data for scripts, behind per-account bearer tokens.

The same permission table as the pages decides what a token may read or change. Cookies are
ignored here, which is why the API needs no CSRF token: a browser cannot be tricked into
sending an `Authorization` header.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from console import accounts, api_tokens, audit_log
from console.accounts import AccountError
from console.auth import client_address, get_db
from console.permissions import can, permissions_of
from core.clock import as_utc

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def requires(permission: str | None) -> Callable[[Callable], Callable]:
    """A valid bearer token whose account has `permission` (None: any account)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
            account = None
            if scheme.lower() == "bearer" and secret.strip():
                db = get_db()
                account = api_tokens.resolve(db, secret.strip())
                db.commit()  # last_used_at
            if account is None:
                return api_error(401, "unauthorized", "missing, revoked or unknown bearer token")
            if permission and not can(account.role, permission):
                return api_error(403, "forbidden", f"role {account.role} may not use {permission}")
            g.api_account = account
            return view(*args, **kwargs)

        return wrapped

    return decorate


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(404)
def _not_found(_error: Exception) -> Response:
    return api_error(404, "not_found", "no such resource")


@bp.errorhandler(405)
def _not_allowed(_error: Exception) -> Response:
    return api_error(405, "method_not_allowed", "method not allowed")


@bp.get("/me")
@requires(None)
def me() -> Response:
    account = g.api_account
    return jsonify(
        {
            "username": account.username,
            "role": account.role,
            "permissions": permissions_of(account.role),
        }
    )


def _account_json(account: accounts.Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role,
        "active": account.active,
        "created_at": as_utc(account.created_at).isoformat(),
    }


@bp.get("/accounts")
@requires("accounts")
def list_accounts() -> Response:
    return jsonify({"accounts": [_account_json(a) for a in accounts.all_accounts(get_db())]})


@bp.post("/accounts")
@requires("accounts")
def create_account() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(400, "bad_request", "send a JSON object: username, role, password")
    db = get_db()
    try:
        created = accounts.create(
            db, str(body.get("username", "")), str(body.get("role", "")),
            str(body.get("password", "")),
        )
    except AccountError as error:
        db.rollback()
        return api_error(400, "invalid", str(error))
    audit_log.record(db, "account.create", actor=g.api_account, target=created.username,
                     role=created.role, address=client_address(), via="api")
    db.commit()
    response = jsonify(_account_json(created))
    response.status_code = 201
    return response


@bp.get("/audit-log")
@requires("audit_log")
def get_audit_log() -> Response:
    entries = audit_log.recent(
        get_db(),
        limit=request.args.get("limit", default=100, type=int),
        action=request.args.get("action", ""),
        actor=request.args.get("actor", ""),
    )
    return jsonify(
        {
            "entries": [
                {
                    "id": e.id,
                    "at": as_utc(e.at).isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "detail": e.details,
                    "address": e.address,
                }
                for e in entries
            ]
        }
    )
