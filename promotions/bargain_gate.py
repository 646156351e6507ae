"""The cut gate: one atomic Redis script decides whose help lands and which cut it gets.

A launch shared in a busy group may see hundreds of friends tap at once. Each attempt runs CUT,
which in one step checks the launch is open and not expired, that this helper has not cut it
yet, the helper's caps (per day and per campaign) and velocity, the launch's velocity, then
pops the next cut of the stored schedule and writes a *pending* entry (token → cut, helper,
time). Only attempts that got a cut reach SQL, which records the help behind two unique
constraints — (launch, helper) and (launch, cut position) — and a conditional UPDATE that
stops the launch at its last cut. SQL is the truth; Redis only keeps the crowd away from it.
Then the caller CONFIRMs the token (SQL committed: the entry moves to `done`, stamped, until
a sync's snapshot is sure to hold it) or RELEASEs it (SQL said no, or failed: the cut goes
back to the front of the list — unless SQL has that position already — and the helper's
counters go down).

Keys of one launch share the hash tag `bargain:{<launch id>}:…`: `meta` (expires in unix ms,
open flag), `cuts` (list of "position:fen" still to give), `helpers` (set of openids who
helped or wait for review), `pending` (token → "position:fen|openid|ms", stamped by Redis's
clock), `done` (confirmed entries, same shape, stamped at the confirm), `rate` (cuts in the
current minute). A helper's counters are `bargain:h:{<openid>}:day:<campaign>:<yyyymmdd>`,
`…:all:<campaign>` and `…:rate` (so a deployment on Redis Cluster keeps this script to one
node; the service runs one Redis).

How Redis and SQL stay in line (`sync`, from an SQL snapshot: at a launch's start, on a launch
Redis does not know, on a `stale` answer, after SQL refused a cut Redis gave, after an order
or a review approval, and from the reconcile job when its probe says so):
- the cuts list becomes the schedule's positions SQL has not recorded, minus positions held by
  pending entries younger than GRACE (in flight: their SQL may still commit);
- a pending entry older than GRACE belongs to a process that died between CUT and its commit
  (kill -9): it is dropped, and its position goes back on the list unless SQL has it;
- a done entry confirmed after the snapshot began keeps its position off the list and its
  helper in the set (the snapshot may have missed that commit); older done entries are
  dropped, since the snapshot has them;
- should a position still be given twice (Redis restored from an old dump), SQL's unique
  (launch, position) refuses the second, which releases without putting it back and syncs.
  So Redis can be wrong, stale (restarted from an old snapshot) or empty (restarted without
  one): what it costs is a retry, never a cut counted twice or a sum off by a fen.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import redis

#: A pending cut older than this belongs to a dead process (the webhook gives a handler 4 s,
#: SQLite's busy timeout is 15 s).
GRACE_SECONDS = 20
#: Keys outlive their launch by this much (the page still shows the final state from SQL).
KEEP_SECONDS = 3600
#: Velocity windows.
HELPER_WINDOW_SECONDS = 600
LAUNCH_WINDOW_SECONDS = 60

#: Redis's own clock in ms, inside a script: every pending and confirmed entry is stamped
#: and judged by the one clock all hosts share, not by the callers' clocks.
CLOCK = """
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: meta, cuts, helpers, pending, rate, helper day, helper campaign, helper rate.
# ARGV: openid, token, request time ms (against the launch's expiry), day cap, campaign cap,
#       helper rate cap, launch rate cap, helper day ttl seconds, grace ms.
CUT = CLOCK + """
local expires = redis.call('HGET', KEYS[1], 'expires')
if not expires then return 'missing' end
if redis.call('HGET', KEYS[1], 'open') ~= '1' then return 'closed' end
if tonumber(ARGV[3]) >= tonumber(expires) then return 'expired' end
local pending = redis.call('HGETALL', KEYS[4])
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
  for i = 2, #pending, 2 do
    if string.match(pending[i], '^[^|]+|(.*)|%d+$') == ARGV[1] then return 'inflight' end
  end
  return 'again'
end
if redis.call('LLEN', KEYS[2]) == 0 then
  if #pending == 0 then return 'complete' end
  for i = 2, #pending, 2 do
    local at = tonumber(string.match(pending[i], '|(%d+)$'))
    if clock - at >= tonumber(ARGV[9]) then return 'stale' end
  end
  return 'busy'
end
if tonumber(redis.call('GET', KEYS[6]) or '0') >= tonumber(ARGV[4]) then return 'day_cap' end
if tonumber(redis.call('GET', KEYS[7]) or '0') >= tonumber(ARGV[5]) then
  return 'campaign_cap'
end
if tonumber(redis.call('GET', KEYS[8]) or '0') >= tonumber(ARGV[6]) then return 'slow_helper' end
if tonumber(redis.call('GET', KEYS[5]) or '0') >= tonumber(ARGV[7]) then return 'slow_launch' end
local cut = redis.call('LPOP', KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[2], cut .. '|' .. ARGV[1] .. '|' .. clock)
if redis.call('INCR', KEYS[5]) == 1 then redis.call('EXPIRE', KEYS[5], LAUNCH_WINDOW) end
if redis.call('INCR', KEYS[6]) == 1 then redis.call('EXPIRE', KEYS[6], ARGV[8]) end
if redis.call('INCR', KEYS[7]) == 1 then redis.call('EXPIRE', KEYS[7], 86400 * 60) end
if redis.call('INCR', KEYS[8]) == 1 then redis.call('EXPIRE', KEYS[8], HELPER_WINDOW) end
return 'ok:' .. cut
""".replace("LAUNCH_WINDOW", str(LAUNCH_WINDOW_SECONDS)).replace(
    "HELPER_WINDOW", str(HELPER_WINDOW_SECONDS))

