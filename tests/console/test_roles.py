"""Each role sees its own part of the console; everything else answers 403."""

from __future__ import annotations

import pytest

from console.permissions import can
from tests.console.conftest import ADMIN_PASSWORD, signed_in

PAGES = {
    "/admin/dashboard": {"admin", "manager"},
    "/admin/accounts": {"admin"},
    "/admin/audit-log": {"admin"},
    "/admin/account": {"admin", "manager", "compliance", "agent"},
    "/admin/audit/": {"admin", "compliance"},
    "/admin/audit/check": {"admin", "compliance"},
}
PEOPLE = {"admin": "admin", "manager": "manager", "compliance": "reviewer", "agent": "agent"}


@pytest.mark.parametrize("role", sorted(PEOPLE))
def test_each_role_reaches_exactly_its_pages(console_app, role):
    password = ADMIN_PASSWORD if role == "admin" else None
    person = signed_in(console_app, PEOPLE[role], *([password] if password else []))
    for path, allowed in PAGES.items():
        response = person.get(path)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, path)
        if expected == 403:
            assert "没有权限" in response.text


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("manager", ["数据看板", "我的账户"], ["账号管理", "操作日志"]),
        ("compliance", ["内容审核", "我的账户"], ["数据看板", "账号管理", "操作日志"]),
        ("agent", ["我的账户"], ["数据看板", "账号管理", "操作日志", "内容审核"]),
    ],
)
def test_navigation_shows_each_role_only_what_it_may_use(console_app, role, shown, hidden):
    person = signed_in(console_app, PEOPLE[role])
    page = person.get("/admin/", follow_redirects=True).text
    nav = page.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    for label in shown:
        assert label in nav
    for label in hidden:
        assert label not in nav


def test_each_role_lands_on_its_first_area(console_app):
    manager = signed_in(console_app, "manager")
    assert manager.get("/admin/").headers["Location"] == "/admin/dashboard"
    reviewer = signed_in(console_app, "reviewer")
    assert reviewer.get("/admin/").headers["Location"] == "/admin/audit/"
    agent = signed_in(console_app, "agent")
    assert agent.get("/admin/").headers["Location"] == "/admin/service/"


def test_a_manager_cannot_change_accounts_by_posting_directly(console_app):
    manager = signed_in(console_app, "manager")
    manager.get("/admin/account")
    response = manager.post(
        "/admin/accounts", {"username": "sneaky", "role": "admin",
                            "password": "a-valid-password-7"}
    )
    assert response.status_code == 403
    from console import accounts

    with console_app.extensions["storage"].sessions() as db:
        assert accounts.find(db, "sneaky") is None


def test_admin_has_every_permission_and_unknown_ones_are_admin_only():
    assert can("admin", "dashboard") and can("admin", "something-new")
    assert not can("manager", "something-new")
    assert not can(None, "dashboard")
