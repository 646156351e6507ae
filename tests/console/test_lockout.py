"""Failed sign-ins slow down, then lock: per account and address, per account, per address.

Only failures count; a guesser locks out their own address, not the real admin; the right
password from a known address gets through an account-wide lock; an admin's unlock lifts it all.
"""

from __future__ import annotations

import threading

from console import accounts, audit_log, lockout
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, Console, at_address

ATTACKER = "198.51.100.7"
OFFICE = "203.0.113.10"


def _failures(redis, kind: str, value: str) -> int:
    return int(redis.hget(lockout.PREFIX + f"{kind}:{value}", "failures") or 0)


def _sign_in_ok(redis, username: str, address: str, now: float) -> lockout.Verdict:
    """What the login view does for a right password: attempt, then succeeded."""
    verdict = lockout.attempt(redis, username, address, now)
    if verdict.ticket is not None:
        lockout.succeeded(redis, verdict.ticket, now)
    return verdict


def _account_id(app, username: str) -> int:
    with app.extensions["storage"].sessions() as db:
        return accounts.find(db, username).id


# --- the account from one address ---------------------------------------------------------


def test_waits_grow_then_the_account_locks_at_that_address(redis):
    now = 1_000_000.0
    for _ in range(3):
        verdict = lockout.record_failure(redis, "manager", ATTACKER, now)
    assert verdict.wait_seconds == 1 and not verdict.locked
    assert lockout.check(redis, "manager", ATTACKER, now + 1).allowed
    verdict = lockout.record_failure(redis, "manager", ATTACKER, now + 1)
    assert verdict.wait_seconds == 2
    for i in range(6):
        verdict = lockout.record_failure(redis, "manager", ATTACKER, now + 100 + i)
    assert verdict.locked and verdict.wait_seconds == 15 * 60
    assert lockout.is_locked(redis, "manager", now + 200)
    assert not lockout.check(redis, "manager", ATTACKER, now + 105 + 15 * 60 - 10).allowed
    assert lockout.check(redis, "manager", ATTACKER, now + 106 + 15 * 60).allowed
    assert lockout.check(redis, "manager", OFFICE, now + 200).allowed  # other addresses
    assert lockout.check(redis, "other", ATTACKER, now + 200).allowed  # other accounts


def test_anyone_failing_as_admin_locks_only_their_own_address(console_app, redis):
    """Ten wrong passwords paced by the hint used to lock `admin` for everyone."""
    for _ in range(lockout.PAIR_POLICY.lock_after):
        lockout.record_failure(redis, "admin", ATTACKER)
    attacker = at_address(console_app, ATTACKER)
    refused = attacker.login("admin", ADMIN_PASSWORD)
    assert refused.status_code == 429 and "已暂时锁定" in refused.text
    assert at_address(console_app, OFFICE).login("admin", ADMIN_PASSWORD).status_code == 302


def test_a_locked_pair_is_refused_even_with_the_right_password(console_app, redis):
    for _ in range(lockout.PAIR_POLICY.lock_after):
        lockout.record_failure(redis, "manager", "127.0.0.1")
    response = Console(console_app.test_client()).login("manager", PASSWORD)
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


def test_a_success_clears_the_count_of_its_account_and_address(redis):
    for _ in range(2):
        lockout.record_failure(redis, "agent", OFFICE, 10.0)
    lockout.record_failure(redis, "agent", ATTACKER, 10.0)
    _sign_in_ok(redis, "agent", OFFICE, 11.0)
    assert _failures(redis, "pair", f"agent@{OFFICE}") == 0
    assert _failures(redis, "pair", f"agent@{ATTACKER}") == 1  # not someone else's failures
    # The account-wide count keeps every address's failures: the victim signing in must not
    # reset a distributed attack's count. Only this attempt was taken back.
    assert _failures(redis, "user", "agent") == 3


def test_parallel_attempts_cannot_all_slip_past_the_check(redis):
    """Checking and counting are one step: 30 tries at once get 3 password checks, not 30."""
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
    assert allowed.count(True) == lockout.PAIR_POLICY.slow_after


# --- one address across accounts ------------------------------------------------------------


def test_one_address_trying_many_accounts_is_stopped(redis):
    now = 2_000_000.0
    for i in range(lockout.ADDRESS_POLICY.lock_after):
        lockout.record_failure(redis, f"user{i}", "10.0.0.9", now + i * 100)
    verdict = lockout.check(redis, "fresh-name", "10.0.0.9", now + 3000)
    assert verdict.locked and not verdict.allowed
    assert lockout.check(redis, "fresh-name", "10.0.0.10", now + 3000).allowed


def test_successful_sign_ins_never_count_against_the_address(console_app, redis):
    """Staff behind one proxy: a dozen correct sign-ins used to start the address's waits."""
    for _ in range(lockout.ADDRESS_POLICY.slow_after + 2):
        assert Console(console_app.test_client()).login("agent", PASSWORD).status_code == 302
    assert Console(console_app.test_client()).login("manager", PASSWORD).status_code == 302
    assert _failures(redis, "addr", "127.0.0.1") == 0
    assert _failures(redis, "user", "agent") == 0


