"""Slow down, then lock out, repeated failed sign-ins: by account and address, account, address.

Three counts, all of failures only (a correct password never counts against anyone):

- one account from one address (`PAIR_POLICY`): after 3 failures a wait before the next try
  (1 s, 2 s, 4 s … up to a minute), after 10 a lock of a quarter of an hour. This is the
  everyday guard, and it locks out only the guesser: someone hammering `admin` from their
  own address does not lock the real admin out from the office.
- one account from every address (`ACCOUNT_POLICY`): a lock after 100 failures, a count only
  an attack spread over many addresses reaches. The right password from a *known address*
  (one the account signed in from before) still gets in during this lock, so a botnet cannot
  lock the staff out either.
- one address across accounts (`ADDRESS_POLICY`): 10 / 30, so guessing one password across
  every account is stopped too.

Counts live in Redis, shared by every worker, and expire on their own. An attempt is
checked and counted in one Lua script, so parallel sign-ins cannot all slip past the check
before any of them is counted; a success then takes back exactly what its attempt counted.

While a wait or a lock is on, the password is not even checked — a correct guess during a
lock teaches the guesser nothing. The one exception is the known-address pass through the
account-wide lock: there the password is checked, and a wrong one counts as a failure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

PREFIX = "console:login-fail:"
KNOWN_PREFIX = "console:login-known:"
KNOWN_SECONDS = 90 * 24 * 3600  # an address stays known this long after its last sign-in
KNOWN_MAX = 20  # addresses remembered per account (the most recent ones)


@dataclass(frozen=True)
class Policy:
    slow_after: int  # failures before waits begin
    lock_after: int  # failures before the lock
    lock_seconds: int
    max_wait: int = 60


PAIR_POLICY = Policy(slow_after=3, lock_after=10, lock_seconds=15 * 60)
# No slow-downs account-wide (slow_after == lock_after): a wait would hit every address.
ACCOUNT_POLICY = Policy(slow_after=100, lock_after=100, lock_seconds=15 * 60)
ADDRESS_POLICY = Policy(slow_after=10, lock_after=30, lock_seconds=15 * 60)
# The addresses an account failed from are kept as long as any of its counts can live.
TRIED_FROM_SECONDS = max(PAIR_POLICY.lock_seconds, ACCOUNT_POLICY.lock_seconds)


@dataclass(frozen=True)
class Ticket:
    """What one allowed attempt counted up front, so that a success takes back exactly that."""

    username: str
    address: str
    at: str  # the 'last' time the attempt wrote
    previous: tuple[str, str]  # 'last' of the account and address counts before it ('': none)


@dataclass(frozen=True)
class Verdict:
    wait_seconds: int  # 0: the attempt may go ahead
    locked: bool  # the wait is a lock, not just a slow-down
    ticket: Ticket | None = None  # set when `attempt` let the attempt go ahead

    @property
    def allowed(self) -> bool:
        return self.wait_seconds <= 0


def _key(kind: str, value: str) -> str:
    return f"{PREFIX}{kind}:{value}"


def _pair_key(username: str, address: str) -> str:
    # Addresses never contain '@', so the last '@' separates the two unambiguously.
    return _key("pair", f"{username}@{address}")


def _tried_from_key(username: str) -> str:
    """The addresses this account has failed from lately: where an unlock must look."""
    return _key("tried-from", username)


def _known_key(username: str) -> str:
    return KNOWN_PREFIX + username


def _keys(username: str, address: str) -> list[str]:
    return [
        _pair_key(username, address),
        _key("user", username),
        _key("addr", address),
        _known_key(username),
        _tried_from_key(username),
    ]


def _policy_args() -> list[int]:
    args: list[int] = []
    for policy in (PAIR_POLICY, ACCOUNT_POLICY, ADDRESS_POLICY):
        args += [policy.slow_after, policy.lock_after, policy.lock_seconds, policy.max_wait]
    return args


# KEYS: pair, account, address, known addresses, tried-from.
# ARGV: now, address, count ('1' or '0'), known seconds, tried-from seconds, then 4 numbers
# per policy (pair, account, address). Returns {allowed, wait, locked, previous last of
# account, previous last of address}.
_ATTEMPT = """
local now, address, count = tonumber(ARGV[1]), ARGV[2], ARGV[3] == '1'
local known_seconds, tried_seconds = tonumber(ARGV[4]), tonumber(ARGV[5])

