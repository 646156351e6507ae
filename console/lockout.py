"""Slow down, then lock out, repeated failed sign-ins — per account and per address.

After a few failures an account must wait before the next try (1 s, 2 s, 4 s … up to a
minute); after more it is locked for a quarter of an hour. One address trying many accounts
gets the same treatment with higher thresholds, so guessing one password across every account
is stopped too. Counts live in Redis, shared by every worker, and expire on their own.

While a wait or a lock is on, the password is not even checked: a correct guess during a lock
teaches the guesser nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

PREFIX = "console:login-fail:"


@dataclass(frozen=True)
class Policy:
    slow_after: int  # failures before waits begin
    lock_after: int  # failures before the lock
    lock_seconds: int
    max_wait: int = 60


ACCOUNT_POLICY = Policy(slow_after=3, lock_after=10, lock_seconds=15 * 60)
ADDRESS_POLICY = Policy(slow_after=10, lock_after=30, lock_seconds=15 * 60)


@dataclass(frozen=True)
class Verdict:
    wait_seconds: int  # 0: the attempt may go ahead
    locked: bool  # the wait is a lock, not just a slow-down

    @property
    def allowed(self) -> bool:
        return self.wait_seconds <= 0


def _key(kind: str, value: str) -> str:
    return f"{PREFIX}{kind}:{value}"


def _wait(client: redis.Redis, key: str, policy: Policy, now: float) -> Verdict:
    failures, last = client.hmget(key, "failures", "last")
    failures = int(failures or 0)
    last = float(last or 0)
    if failures >= policy.lock_after:
        return Verdict(max(0, int(last + policy.lock_seconds - now + 0.999)), True)
    if failures >= policy.slow_after:
        delay = min(policy.max_wait, 2 ** (failures - policy.slow_after))
        return Verdict(max(0, int(last + delay - now + 0.999)), False)
    return Verdict(0, False)


def check(client: redis.Redis, username: str, address: str, now: float | None = None) -> Verdict:
    """May this sign-in be tried now? The longer of the account's and the address's waits."""
    now = time.time() if now is None else now
    verdicts = [_wait(client, _key("user", username), ACCOUNT_POLICY, now)]
    if address:
        verdicts.append(_wait(client, _key("addr", address), ADDRESS_POLICY, now))
    worst = max(verdicts, key=lambda v: v.wait_seconds)
    return worst if worst.wait_seconds > 0 else Verdict(0, False)


def record_failure(
    client: redis.Redis, username: str, address: str, now: float | None = None
) -> Verdict:
    """Count one failure; returns what the next attempt faces."""
    now = time.time() if now is None else now
    pipe = client.pipeline(transaction=True)
    for key, policy in (
        (_key("user", username), ACCOUNT_POLICY),
        (_key("addr", address), ADDRESS_POLICY),
    ):
        if key.endswith(":"):
            continue
        pipe.hincrby(key, "failures", 1)
        pipe.hset(key, "last", now)
        pipe.expire(key, policy.lock_seconds)
    pipe.execute()
    return check(client, username, address, now)


# Check and count in one step: parallel sign-ins cannot all slip past the check before any of
# them is counted. The attempt is counted as a failure up front; a success clears it.
_ATTEMPT = """
local verdicts = {}
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 4
  local slow, lock, lock_s, max_wait = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]),
      tonumber(ARGV[base + 4]), tonumber(ARGV[base + 5])
  local now = tonumber(ARGV[1])
  local f = tonumber(redis.call('HGET', key, 'failures') or '0')
  local last = tonumber(redis.call('HGET', key, 'last') or '0')
  if f >= lock and now < last + lock_s then return {0, math.ceil(last + lock_s - now), 1} end
  if f >= slow then
    local delay = math.min(max_wait, 2 ^ (f - slow))
    if now < last + delay then return {0, math.ceil(last + delay - now), 0} end
  end
end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'failures', 1)
  redis.call('HSET', key, 'last', ARGV[1])
  redis.call('EXPIRE', key, ARGV[(i - 1) * 4 + 4])
end
return {1, 0, 0}
"""


def attempt(client: redis.Redis, username: str, address: str, now: float | None = None
            ) -> Verdict:
    """May this sign-in go ahead? If so it is counted (as a failure until `reset`)."""
    now = time.time() if now is None else now
    keys, args = [_key("user", username)], [now]
    policies = [ACCOUNT_POLICY]
    if address:
        keys.append(_key("addr", address))
        policies.append(ADDRESS_POLICY)
    for policy in policies:
        args += [policy.slow_after, policy.lock_after, policy.lock_seconds, policy.max_wait]
    allowed, wait, locked = client.eval(_ATTEMPT, len(keys), *keys, *args)
    return Verdict(0 if allowed else int(wait), bool(locked))


def reset(client: redis.Redis, username: str) -> None:
    """A successful sign-in (or an admin's unlock) clears the account's count."""
    client.delete(_key("user", username))


def is_locked(client: redis.Redis, username: str, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    verdict = _wait(client, _key("user", username), ACCOUNT_POLICY, now)
    return verdict.locked and verdict.wait_seconds > 0
