"""Long enough is not enough: passwords a guesser tries first are refused, saying why."""

from __future__ import annotations

import pytest

from console import accounts, password_rules
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, ROLE_ACCOUNTS

COMMON = "密码过于常见（在常见密码表中）"
REPEAT = "密码只是同一字符重复"
BLOCK = "密码只是一小段字符的重复"
SEQUENCE = "密码是连续的数字或字母"
KEYBOARD = "密码是键盘上相邻的键"
USERNAME = "密码包含用户名"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("1234567890", SEQUENCE),
        ("0123456789", SEQUENCE),
        ("9876543210", SEQUENCE),
        ("abcdefghij", SEQUENCE),
        ("abc1234567", SEQUENCE),
        ("aaaaaaaaaa", REPEAT),
        ("ZZZZZZZZZZZZ", REPEAT),
        ("aaaaaaaaa1", REPEAT),
        ("abcabcabcabc", BLOCK),
        ("12121212121", BLOCK),
        ("qwertyuiop", KEYBOARD),
        ("QwErTyUiOp", KEYBOARD),
        ("asdfghjkl;", KEYBOARD),
        ("poiuytrewq", KEYBOARD),
        ("1qaz2wsx3edc", KEYBOARD),
        ("qwertyuiop1", KEYBOARD),
        ("7410852963", KEYBOARD),
        ("1q2w3e4r5t", COMMON),
        ("password123", COMMON),
        ("Password123", COMMON),
        ("iloveyou12", COMMON),
        ("woaini1314", COMMON),
        ("dragon2026!", "密码只是常见密码加上数字或符号"),
    ],
)
def test_common_and_patterned_passwords_are_refused_with_the_rule(password, message):
    assert accounts.password_problem(password, "someone") == message


def test_the_username_may_not_be_inside_the_password():
    assert accounts.password_problem("Manager-of-the-shop", "manager") == USERNAME
    assert accounts.password_problem("manager-of-the-shop", "MANAGER") == USERNAME
    assert accounts.password_problem("i-am-the-manager", "manager") == USERNAME
    # A two-letter name turns up inside too many good passphrases to count.
    assert accounts.password_problem("lighthouse-keeper-7", "li") is None


def test_the_list_ships_with_the_long_common_ones():
    common = password_rules.common_passwords()
    assert len(common) >= 300
    for password in ("1234567890", "qwertyuiop", "1q2w3e4r5t", "password123", "iloveyou12",
                     "0123456789", "1qaz2wsx3edc", "abc1234567"):
        assert password in common
    assert all(line == line.lower() for line in common)


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "Tr0ub4dor&3x", "xK9#mPq2vL", "春风十里不如你2026",
     "summer-holiday-2026", "lighthouse-keeper-7"],
)
def test_ordinary_good_passwords_pass(password):
    assert accounts.password_problem(password, "someone") is None


def test_the_projects_own_passwords_still_pass():
    """The demo's and the tests' passwords (devtools/demo.py, tests/**) must be accepted."""
    from devtools.demo import DEMO_ADMIN_PASSWORD

    for name in ("admin", "manager", "reviewer", "agent"):
        assert accounts.password_problem(DEMO_ADMIN_PASSWORD, name) is None, name
    assert accounts.password_problem(ADMIN_PASSWORD, "admin") is None
    for name in ROLE_ACCOUNTS:
        assert accounts.password_problem(PASSWORD, name) is None, name


def test_the_console_form_shows_which_rule_refused(console_app, admin):
    admin.get("/admin/accounts")
    page = admin.post("/admin/accounts",
                      {"username": "newbie", "role": "agent", "password": "qwertyuiop"})
    assert page.status_code == 400 and KEYBOARD in page.text
    with console_app.extensions["storage"].sessions() as db:
        assert accounts.find(db, "newbie") is None
    admin.get("/admin/account")
    mine = admin.post("/admin/account/password",
                      {"current": ADMIN_PASSWORD, "new": "aaaaaaaaaaaa", "repeat": "aaaaaaaaaaaa"})
    assert mine.status_code == 400 and REPEAT in mine.text
