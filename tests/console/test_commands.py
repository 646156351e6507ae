"""`python -m bot users ...` from the shell: the way in before any admin exists."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import cli
from console import accounts, lockout
from core.storage import make_storage


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "WECHAT_TOKEN", "WECHAT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0  # the operator's first step

    def run(*args: str, stdin: str = ""):
        return runner.invoke(cli, list(args), input=stdin)

    return run


def test_create_list_and_reset_without_a_wechat_account(shell, tmp_path):
    created = shell("users", "create", "Lin", "--role", "compliance", "--password-stdin",
                    stdin="lin-password-1\n")
    assert created.exit_code == 0, created.output
    assert "created lin (compliance)" in created.output
    listing = shell("users", "list")
    assert "lin" in listing.output and "compliance" in listing.output

    storage = make_storage({"BOT_DATA_DIR": str(tmp_path)})
    for _ in range(lockout.ACCOUNT_POLICY.lock_after):
        lockout.record_failure(storage.redis, "lin", "")
    assert "locked" in shell("users", "list").output
    changed = shell("users", "set-password", "lin", "--password-stdin", stdin="new-password-2\n")
    assert changed.exit_code == 0
    assert not lockout.is_locked(storage.redis, "lin")
    with storage.sessions() as db:
        assert accounts.authenticate(db, "lin", "new-password-2") is not None


def test_bad_input_is_one_line_and_a_nonzero_exit(shell):
    short = shell("users", "create", "lin", "--role", "agent", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "至少需要 10 个字符" in short.output
    missing = shell("users", "set-password", "ghost", "--password-stdin", stdin="x" * 12 + "\n")
    assert missing.exit_code == 1 and "no account named ghost" in missing.output
    assert shell("users", "create", "lin", "--role", "owner").exit_code == 2
