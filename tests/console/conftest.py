"""Console fixtures: an app with an admin, one account per role, and a browser-like client."""

from __future__ import annotations

import re

import pytest

from console import accounts

# Must pass accounts.password_problem: no username inside, not common, not a pattern.
ADMIN_PASSWORD = "chief-of-the-shop-1"
PASSWORD = "role-password-1"
ROLE_ACCOUNTS = {"manager": "manager", "reviewer": "compliance", "agent": "agent"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Console:
    """A person at the console: signs in, follows pages, posts forms with their CSRF token."""

    def __init__(self, client):
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs):
        response = self.client.get(path, **kwargs)
        if "text/html" in response.content_type and 'name="csrf_token"' in response.text:
            self.token = csrf_of(response.text)
        return response

    def login(self, username: str, password: str, **extra):
        self.get("/admin/login")
        response = self.client.post(
            "/admin/login",
            data={"username": username, "password": password, "csrf_token": self.token, **extra},
        )
        self.token = ""  # signing in issues a new token; the next page carries it
        return response

    def post(self, path: str, data: dict | None = None, *, with_token: bool = True, **kwargs):
        if with_token and not self.token:
            self.get("/admin/account")
        form = dict(data or {})
        if with_token:
            form["csrf_token"] = self.token
        return self.client.post(path, data=form, **kwargs)


@pytest.fixture()
def console_app(make_app):
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD)
    with app.extensions["storage"].sessions.begin() as db:
        for name, role in ROLE_ACCOUNTS.items():
            accounts.create(db, name, role, PASSWORD)
    return app


@pytest.fixture()
def console(console_app) -> Console:
    return Console(console_app.test_client())


@pytest.fixture()
def admin(console) -> Console:
    assert console.login("admin", ADMIN_PASSWORD).status_code == 302
    return console


def signed_in(app, username: str, password: str = PASSWORD) -> Console:
    person = Console(app.test_client())
    assert person.login(username, password).status_code == 302
    return person


def at_address(app, address: str) -> Console:
    """A person whose requests come from `address` (the sign-in limits are per address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Console(client)