def test_a_success_takes_back_only_its_own_attempt(redis):
    now = 3_000_000.0
    for i in range(12):  # past the address's slow-down threshold
        lockout.record_failure(redis, f"guess{i}", OFFICE, now + i)
    before = redis.hgetall(lockout.PREFIX + f"addr:{OFFICE}")
    assert _sign_in_ok(redis, "agent", OFFICE, now + 100).allowed
    assert redis.hgetall(lockout.PREFIX + f"addr:{OFFICE}") == before  # count and its time
    for _ in range(3):
        _sign_in_ok(redis, "agent", "10.0.0.1", now + 200)
    assert not redis.exists(lockout.PREFIX + "addr:10.0.0.1")  # never below zero, no residue


def test_the_count_is_taken_back_when_others_failed_in_between(redis):
    verdict = lockout.attempt(redis, "agent", OFFICE, 100.0)
    lockout.record_failure(redis, "manager", OFFICE, 100.5)
    lockout.succeeded(redis, verdict.ticket, 101.0)
    assert _failures(redis, "addr", OFFICE) == 1  # the manager's failure stays


# --- the account from every address, and known addresses -------------------------------------


def _distributed_attack(redis, username: str, now: float | None = None) -> None:
    for i in range(lockout.ACCOUNT_POLICY.lock_after):
        lockout.record_failure(redis, username, f"192.0.2.{i}", now)


def test_a_distributed_attack_locks_the_account_but_not_from_a_known_address(console_app, redis):
    assert at_address(console_app, OFFICE).login("manager", PASSWORD).status_code == 302
    assert lockout.known_addresses(redis, "manager") == [OFFICE]
    _distributed_attack(redis, "manager")
    assert lockout.is_locked(redis, "manager")

    stranger = at_address(console_app, "198.18.0.1").login("manager", PASSWORD)
    assert stranger.status_code == 429 and "已暂时锁定" in stranger.text
    assert at_address(console_app, OFFICE).login("manager", PASSWORD).status_code == 302


def test_the_known_address_pass_checks_the_password_and_counts_failures(console_app, redis):
    assert at_address(console_app, OFFICE).login("agent", PASSWORD).status_code == 302
    _distributed_attack(redis, "agent")
    before = _failures(redis, "user", "agent")
    office = at_address(console_app, OFFICE)
    wrong = office.login("agent", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert _failures(redis, "user", "agent") == before + 1
    assert _failures(redis, "pair", f"agent@{OFFICE}") == 1


def test_the_address_lock_still_applies_at_a_known_address(redis):
    _sign_in_ok(redis, "agent", OFFICE, 100.0)
    for _ in range(lockout.PAIR_POLICY.lock_after):
        lockout.record_failure(redis, "agent", OFFICE, 200.0)
    verdict = lockout.check(redis, "agent", OFFICE, 201.0)
    assert verdict.locked and not verdict.allowed


def test_known_addresses_are_few_and_expire(redis):
    for i in range(lockout.KNOWN_MAX + 5):
        _sign_in_ok(redis, "agent", f"10.1.0.{i}", 1000.0 + i)
    known = lockout.known_addresses(redis, "agent")
    assert len(known) == lockout.KNOWN_MAX and known[0] == f"10.1.0.{lockout.KNOWN_MAX + 4}"
    assert "10.1.0.0" not in known  # the oldest went first
    key = lockout.KNOWN_PREFIX + "agent"
    assert lockout.KNOWN_SECONDS - 10 < redis.ttl(key) <= lockout.KNOWN_SECONDS
    newest = f"10.1.0.{lockout.KNOWN_MAX + 4}"
    soon = 2000.0
    _distributed_attack(redis, "agent", soon)
    assert lockout.check(redis, "agent", newest, soon).allowed
    assert not lockout.check(redis, "agent", "10.9.9.9", soon).allowed
    long_after = 1000.0 + lockout.KNOWN_SECONDS + 100
    _distributed_attack(redis, "agent", long_after)
    assert not lockout.check(redis, "agent", newest, long_after).allowed  # known too long ago


# --- an admin's unlock --------------------------------------------------------------------


def _lock_every_way(redis, username: str, home: str) -> None:
    for address in (ATTACKER, home):
        for _ in range(lockout.PAIR_POLICY.lock_after):
            lockout.record_failure(redis, username, address)
    _distributed_attack(redis, username)
    for i in range(lockout.ADDRESS_POLICY.lock_after):
        lockout.record_failure(redis, f"someone{i}", home)


def test_an_admin_unlocks_every_lock_of_an_account(console_app, redis):
    admin = at_address(console_app, OFFICE)
    assert admin.login("admin", ADMIN_PASSWORD).status_code == 302
    _lock_every_way(redis, "agent", "127.0.0.1")
    assert "已锁定" in admin.get("/admin/accounts").text
    admin.post(f"/admin/accounts/{_account_id(console_app, 'agent')}/unlock")
    assert not lockout.is_locked(redis, "agent")
    assert lockout.check(redis, "agent", ATTACKER).allowed
    assert Console(console_app.test_client()).login("agent", PASSWORD).status_code == 302


def test_unlocking_one_account_leaves_the_others_locks(redis):
    for name in ("agent", "manager"):
        for _ in range(lockout.PAIR_POLICY.lock_after):
            lockout.record_failure(redis, name, ATTACKER)
    lockout.unlock(redis, "agent")
    assert not lockout.is_locked(redis, "agent")
    assert lockout.is_locked(redis, "manager")
