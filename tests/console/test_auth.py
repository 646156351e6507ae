"""Signing in and out through the pages: cookies, sessions, CSRF on the login form, redirects."""

from __future__ import annotations

from console import accounts as accounts_module
from console import audit_log
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, Console, signed_in


def test_the_first_admin_signs_in_with_admin_password(console):
    response = console.login("admin", ADMIN_PASSWORD)
    assert response.status_code == 302
    page = console.get("/admin/", follow_redirects=True)
    assert "admin · 管理员" in page.text
    assert "数据看板" in page.text and "账号管理" in page.text


def test_a_wrong_password_gets_one_message_whether_or_not_the_name_exists(console):
    wrong = console.login("admin", "not-the-password")
    unknown = console.login("nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    assert console.get("/admin/dashboard").status_code == 302  # still signed out


def test_pages_send_a_signed_out_visitor_to_the_login_and_back(console):
    response = console.get("/admin/audit-log?action=login")
    assert response.status_code == 302
    assert "/admin/login?next=" in response.headers["Location"]
    console.get(response.headers["Location"])
    back = console.client.post(
        "/admin/login",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": console.token,
            "next": "/admin/audit-log?action=login",
        },
    )
    assert back.headers["Location"] == "/admin/audit-log?action=login"


def test_login_never_redirects_off_the_console(console):
    for target in ("https://evil.example/", "//evil.example/admin", "/wechat", "/\\evil"):
        response = console.login("admin", ADMIN_PASSWORD, next=target)
        assert response.headers["Location"] == "/admin/", target
        console.post("/admin/logout")


def test_the_session_cookie_is_httponly_and_samesite(console):
    response = console.login("admin", ADMIN_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("console_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on localhost: a Secure cookie would be dropped


def test_the_cookie_is_secure_over_https(console_app):
    person = Console(console_app.test_client())
    person.get("/admin/login", base_url="https://shop.example")
    response = person.client.post(
        "/admin/login",
        base_url="https://shop.example",
        data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": person.token},
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_secure_cookies_can_be_forced(make_app):
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD, CONSOLE_COOKIE_SECURE="true")
    response = app.test_client().get("/admin/login")  # the CSRF token starts the cookie
    assert "Secure" in response.headers["Set-Cookie"]


def test_logout_ends_the_session_on_the_server(admin):
    stolen = admin.client.get_cookie("console_session").value
    assert admin.post("/admin/logout").status_code == 302
    assert admin.get("/admin/dashboard").status_code == 302
    replay = Console(admin.client.application.test_client())
    replay.client.set_cookie("console_session", stolen)
    assert replay.get("/admin/dashboard").status_code == 302  # the copied cookie is dead


def test_signing_in_again_rotates_the_session(console):
    console.get("/admin/login")
    before = console.client.get_cookie("console_session").value
    console.login("admin", ADMIN_PASSWORD)
    assert console.client.get_cookie("console_session").value != before


def test_a_password_change_ends_other_sessions_but_not_this_one(console_app):
    laptop = signed_in(console_app, "manager")
    phone = signed_in(console_app, "manager")
    laptop.get("/admin/account")
    response = laptop.post(
        "/admin/account/password",
        {"current": PASSWORD, "new": "a-new-password-2", "repeat": "a-new-password-2"},
    )
    assert "密码已更新" in response.text
    assert laptop.get("/admin/dashboard").status_code == 200
    assert phone.get("/admin/dashboard").status_code == 302
    assert Console(console_app.test_client()).login("manager", PASSWORD).status_code == 401
    assert signed_in(console_app, "manager", "a-new-password-2")


def test_a_password_change_needs_the_current_password_and_a_long_one(console_app):
    person = signed_in(console_app, "agent")
    person.get("/admin/account")
    wrong = person.post(
        "/admin/account/password",
        {"current": "nope", "new": "a-valid-password-7", "repeat": "a-valid-password-7"},
    )
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    short = person.post(
        "/admin/account/password", {"current": PASSWORD, "new": "short", "repeat": "short"}
    )
    assert short.status_code == 400 and "至少需要 10 个字符" in short.text


def test_a_disabled_account_is_signed_out_at_once(console_app, admin):
    agent = signed_in(console_app, "agent")
    assert agent.get("/admin/account").status_code == 200
    admin.get("/admin/accounts")
    agent_id = _account_id(console_app, "agent")
    admin.post(f"/admin/accounts/{agent_id}", {"active": "0"})
    assert agent.get("/admin/account").status_code == 302
    assert Console(console_app.test_client()).login("agent", PASSWORD).status_code == 401


def test_sign_ins_and_failures_are_in_the_audit_log(console_app, console):
    console.login("manager", "wrong-password")
    console.login("manager", PASSWORD)
    console.post("/admin/logout")
    with console_app.extensions["storage"].sessions() as db:
        actions = [(e.action, e.actor) for e in reversed(audit_log.recent(db))]
    assert ("login.failed", "manager") in actions
    assert actions[-2:] == [("login", "manager"), ("logout", "manager")]


def _account_id(app, username: str) -> int:
    from console import accounts

    with app.extensions["storage"].sessions() as db:
        return accounts.find(db, username).id


def test_without_secret_key_one_is_generated_once_and_kept(tmp_path):
    from console.auth import secret_key

    first = secret_key({"BOT_DATA_DIR": str(tmp_path)})
    assert len(first) >= 32 and secret_key({"BOT_DATA_DIR": str(tmp_path)}) == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert list(tmp_path.iterdir()) == [tmp_path / "secret_key"]
    assert secret_key({"SECRET_KEY": "k" * 40, "BOT_DATA_DIR": str(tmp_path)}) == "k" * 40


def test_workers_starting_together_create_one_admin_and_all_boot(make_app, monkeypatch):
    first = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD)
    # The second worker looked before the first committed: it too tries to create `admin`.
    monkeypatch.setattr(accounts_module, "find", lambda db, name: None)
    second = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD)
    monkeypatch.undo()
    assert signed_in(second, "admin", ADMIN_PASSWORD)
    with first.extensions["storage"].sessions() as db:
        assert [a.username for a in accounts_module.all_accounts(db)] == ["admin"]