# KEYS: pending, done. ARGV: token.
# The entry moves to `done` stamped with the confirm time, rather than vanishing: a sync whose
# SQL snapshot was read before this commit must not give the position out again (SYNC).
CONFIRM = CLOCK + """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local cut, openid = string.match(entry, '^([^|]+)|(.*)|%d+$')
redis.call('HSET', KEYS[2], ARGV[1], cut .. '|' .. openid .. '|' .. clock)
return 1
"""

# KEYS: pending, cuts, helpers, rate, helper day, helper campaign, helper rate.
# ARGV: token, keep helper (1: SQL has this helper's help, so they stay in `helpers`),
#       drop cut (1: SQL already has that position: it is not put back).
RELEASE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local cut, openid = string.match(entry, '^([^|]+)|(.*)|%d+$')
if ARGV[3] ~= '1' then redis.call('LPUSH', KEYS[2], cut) end
if ARGV[2] ~= '1' then redis.call('SREM', KEYS[3], openid) end
for i = 4, 7 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 1
"""

# KEYS: meta, cuts, helpers, pending, done.
# ARGV: snapshot start (Redis ms, read before the SQL snapshot), grace ms, expires ms, open
# flag, keep seconds, then the positions "p:fen" SQL has not recorded, then "|", then the
# helpers SQL has.
# A pending entry younger than grace is in flight; older, its process died: dropped. A done
# entry confirmed after the snapshot started is a commit the snapshot may have missed: its
# position is not free and its helper stays; older done entries are in the snapshot: dropped.
SYNC = CLOCK + """
local since, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local taken, dropped = {}, 0
local all = redis.call('HGETALL', KEYS[4])
for i = 1, #all, 2 do
  local cut, openid, at = string.match(all[i + 1], '^([^|]+)|(.*)|(%d+)$')
  if cut and clock - tonumber(at) < grace then
    taken[cut] = openid
  else
    redis.call('HDEL', KEYS[4], all[i])
    dropped = dropped + 1
  end
end
local done = redis.call('HGETALL', KEYS[5])
for i = 1, #done, 2 do
  local cut, openid, at = string.match(done[i + 1], '^([^|]+)|(.*)|(%d+)$')
  if cut and tonumber(at) >= since then
    taken[cut] = openid
  else
    redis.call('HDEL', KEYS[5], done[i])
  end
end
redis.call('DEL', KEYS[2], KEYS[3])
local i = 6
while ARGV[i] ~= '|' do
  if not taken[ARGV[i]] then redis.call('RPUSH', KEYS[2], ARGV[i]) end
  i = i + 1
end
for j = i + 1, #ARGV do redis.call('SADD', KEYS[3], ARGV[j]) end
for _, openid in pairs(taken) do redis.call('SADD', KEYS[3], openid) end
redis.call('HSET', KEYS[1], 'expires', ARGV[3], 'open', ARGV[4])
for k = 1, 5 do redis.call('EXPIRE', KEYS[k], tonumber(ARGV[5])) end
return {redis.call('LLEN', KEYS[2]), dropped}
"""

# KEYS: meta, pending. ARGV: grace ms. Whether a sync is due: -1 the launch is unknown,
# 1 a pending entry is older than grace, else 0; and the open flag Redis has.
PROBE = CLOCK + """
local open = redis.call('HGET', KEYS[1], 'open')
if not open then return {-1, ''} end
local all = redis.call('HGETALL', KEYS[2])
for i = 2, #all, 2 do
  if clock - tonumber(string.match(all[i], '|(%d+)$')) >= tonumber(ARGV[1]) then
    return {1, open}
  end
