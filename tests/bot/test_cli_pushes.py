"""`python -m bot pushes list|dry-run|plan|send`: the push planner and sender from the shell,
with a progress counter on stderr only when it is a terminal and one summary line always."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from bot import cli as bot_cli
from bot.cli import cli
from campaigns.pushes import Push, PushDelivery, PushRun
from core.clock import shanghai_text
from core.storage import make_storage
from shop.followers import Follower
from tests.conftest import APP_ID, APP_SECRET

COPY = "春季上新，欢迎回来看看"


@pytest.fixture()
def shell(tmp_path, monkeypatch, sandbox):
    for name in ("DATABASE_URL", "REDIS_URL", "PUSH_WORKERS", "WECHAT_AES_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WECHAT_TOKEN", "testtoken")
    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WECHAT_API_BASE", sandbox)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args))

    migrated = run("migrate")
    assert migrated.exit_code == 0, migrated.output
    return run


@pytest.fixture()
def storage(shell, tmp_path):
    return make_storage({"BOT_DATA_DIR": str(tmp_path)})


def _push(storage, **fields) -> int:
    now = datetime.now(UTC)
    values = {"name": "春季上新", "segment": "dormant",
              "variants": json.dumps([{"key": "A", "text": COPY}], ensure_ascii=False),
              "channels": "custom,mass", "trigger": "once",
              "trigger_at": now - timedelta(minutes=1), "state": "scheduled", "review": "send",
              "holdout_percent": 0, "quiet_start": "00:00", "quiet_end": "00:00",
              "created_by": "manager", "created_at": now - timedelta(hours=1),
              "updated_at": now, **fields}
    with storage.sessions.begin() as db:
        push = Push(**values)
        db.add(push)
        db.flush()
        return push.id


def _dormant(storage, sandbox: str, count: int) -> list[str]:
    """Followers untouched for 200 days, known to the sandbox (a mass send reaches them)."""
    now = datetime.now(UTC)
    openids = [f"oDORMANT-{i:03d}" for i in range(count)]
    with storage.sessions.begin() as db:
        for openid in openids:
            db.add(Follower(openid=openid, subscribed=True,
                            subscribed_at=now - timedelta(days=400),
                            first_seen_at=now - timedelta(days=400),
                            last_interaction_at=now - timedelta(days=200)))
    requests.post(f"{sandbox}/sandbox/users", json={"openids": openids},
                  timeout=5).raise_for_status()
    return openids


def _states(storage) -> list[str]:
    with storage.sessions() as db:
        return sorted(db.scalars(select(PushDelivery.state)))


def test_list_shows_every_push_with_its_state_and_next_send(shell, storage):
    assert shell("pushes", "list").output.strip() == "no pushes"
    later = (datetime.now(UTC) + timedelta(days=30)).replace(second=0, microsecond=0)
    first = _push(storage, trigger_at=later)
    second = _push(storage, name="已暂停的", state="paused")
    listed = shell("pushes", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split("\t") == [f"#{second}", "已暂停", "已通过", "-", "dormant", "已暂停的"]
    assert lines[1].split("\t") == [f"#{first}", "已排期", "已通过", shanghai_text(later),
                                    "dormant", "春季上新"]


def test_dry_run_counts_who_would_get_what_and_writes_nothing(shell, storage, sandbox):
    _dormant(storage, sandbox, 3)
    push_id = _push(storage, trigger_at=datetime.now(UTC) + timedelta(days=1))
    shown = shell("pushes", "dry-run", str(push_id), "--sample", "2")
    assert shown.exit_code == 0, shown.output
    assert f"push #{push_id} 春季上新: dry run at" in shown.output
    assert "recipients 3: planned 3, holdout 0, skipped 0" in shown.output
    assert "  channel mass: 3" in shown.output and "  variant A: 3" in shown.output
    assert shown.output.count(f"oDORMA…\tplanned\tA\tmass\t群发：本月第1次\t{COPY}\n") == 2
    assert "oDORMANT-000" not in shown.output
    assert _states(storage) == []
    missing = shell("pushes", "dry-run", "999")
    assert missing.exit_code == 1 and "no push #999" in missing.output


def test_plan_then_send_until_done_with_a_summary_and_no_bar_off_a_terminal(
        shell, storage, sandbox):
    openids = _dormant(storage, sandbox, 3)
    push_id = _push(storage)
    planned = shell("pushes", "plan")
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.strip() == ("planned 1 run(s), 3 deliveries to send; runs created 1, "
                                      "held 0, missed 0, failed 0")
    assert planned.stderr == ""  # not a terminal: no progress output
    assert _states(storage) == ["planned"] * 3
    again = shell("pushes", "plan")
    assert again.stdout.startswith("planned 0 run(s), 0 deliveries")

    sent = shell("pushes", "send", "--until-done")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.strip() == "sent in 1 round(s): sent 3; 0 still due"
    assert sent.stderr == ""
    assert _states(storage) == ["sent"] * 3
    log = requests.get(f"{sandbox}/sandbox/sent", timeout=5).json()["messages"]
    assert sorted(m["touser"] for m in log if m["api"] != "mass/preview") == openids
    with storage.sessions() as db:
        assert db.scalar(select(PushRun.state).where(PushRun.push_id == push_id)) == "done"
    nothing = shell("pushes", "send")
    assert nothing.stdout.strip() == "sent in 1 round(s): nothing; 0 still due"


def test_on_a_terminal_plan_and_send_show_their_progress_on_stderr(
        shell, storage, sandbox, monkeypatch):
    monkeypatch.setattr(bot_cli, "_stderr_is_tty", lambda: True)
    _dormant(storage, sandbox, 4)
    _push(storage)
    planned = shell("pushes", "plan")
    assert planned.exit_code == 0, planned.output
    assert "\rruns planned: 1/1 100% (4 deliveries written)" in planned.stderr
    assert planned.stdout.startswith("planned 1 run(s), 4 deliveries to send")
    sent = shell("pushes", "send")
    assert sent.exit_code == 0, sent.output
    assert "\rdeliveries sent: 4/4 100%" in sent.stderr and sent.stderr.endswith("\n")
    assert sent.stdout.strip() == "sent in 1 round(s): sent 4; 0 still due"


def test_plan_now_needs_a_time_with_its_offset(shell, storage):
    bad = shell("pushes", "plan", "--now", "2030-01-01T10:00:00")
    assert bad.exit_code == 2 and "ISO 8601 time with its offset" in bad.output
    _push(storage, trigger_at=datetime(2030, 1, 1, 2, 0, tzinfo=UTC),
          created_at=datetime(2029, 12, 1, tzinfo=UTC))
    early = shell("pushes", "plan", "--now", "2030-01-01T09:00:00+08:00")
    assert early.exit_code == 0 and early.stdout.startswith("planned 0 run(s)")
    due = shell("pushes", "plan", "--now", "2030-01-01T10:00:00+08:00")
    assert due.exit_code == 0 and "runs created 1" in due.stdout
