"""Repeated failed sign-ins slow down, then lock, per account and per address."""

from __future__ import annotations

from console import audit_log, lockout
from tests.console.conftest import PASSWORD, Console


def test_waits_grow_then_the_account_locks(redis):
    now = 1_000_000.0
    for _ in range(3):
        verdict = lockout.record_failure(redis, "manager", "", now)
    assert verdict.wait_seconds == 1 and not verdict.locked
    assert lockout.check(redis, "manager", "", now + 1).allowed
    verdict = lockout.record_failure(redis, "manager", "", now + 1)
    assert verdict.wait_seconds == 2
    for i in range(6):
        verdict = lockout.record_failure(redis, "manager", "", now + 100 + i)
    assert verdict.locked and verdict.wait_seconds == 15 * 60
    assert lockout.is_locked(redis, "manager", now + 200)
    assert not lockout.check(redis, "manager", "", now + 105 + 15 * 60 - 10).allowed
    assert lockout.check(redis, "manager", "", now + 106 + 15 * 60).allowed
    assert lockout.check(redis, "other", "", now + 200).allowed  # other accounts unaffected


def test_one_address_trying_many_accounts_is_stopped(redis):
    now = 2_000_000.0
    for i in range(lockout.ADDRESS_POLICY.lock_after):
        lockout.record_failure(redis, f"user{i}", "10.0.0.9", now + i * 100)
    verdict = lockout.check(redis, "fresh-name", "10.0.0.9", now + 3000)
    assert verdict.locked and not verdict.allowed
    assert lockout.check(redis, "fresh-name", "10.0.0.10", now + 3000).allowed


def test_success_clears_the_account_count(redis):
    for _ in range(2):
        lockout.record_failure(redis, "agent", "", 10.0)
    lockout.reset(redis, "agent")
    lockout.record_failure(redis, "agent", "", 11.0)
    assert lockout.check(redis, "agent", "", 11.0).allowed


def test_a_locked_account_is_refused_even_with_the_right_password(console_app, redis):
    person = Console(console_app.test_client())
    for _ in range(lockout.ACCOUNT_POLICY.lock_after):
        redis.delete(lockout.PREFIX + "addr:127.0.0.1")  # only the account's count here
        lockout.record_failure(redis, "manager", "")
    response = person.login("manager", PASSWORD)
    assert response.status_code == 429
    assert "已暂时锁定" in response.text
    with console_app.extensions["storage"].sessions() as db:
        assert audit_log.recent(db, limit=1)[0].action == "login.refused"


def test_quick_retries_after_failures_must_wait(console_app):
    person = Console(console_app.test_client())
    statuses = [person.login("manager", "wrong-password").status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429  # the 4th try came before its 1 s wait was over
    assert "秒后再试" in person.login("manager", PASSWORD).text


def test_an_admin_unlocks_an_account(console_app, admin, redis):
    for _ in range(lockout.ACCOUNT_POLICY.lock_after):
        lockout.record_failure(redis, "agent", "")
    page = admin.get("/admin/accounts").text
    assert "已锁定" in page
    from console import accounts

    with console_app.extensions["storage"].sessions() as db:
        agent_id = accounts.find(db, "agent").id
    admin.post(f"/admin/accounts/{agent_id}/unlock")
    assert not lockout.is_locked(redis, "agent")
    assert Console(console_app.test_client()).login("agent", PASSWORD).status_code == 302


def test_parallel_attempts_cannot_all_slip_past_the_check(redis):
    """Checking and counting are one step: 30 tries at once get 3 password checks, not 30."""
    import threading

    start = threading.Barrier(30)
    allowed = []

    def try_once() -> None:
        start.wait()
        allowed.append(lockout.attempt(redis, "admin", "10.0.0.1").allowed)

    threads = [threading.Thread(target=try_once) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == lockout.ACCOUNT_POLICY.slow_after