def test_the_webhook_and_api_never_set_a_cookie(console_app):
    from tests.conftest import WeChat

    customer = WeChat(console_app.test_client())
    response = customer.post(customer.user.text("你好"))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    api = console_app.test_client().get("/api/v1/me")
    assert "Set-Cookie" not in api.headers


def test_behind_a_trusted_proxy_the_real_address_and_https_are_used(make_app):
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD, TRUSTED_PROXIES=1)
    over_https = app.test_client().get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in over_https.headers["Set-Cookie"]
    person = Console(app.test_client())
    person.get("/admin/login")
    person.client.post(
        "/admin/login",
        headers={"X-Forwarded-For": "203.0.113.7"},
        data={"username": "admin", "password": "wrong-password", "csrf_token": person.token},
    )
    with app.extensions["storage"].sessions() as db:
        assert audit_log.recent(db, limit=1)[0].address == "203.0.113.7"


def test_without_trusted_proxies_forwarded_headers_are_ignored(console_app):
    person = Console(console_app.test_client())
    person.get("/admin/login")
    person.client.post(
        "/admin/login",
        headers={"X-Forwarded-For": "203.0.113.7"},
        data={"username": "admin", "password": "wrong-password", "csrf_token": person.token},
    )
    with console_app.extensions["storage"].sessions() as db:
        assert audit_log.recent(db, limit=1)[0].address == "127.0.0.1"


def test_a_weak_admin_password_is_refused_but_the_app_still_starts(make_app, caplog):
    app = make_app(ADMIN_PASSWORD="1234567890")
    assert "ADMIN_PASSWORD was refused" in caplog.text and "连续的数字或字母" in caplog.text
    with app.extensions["storage"].sessions() as db:
        assert accounts_module.all_accounts(db) == []
    assert app.test_client().get("/admin/login").status_code == 200
