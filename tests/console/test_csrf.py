"""Every console form must carry its CSRF token; without it nothing changes."""

from __future__ import annotations

import pytest

from console import accounts, api_tokens
from tests.console.conftest import ADMIN_PASSWORD, Console


def test_login_without_the_token_is_refused(console_app):
    client = console_app.test_client()
    client.get("/admin/login")
    response = client.post("/admin/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.text
    assert Console(client).get("/admin/dashboard").status_code == 302


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/admin/accounts", {"username": "mallory", "role": "admin",
                             "password": "a-valid-password-7"}),
        ("/admin/account/tokens", {"name": "script"}),
        ("/admin/account/password", {"current": ADMIN_PASSWORD, "new": "yellow-river-42",
                                     "repeat": "yellow-river-42"}),
    ],
)
def test_a_form_without_its_token_changes_nothing(admin, console_app, path, form):
    response = admin.post(path, form, with_token=False)
    assert response.status_code == 400
    with console_app.extensions["storage"].sessions() as db:
        assert accounts.find(db, "mallory") is None
        admin_account = accounts.find(db, "admin")
        assert api_tokens.tokens_of(db, admin_account) == []
        assert admin_account.session_epoch == 0


def test_a_token_from_another_session_is_refused(console_app, admin):
    other = Console(console_app.test_client())
    other.get("/admin/login")
    response = admin.client.post(
        "/admin/accounts",
        data={"username": "mallory", "role": "agent", "password": "a-valid-password-7",
              "csrf_token": other.token},
    )
    assert response.status_code == 400


def test_logout_needs_the_token_too(admin):
    assert admin.post("/admin/logout", with_token=False).status_code == 400
    assert admin.get("/admin/dashboard").status_code == 200