local function policy(i)
  local b = 6 + i * 4
  return tonumber(ARGV[b]), tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
end

local function wait_of(key, i)
  local slow, lock, lock_s, max_wait = policy(i)
  local f = tonumber(redis.call('HGET', key, 'failures') or '0')
  local last = tonumber(redis.call('HGET', key, 'last') or '0')
  if f >= lock then
    if now < last + lock_s then return math.ceil(last + lock_s - now), 1 end
    return 0, 0
  end
  if f >= slow then
    local delay = math.min(max_wait, 2 ^ (f - slow))
    if now < last + delay then return math.ceil(last + delay - now), 0 end
  end
  return 0, 0
end

local worst, locked = 0, 0
local function consider(w, l)
  if w > worst then worst, locked = w, l end
end

consider(wait_of(KEYS[1], 0))
if address ~= '' then consider(wait_of(KEYS[3], 2)) end
local account_wait, account_locked = wait_of(KEYS[2], 1)
if account_wait > 0 then
  local seen = address ~= '' and redis.call('ZSCORE', KEYS[4], address)
  if not (seen and tonumber(seen) > now - known_seconds) then
    consider(account_wait, account_locked)
  end
end
if worst > 0 then return {0, worst, locked, '', ''} end
if not count then return {1, 0, 0, '', ''} end

local previous = {}
for i, key in ipairs({KEYS[1], KEYS[2], KEYS[3]}) do
  if i ~= 3 or address ~= '' then
    local _, _, lock_s = policy(i - 1)
    previous[i] = redis.call('HGET', key, 'last') or ''
    redis.call('HINCRBY', key, 'failures', 1)
    redis.call('HSET', key, 'last', ARGV[1])
    redis.call('EXPIRE', key, lock_s)
  end
end
redis.call('SADD', KEYS[5], address)
redis.call('EXPIRE', KEYS[5], tried_seconds)
return {1, 0, 0, previous[2], previous[3] or ''}
"""

# KEYS: pair, account, address, known addresses, tried-from.
# ARGV: the attempt's 'last', previous last of account, of address, address, now,
# known seconds, known max.
_SUCCEEDED = """
local function undo(key, previous)
  if redis.call('EXISTS', key) == 0 then return end
  if redis.call('HINCRBY', key, 'failures', -1) <= 0 then
    redis.call('DEL', key)
  elseif previous ~= '' and redis.call('HGET', key, 'last') == ARGV[1] then
    redis.call('HSET', key, 'last', previous)
  end
end

redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[5], ARGV[4])
undo(KEYS[2], ARGV[2])
if ARGV[4] ~= '' then
  undo(KEYS[3], ARGV[3])
  local now, seconds = tonumber(ARGV[5]), tonumber(ARGV[6])
  redis.call('ZADD', KEYS[4], now, ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - seconds)
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(tonumber(ARGV[7]) + 1))
  redis.call('EXPIRE', KEYS[4], seconds)
