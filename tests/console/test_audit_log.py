"""The audit log records every change with its actor, is append-only, and holds no secrets."""

from __future__ import annotations

import logging

import pytest

from console import accounts, audit_log
from console.audit_log import AppendOnlyError, AuditEntry
from tests.console.conftest import ADMIN_PASSWORD


def _entries(app):
    with app.extensions["storage"].sessions() as db:
        return list(reversed(audit_log.recent(db, limit=50)))


def test_account_changes_are_recorded_with_actor_and_diff(console_app, admin):
    admin.get("/admin/accounts")
    admin.post("/admin/accounts", {"username": "newbie", "role": "agent",
                                   "password": "plum-blossom-7"})
    with console_app.extensions["storage"].sessions() as db:
        newbie = accounts.find(db, "newbie")
    admin.post(f"/admin/accounts/{newbie.id}", {"role": "manager"})
    admin.post(f"/admin/accounts/{newbie.id}/password", {"password": "quiet-harbour-8"})
    admin.post(f"/admin/accounts/{newbie.id}", {"active": "0"})
    changes = [(e.actor, e.action, e.target, e.details) for e in _entries(console_app)
               if e.action.startswith("account.") and e.target == "newbie"]
    assert changes == [
        ("admin", "account.create", "newbie", {"role": "agent"}),
        ("admin", "account.update", "newbie", {"role": ["agent", "manager"]}),
        ("admin", "account.password", "newbie", {}),
        ("admin", "account.update", "newbie", {"active": [True, False]}),
    ]


def test_the_first_admin_creation_is_recorded(console_app):
    first = _entries(console_app)[0]
    assert (first.actor, first.action, first.target) == ("system", "account.create", "admin")


def test_entries_cannot_be_rewritten_or_deleted(console_app):
    sessions = console_app.extensions["storage"].sessions
    with pytest.raises(AppendOnlyError), sessions.begin() as db:
        db.get(AuditEntry, 1).action = "nothing happened"
    with pytest.raises(AppendOnlyError), sessions.begin() as db:
        db.delete(db.get(AuditEntry, 1))
    assert _entries(console_app)[0].action == "account.create"


def test_no_password_or_token_reaches_the_log_or_the_logs(console_app, admin, caplog):
    caplog.set_level(logging.DEBUG)
    admin.get("/admin/accounts")
    admin.post("/admin/accounts", {"username": "secretive", "role": "agent",
                                   "password": "hunter2-hunter2"})
    page = admin.post("/admin/account/tokens", {"name": "export"}).text
    token = page.split('id="new-token">')[1].split("<")[0]
    admin.post("/admin/logout")
    admin.login("secretive", "wrong-password-9")
    stored = " ".join(f"{e.detail} {e.target}" for e in _entries(console_app))
    for secret in ("hunter2-hunter2", token, ADMIN_PASSWORD, "wrong-password-9"):
        assert secret not in stored
        assert secret not in caplog.text


def test_the_admin_page_filters_by_action_and_shows_shanghai_time(console_app, admin):
    page = admin.get("/admin/audit-log?action=login").text
    assert "<code>login</code>" in page and "account.create" not in page
    entry = _entries(console_app)[-1]
    from core.clock import shanghai_text

    assert shanghai_text(entry.at, "%Y-%m-%d %H:%M:%S") in page
