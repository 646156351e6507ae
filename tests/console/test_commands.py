"""`python -m bot users ...` from the shell: the way in before any admin exists."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import cli
from console import accounts, api_tokens, lockout
from core.storage import make_storage


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "WECHAT_TOKEN", "WECHAT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    runner = CliRunner()

    def run(*args: str, stdin: str = ""):
        return runner.invoke(cli, list(args), input=stdin)

    migrated = run("migrate")  # the users commands need the schema in place
    assert migrated.exit_code == 0, migrated.output
    return run


def test_create_list_and_reset_without_a_wechat_account(shell, tmp_path):
    created = shell("users", "create", "Lin", "--role", "compliance", "--password-stdin",
                    stdin="reed-flute-path-1\n")
    assert created.exit_code == 0, created.output
    assert "created lin (compliance)" in created.output
    listing = shell("users", "list")
    assert "lin" in listing.output and "compliance" in listing.output

    storage = make_storage({"BOT_DATA_DIR": str(tmp_path)})
    for _ in range(lockout.PAIR_POLICY.lock_after):
        lockout.record_failure(storage.redis, "lin", "10.0.0.5")
    assert "locked" in shell("users", "list").output
    changed = shell("users", "set-password", "lin", "--password-stdin", stdin="new-password-2\n")
    assert changed.exit_code == 0
    assert not lockout.is_locked(storage.redis, "lin")
    with storage.sessions() as db:
        assert accounts.authenticate(db, "lin", "new-password-2") is not None


def test_set_password_lifts_every_lock_and_revokes_tokens(shell, tmp_path):
    shell("users", "create", "lin", "--role", "agent", "--password-stdin",
          stdin="reed-flute-path-1\n")
    storage = make_storage({"BOT_DATA_DIR": str(tmp_path)})
    with storage.sessions.begin() as db:
        _, secret = api_tokens.issue(db, accounts.find(db, "lin"), "script")
    for address in ("10.0.0.5", "10.0.0.6"):
        for _ in range(lockout.PAIR_POLICY.lock_after):
            lockout.record_failure(storage.redis, "lin", address)
    for i in range(lockout.ACCOUNT_POLICY.lock_after):
        lockout.record_failure(storage.redis, "lin", f"192.0.2.{i}")
    for _ in range(lockout.PAIR_POLICY.lock_after):
        lockout.record_failure(storage.redis, "someone-else", "10.0.0.5")

    for address in ("10.0.0.5", "10.0.0.6", "198.51.100.1"):
        assert not lockout.check(storage.redis, "lin", address).allowed, address
    assert "locked" in shell("users", "list").output
    weak = shell("users", "set-password", "lin", "--password-stdin", stdin="lin-is-back-2026\n")
    assert weak.exit_code == 1 and "密码包含用户名" in weak.output
    changed = shell("users", "set-password", "lin", "--password-stdin", stdin="new-password-2\n")
    assert changed.exit_code == 0, changed.output
    assert "1 API token(s) revoked" in changed.output
    for address in ("10.0.0.5", "10.0.0.6", "198.51.100.1"):
        assert lockout.check(storage.redis, "lin", address).allowed, address
    assert lockout.is_locked(storage.redis, "someone-else")  # only lin's locks were lifted
    with storage.sessions() as db:
        assert api_tokens.resolve(db, secret) is None


def test_bad_input_is_one_line_and_a_nonzero_exit(shell):
    short = shell("users", "create", "lin", "--role", "agent", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "至少需要 10 个字符" in short.output
    weak = shell("users", "create", "lin", "--role", "agent", "--password-stdin",
                 stdin="qwertyuiop\n")
    assert weak.exit_code == 1 and "密码是键盘上相邻的键" in weak.output
    missing = shell("users", "set-password", "ghost", "--password-stdin",
                    stdin="a-valid-password-7\n")
    assert missing.exit_code == 1 and "no account named ghost" in missing.output
    assert shell("users", "create", "lin", "--role", "owner").exit_code == 2