end
return 1
"""


def _run(client: redis.Redis, username: str, address: str, now: float, count: bool) -> Verdict:
    """`attempt` and `check` share one script, so what the hint says is what is enforced."""
    at = repr(float(now))
    args = [at, address, "1" if count else "0", KNOWN_SECONDS, TRIED_FROM_SECONDS,
            *_policy_args()]
    allowed, wait, locked, before_account, before_address = client.eval(
        _ATTEMPT, 5, *_keys(username, address), *args
    )
    if not allowed:
        return Verdict(int(wait), bool(locked))
    ticket = None
    if count:
        previous = (_text(before_account), _text(before_address))
        ticket = Ticket(username, address, at, previous)
    return Verdict(0, False, ticket)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def attempt(
    client: redis.Redis, username: str, address: str, now: float | None = None
) -> Verdict:
    """May this sign-in go ahead? If so it is counted as a failure until `succeeded`."""
    return _run(client, username, address, time.time() if now is None else now, count=True)


def check(client: redis.Redis, username: str, address: str, now: float | None = None) -> Verdict:
    """What the next attempt from this address would face (counts nothing)."""
    return _run(client, username, address, time.time() if now is None else now, count=False)


def succeeded(client: redis.Redis, ticket: Ticket, now: float | None = None) -> None:
    """The password was right: clear this account-and-address count, take back the attempt
    from the account-wide and address counts (other failures there stay), and remember the
    address as known for the account."""
    now = time.time() if now is None else now
    keys = _keys(ticket.username, ticket.address)
    args = [ticket.at, *ticket.previous, ticket.address, repr(float(now)), KNOWN_SECONDS,
            KNOWN_MAX]
    client.eval(_SUCCEEDED, 5, *keys, *args)


def record_failure(
    client: redis.Redis, username: str, address: str, now: float | None = None
) -> Verdict:
    """Count one failure whatever the current verdict; returns what the next attempt faces."""
    now = time.time() if now is None else now
    counts = [
        (_pair_key(username, address), PAIR_POLICY),
        (_key("user", username), ACCOUNT_POLICY),
    ]
    if address:
        counts.append((_key("addr", address), ADDRESS_POLICY))
    pipe = client.pipeline(transaction=True)
    for key, policy in counts:
        pipe.hincrby(key, "failures", 1)
        pipe.hset(key, "last", repr(float(now)))
        pipe.expire(key, policy.lock_seconds)
    pipe.sadd(_tried_from_key(username), address)
    pipe.expire(_tried_from_key(username), TRIED_FROM_SECONDS)
    pipe.execute()
    return check(client, username, address, now)


def known_addresses(client: redis.Redis, username: str) -> list[str]:
    """Where this account signed in successfully lately, newest first."""
    return [_text(a) for a in client.zrevrange(_known_key(username), 0, -1)]


def _addresses_of(client: redis.Redis, username: str) -> set[str]:
    tried = {_text(a) for a in client.smembers(_tried_from_key(username))}
    return tried | set(known_addresses(client, username))


def unlock(client: redis.Redis, username: str) -> None:
    """An admin's unlock: every count that stands between this account and a sign-in.

    That is the account-wide count, its count at every address, and the address-wide count
    of the addresses it failed from or is known at — the admin means "let this person in
    now", and behind a shared proxy that person is at the office's one address.
    """
    addresses = _addresses_of(client, username)
    pipe = client.pipeline(transaction=True)
    pipe.delete(_key("user", username), _tried_from_key(username))
    for address in addresses:
        pipe.delete(_pair_key(username, address))
        if address:
            pipe.delete(_key("addr", address))
    pipe.execute()


def is_locked(client: redis.Redis, username: str, now: float | None = None) -> bool:
    """Locked account-wide, or from at least one address (what the accounts list shows)."""
    now = time.time() if now is None else now
    counts = [(_key("user", username), ACCOUNT_POLICY)]
    counts += [(_pair_key(username, a), PAIR_POLICY) for a in _addresses_of(client, username)]
    pipe = client.pipeline(transaction=False)
    for key, _policy in counts:
        pipe.hmget(key, "failures", "last")
    rows = pipe.execute()
    return any(
        _locked(failures, last, policy, now)
        for (_name, policy), (failures, last) in zip(counts, rows, strict=True)
    )


def _locked(failures: bytes | None, last: bytes | None, policy: Policy, now: float) -> bool:
    if int(failures or 0) < policy.lock_after:
        return False
    return now < float(last or 0) + policy.lock_seconds