end
return {0, open}
"""


@dataclass(frozen=True)
class Limits:
    """A helper's caps in one campaign, and the velocity limits."""

    per_day: int
    per_campaign: int
    helper_per_window: int
    launch_per_minute: int


@dataclass(frozen=True)
class Snapshot:
    """One launch as SQL has it: what `sync` rebuilds Redis from."""

    expires: datetime
    open: bool
    free: tuple[tuple[int, int], ...]  # (position, fen) not recorded in SQL, in order
    helpers: frozenset[str]


def launch_keys(launch_id: int) -> list[str]:
    """meta, cuts, helpers, pending, rate, done."""
    base = f"bargain:{{{launch_id}}}:"
    return [base + "meta", base + "cuts", base + "helpers", base + "pending", base + "rate",
            base + "done"]


def helper_keys(openid: str, campaign_id: int, day: str) -> list[str]:
    base = f"bargain:h:{{{openid}}}:"
    return [f"{base}day:{campaign_id}:{day}", f"{base}all:{campaign_id}", base + "rate"]


def new_token() -> str:
    return secrets.token_hex(12)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def server_ms(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def cut(client: redis.Redis, launch_id: int, campaign_id: int, openid: str, token: str,
        now: datetime, day: str, limits: Limits) -> tuple[str, int, int]:
    """(answer, position, fen): answer "ok" with the cut popped, else why not (`missing`:
    Redis does not know the launch, `stale`: a dead process holds the last cut — sync and ask
    again; `inflight`: this helper's own earlier request is still being recorded)."""
    meta, cuts, helpers, pending, rate, _done = launch_keys(launch_id)
    keys = [meta, cuts, helpers, pending, rate, *helper_keys(openid, campaign_id, day)]
    answer = client.eval(CUT, len(keys), *keys, openid, token, _ms(now), limits.per_day,
                         limits.per_campaign, limits.helper_per_window,
                         limits.launch_per_minute, 2 * 86400, GRACE_SECONDS * 1000)
    answer = answer.decode() if isinstance(answer, bytes) else str(answer)
    if not answer.startswith("ok:"):
        return answer, -1, 0
    position, fen = answer[3:].split(":")
    return "ok", int(position), int(fen)


def confirm(client: redis.Redis, launch_id: int, token: str) -> None:
    keys = launch_keys(launch_id)
    client.eval(CONFIRM, 2, keys[3], keys[5], token)


def release(client: redis.Redis, launch_id: int, campaign_id: int, openid: str, token: str,
            day: str, *, keep_helper: bool, drop_cut: bool = False) -> bool:
    """Give the cut back (SQL did not record it; `drop_cut`: SQL has that position already,
    so it is not put back); False when the token was already gone."""
    _meta, cuts, helpers, pending, rate, _done = launch_keys(launch_id)
    keys = [pending, cuts, helpers, rate, *helper_keys(openid, campaign_id, day)]
    return bool(client.eval(RELEASE, len(keys), *keys, token, "1" if keep_helper else "0",
                            "1" if drop_cut else "0"))


def sync(client: redis.Redis, launch_id: int, snap: Snapshot, since_ms: int,
         now: datetime) -> tuple[int, int]:
    """Rebuild the launch's keys from `snap`, an SQL snapshot read after Redis's clock said
    `since_ms` (server_ms): (cuts left in Redis, dead pending entries dropped)."""
    keep = max(60, int((snap.expires - now).total_seconds()) + KEEP_SECONDS)
    args: list[str | int] = [since_ms, GRACE_SECONDS * 1000, _ms(snap.expires),
                             "1" if snap.open else "0", keep]
    args += [f"{position}:{fen}" for position, fen in snap.free]
    args.append("|")
    args += sorted(snap.helpers)
    meta, cuts, helpers, pending, _rate, done = launch_keys(launch_id)
    keys = [meta, cuts, helpers, pending, done]
    left, dropped = client.eval(SYNC, len(keys), *keys, *args)
    return int(left), int(dropped)


def probe(client: redis.Redis, launch_id: int) -> tuple[int, bool | None]:
    """(-1 unknown to Redis | 1 a dead pending entry | 0 fine, Redis's open flag)."""
    keys = launch_keys(launch_id)
    state, open_flag = client.eval(PROBE, 2, keys[0], keys[3], GRACE_SECONDS * 1000)
    flag = open_flag.decode() if isinstance(open_flag, bytes) else str(open_flag)
    return int(state), (flag == "1") if flag else None


def forget(client: redis.Redis, launch_ids: Iterable[int]) -> None:
    """Drop the keys of launches that are over (they expire on their own otherwise)."""
    for launch_id in launch_ids:
        client.delete(*launch_keys(launch_id))
