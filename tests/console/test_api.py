"""/api/v1 with per-account bearer tokens and the pages' role checks."""

from __future__ import annotations

from console import accounts, api_tokens, audit_log
from tests.console.conftest import PASSWORD, signed_in


def _token_for(app, username: str) -> str:
    with app.extensions["storage"].sessions.begin() as db:
        _, secret = api_tokens.issue(db, accounts.find(db, username), "test")
    return secret


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_no_or_unknown_token_is_401(console_app):
    client = console_app.test_client()
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401 and missing.json["error"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers=_auth("wxb_made-up")).status_code == 401


def test_a_token_acts_with_its_accounts_role(console_app):
    client = console_app.test_client()
    manager, agent = _token_for(console_app, "manager"), _token_for(console_app, "agent")
    me = client.get("/api/v1/me", headers=_auth(manager)).json
    assert me["username"] == "manager" and "dashboard" in me["permissions"]
    assert client.get("/api/v1/dashboard", headers=_auth(manager)).status_code == 200
    refused = client.get("/api/v1/dashboard", headers=_auth(agent))
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert client.get("/api/v1/accounts", headers=_auth(manager)).status_code == 403


def test_a_session_cookie_does_not_open_the_api(console_app):
    person = signed_in(console_app, "manager")
    assert person.client.get("/api/v1/me").status_code == 401


def test_tokens_are_created_in_the_console_shown_once_and_stored_hashed(console_app):
    person = signed_in(console_app, "manager")
    person.get("/admin/account")
    page = person.post("/admin/account/tokens", {"name": "日报脚本"}).text
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("wxb_")
    assert secret not in person.get("/admin/account").text  # never shown again
    with console_app.extensions["storage"].sessions() as db:
        (row,) = api_tokens.tokens_of(db, accounts.find(db, "manager"))
        assert row.digest != secret and secret not in (row.digest, row.hint)
    client = console_app.test_client()
    assert client.get("/api/v1/me", headers=_auth(secret)).json["username"] == "manager"


def test_revoked_tokens_and_disabled_accounts_stop_working(console_app, admin):
    client = console_app.test_client()
    person = signed_in(console_app, "manager")
    person.get("/admin/account")
    page = person.post("/admin/account/tokens", {"name": "x"}).text
    secret = page.split('id="new-token">')[1].split("<")[0]
    with console_app.extensions["storage"].sessions() as db:
        (row,) = api_tokens.tokens_of(db, accounts.find(db, "manager"))
    person.post(f"/admin/account/tokens/{row.id}/revoke")
    assert client.get("/api/v1/me", headers=_auth(secret)).status_code == 401

    agent_token = _token_for(console_app, "agent")
    with console_app.extensions["storage"].sessions() as db:
        agent_id = accounts.find(db, "agent").id
    admin.get("/admin/accounts")
    admin.post(f"/admin/accounts/{agent_id}", {"active": "0"})
    assert client.get("/api/v1/me", headers=_auth(agent_token)).status_code == 401


def test_someone_elses_token_cannot_be_revoked(console_app):
    secret = _token_for(console_app, "manager")
    with console_app.extensions["storage"].sessions() as db:
        (row,) = api_tokens.tokens_of(db, accounts.find(db, "manager"))
    agent = signed_in(console_app, "agent")
    agent.get("/admin/account")
    assert agent.post(f"/admin/account/tokens/{row.id}/revoke").status_code == 404
    assert console_app.test_client().get("/api/v1/me", headers=_auth(secret)).status_code == 200


def test_an_admin_creates_accounts_through_the_api(console_app):
    client = console_app.test_client()
    token = _auth(_token_for(console_app, "admin"))
    created = client.post(
        "/api/v1/accounts", json={"username": "Script-User", "role": "agent",
                                  "password": "long-enough-1"}, headers=token,
    )
    assert created.status_code == 201 and created.json["username"] == "script-user"
    bad = client.post("/api/v1/accounts", json={"username": "x y", "role": "agent",
                                                "password": "long-enough-1"}, headers=token)
    assert bad.status_code == 400 and bad.json["error"] == "invalid"
    assert client.post("/api/v1/accounts", data="nope", headers=token).status_code == 400
    names = [a["username"] for a in client.get("/api/v1/accounts", headers=token).json["accounts"]]
    assert "script-user" in names
    log = client.get("/api/v1/audit-log?action=account.create", headers=token).json["entries"]
    assert log[0]["target"] == "script-user" and log[0]["detail"]["via"] == "api"
    assert log[0]["at"].endswith("+00:00")


def test_unknown_api_paths_answer_json(console_app):
    response = console_app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"] == "not_found"
    page = console_app.test_client().get("/admin/nothing-here")
    assert page.status_code == 404 and "页面不存在" in page.text


def test_changing_ones_own_password_revokes_ones_tokens(console_app):
    client = console_app.test_client()
    old = _token_for(console_app, "manager")
    other = _token_for(console_app, "agent")
    person = signed_in(console_app, "manager")
    person.get("/admin/account")
    page = person.post(
        "/admin/account/password",
        {"current": PASSWORD, "new": "a-new-password-2", "repeat": "a-new-password-2"},
    ).text
    assert "1 个 API 令牌已撤销" in page
    assert client.get("/api/v1/me", headers=_auth(old)).status_code == 401
    assert client.get("/api/v1/me", headers=_auth(other)).status_code == 200  # not agent's
    fresh = _token_for(console_app, "manager")  # tokens made afterwards work
    assert client.get("/api/v1/me", headers=_auth(fresh)).status_code == 200
    with console_app.extensions["storage"].sessions() as db:
        entry = audit_log.recent(db, limit=1, action="account.password")[0]
        assert entry.details == {"tokens_revoked": 1}


def test_an_admin_password_reset_revokes_the_accounts_tokens(console_app, admin):
    client = console_app.test_client()
    old = _token_for(console_app, "agent")
    with console_app.extensions["storage"].sessions() as db:
        agent_id = accounts.find(db, "agent").id
    admin.get("/admin/accounts")
    page = admin.post(f"/admin/accounts/{agent_id}/password", {"password": "fresh-start-2026"})
    assert "已重置 agent 的密码，其 1 个 API 令牌已撤销" in page.text
    assert client.get("/api/v1/me", headers=_auth(old)).status_code == 401
    person = signed_in(console_app, "agent", "fresh-start-2026")
    page = person.get("/admin/account").text
    assert "已撤销" in page


def test_a_refused_new_password_keeps_the_tokens(console_app, admin):
    client = console_app.test_client()
    old = _token_for(console_app, "agent")
    with console_app.extensions["storage"].sessions() as db:
        agent_id = accounts.find(db, "agent").id
    admin.get("/admin/accounts")
    page = admin.post(f"/admin/accounts/{agent_id}/password", {"password": "1234567890"})
    assert page.status_code == 400 and "密码是连续的数字或字母" in page.text
    assert client.get("/api/v1/me", headers=_auth(old)).status_code == 200
