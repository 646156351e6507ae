"""The flash-sale gate: one atomic Redis script admits a purchase before any SQL runs.

The first seconds of a session bring thousands of 抢 for a hundred units. Sending them all to
SQL would queue them behind one hot row, so each attempt first runs ADMIT, which in one step
checks the session is open, the units left and the customer's limit, takes the unit and
writes a *pending token* (openid, quantity, admission time). Only admitted attempts reach SQL,
which re-checks everything and stays the truth (promotions/flash_buying.py). Then the handler either
CONFIRMs the token (the SQL order committed: the unit stays taken) or RELEASEs it (SQL refused
or failed: the unit comes back). Both bump the item's generation counter.

Keys per item share one hash tag, `flash:{<item id>}:…`, so a Redis Cluster keeps them on one
slot: `meta` (opens, ends in unix ms, limit, stock), `left`, `held` (openid → units),
`pending` (token → "openid|quantity|admitted ms"), `gen`, and `dropped` (tokens a sync took
for dead, same entries: see below).

Reconciliation (`sync`) rebuilds `left` and `held` from one SQL snapshot of the item's
purchases, plus the tokens still in flight. The race it must survive, and how:
- a purchase committed in SQL while its token is still pending (confirm not run yet): its
  token is in the snapshot's tokens, so it is counted once, by SQL, and the token dropped;
- a purchase that commits *after* the snapshot: its token is still pending when the script
  runs, so it counts as in flight — unless its CONFIRM ran between the snapshot and the
  script, which the generation counter detects (read before the snapshot, compared inside the
  script): the script then changes nothing and the caller retries;
- a token pending longer than GRACE belongs to a process that died between ADMIT and its SQL
  commit (kill -9): it is dropped, and its unit is back on sale;
- a cancellation in SQL (an unpaid order expired) is not pushed to Redis by the shop's
  listener (it runs inside the shop's transaction and has no Redis); the next sync sees it.

A purchase whose SQL runs longer than GRACE and commits after the snapshot is counted *zero*
times by that sync: its token is dropped as dead and SQL did not have it yet. Redis then has
one unit too many in `left` (and one too few in `held` for that customer), so the gate may
admit one attempt too many — which SQL refuses (its conditional UPDATE and limit count are
the truth), so nothing is oversold. It heals at once rather than at the next sync: a dropped
token is kept in `dropped`, and a CONFIRM that finds its token gone from `pending` but in
`dropped` takes the unit again (DECRBY `left`, HINCRBY `held`). A sync whose snapshot already
holds the purchase removes the token from `dropped` (it counts it through SQL), so a later
CONFIRM does not take the unit twice; a RELEASE of a dropped token just forgets it (its unit
was never counted).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import redis

#: A token older than this belongs to a dead process: the webhook gives a handler 4 s, SQLite's
#: busy timeout is 15 s; nothing alive holds an admission this long without committing.
GRACE_SECONDS = 20
#: Keys outlive their session by this much (live counts shown just after it ends).
KEEP_SECONDS = 24 * 3600

ADMIT = """
local opens = redis.call('HGET', KEYS[1], 'opens')
if not opens then return 'missing' end
local now = tonumber(ARGV[3])
if now < tonumber(opens) then return 'early' end
if now >= tonumber(redis.call('HGET', KEYS[1], 'ends')) then return 'ended' end
local q = tonumber(ARGV[2])
local held = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if held + q > tonumber(redis.call('HGET', KEYS[1], 'limit')) then return 'limit' end
if tonumber(redis.call('GET', KEYS[2]) or '0') < q then return 'soldout' end
redis.call('DECRBY', KEYS[2], q)
redis.call('HINCRBY', KEYS[3], ARGV[1], q)
redis.call('HSET', KEYS[4], ARGV[4], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3])
return 'ok'
"""

# KEYS: pending, gen, dropped, left, held. ARGV: token.
CONFIRM = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  local entry = redis.call('HGET', KEYS[3], ARGV[1])
  if entry then
    redis.call('HDEL', KEYS[3], ARGV[1])
    local openid, q = string.match(entry, '^(.*)|(%d+)|%d+$')
    redis.call('DECRBY', KEYS[4], q)
    redis.call('HINCRBY', KEYS[5], openid, q)
  end
end
return redis.call('INCR', KEYS[2])
"""

# KEYS: pending, left, held, gen, dropped. ARGV: token.
RELEASE = """
redis.call('HDEL', KEYS[5], ARGV[1])
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then
  redis.call('HDEL', KEYS[1], ARGV[1])
  local openid, q = string.match(entry, '^(.*)|(%d+)|%d+$')
  redis.call('INCRBY', KEYS[2], q)
  if redis.call('HINCRBY', KEYS[3], openid, -tonumber(q)) <= 0 then
    redis.call('HDEL', KEYS[3], openid)
  end
end
redis.call('INCR', KEYS[4])
return entry and 1 or 0
"""

# KEYS: meta, left, held, pending, gen, dropped. ARGV: expected gen, opens, ends, limit, stock, now,
# grace (ms), ttl (s), number of committed tokens, the tokens, then openid/units pairs.
SYNC = """
if (redis.call('GET', KEYS[5]) or '0') ~= ARGV[1] then return {0, 0, 0} end
local now, grace = tonumber(ARGV[6]), tonumber(ARGV[7])
local n = tonumber(ARGV[9])
local committed = {}
for i = 10, 9 + n do committed[ARGV[i]] = true end
local held, sold = {}, 0
for i = 10 + n, #ARGV, 2 do
  held[ARGV[i]] = tonumber(ARGV[i + 1])
  sold = sold + tonumber(ARGV[i + 1])
end
local inflight, dropped = 0, 0
local pending = redis.call('HGETALL', KEYS[4])
for i = 1, #pending, 2 do
  local token, entry = pending[i], pending[i + 1]
  local openid, q, at = string.match(entry, '^(.*)|(%d+)|(%d+)$')
  if committed[token] then
    redis.call('HDEL', KEYS[4], token)
  elseif now - tonumber(at) > grace then
    redis.call('HDEL', KEYS[4], token)
    redis.call('HSET', KEYS[6], token, entry)
    dropped = dropped + 1
  else
    inflight = inflight + tonumber(q)
    held[openid] = (held[openid] or 0) + tonumber(q)
  end
end
local gone = redis.call('HKEYS', KEYS[6])
for i = 1, #gone do
  if committed[gone[i]] then redis.call('HDEL', KEYS[6], gone[i]) end
end
redis.call('HSET', KEYS[1], 'opens', ARGV[2], 'ends', ARGV[3], 'limit', ARGV[4],
           'stock', ARGV[5])
redis.call('SET', KEYS[2], tonumber(ARGV[5]) - sold - inflight)
redis.call('DEL', KEYS[3])
for openid, q in pairs(held) do
  if q > 0 then redis.call('HSET', KEYS[3], openid, q) end
end
local ttl = tonumber(ARGV[8])
for i = 1, 6 do redis.call('EXPIRE', KEYS[i], ttl) end
return {1, tonumber(ARGV[5]) - sold - inflight, dropped}
"""


def keys(item_id: int) -> dict[str, str]:
    prefix = f"flash:{{{item_id}}}:"
    return {name: prefix + name
            for name in ("meta", "left", "held", "pending", "gen", "dropped")}


def new_token() -> str:
    return secrets.token_hex(12)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def admit(client: redis.Redis, item_id: int, openid: str, quantity: int, token: str,
          now: datetime) -> str:
    """"ok" (the unit is taken and `token` pending), or why not: "early", "ended", "limit",
    "soldout", or "missing" (the item is not loaded: sync it and ask again)."""
    k = keys(item_id)
    answer = client.eval(ADMIT, 4, k["meta"], k["left"], k["held"], k["pending"],
                         openid, quantity, _ms(now), token)
    return answer.decode() if isinstance(answer, bytes) else str(answer)


def confirm(client: redis.Redis, item_id: int, token: str) -> None:
    """The purchase behind `token` committed in SQL: its unit stays taken (and is taken again
    if a sync had dropped the token as dead meanwhile: see the module's docstring)."""
    k = keys(item_id)
    client.eval(CONFIRM, 5, k["pending"], k["gen"], k["dropped"], k["left"], k["held"], token)


def release(client: redis.Redis, item_id: int, token: str) -> bool:
    """SQL refused or failed: the admission is given back (once; False if already gone)."""
    k = keys(item_id)
    return bool(client.eval(RELEASE, 5, k["pending"], k["left"], k["held"], k["gen"],
                            k["dropped"], token))


@dataclass(frozen=True)
class Snapshot:
    """What SQL says about one item, read in one statement (see flash_buying.snapshot)."""

    opens: datetime
    ends: datetime
    limit: int
    stock: int
    tokens: frozenset[str]  # every purchase's admission token (active or returned)
    held: dict[str, int]  # openid → active units


def generation(client: redis.Redis, item_id: int) -> str:
    """Read before the SQL snapshot, handed to `sync` (see the module's docstring)."""
    value = client.get(keys(item_id)["gen"])
    return value.decode() if value else "0"


def sync(client: redis.Redis, item_id: int, gen: str, snap: Snapshot, now: datetime,
         grace_seconds: int = GRACE_SECONDS) -> tuple[int, int] | None:
    """Make Redis agree with `snap`; returns (units left, crashed admissions dropped), or None
    when a purchase confirmed meanwhile (read the generation and the snapshot again)."""
    k = keys(item_id)
    pairs: list[object] = []
    for openid, units in snap.held.items():
        pairs += [openid, units]
    ttl = max(60, int((snap.ends - now).total_seconds()) + KEEP_SECONDS)
    done, left, dropped = client.eval(
        SYNC, 6, k["meta"], k["left"], k["held"], k["pending"], k["gen"], k["dropped"],
        gen, _ms(snap.opens), _ms(snap.ends), snap.limit, snap.stock, _ms(now),
        grace_seconds * 1000, ttl, len(snap.tokens), *snap.tokens, *pairs)
    if not done:
        return None
    return int(left), int(dropped)


def left(client: redis.Redis, item_ids: Iterable[int]) -> dict[int, int | None]:
    """Units left per item as the gate sees them (None: not loaded yet)."""
    ids = list(item_ids)
    if not ids:
        return {}
    values = client.mget([keys(item_id)["left"] for item_id in ids])
    return {item_id: (int(v) if v is not None else None) for item_id, v in zip(ids, values,
                                                                                  strict=True)}


def state(client: redis.Redis, item_id: int) -> dict[str, object]:
    """Everything the gate holds for an item (tests, the drill's comparison, the console)."""
    k = keys(item_id)
    raw_left = client.get(k["left"])
    return {
        "left": int(raw_left) if raw_left is not None else None,
        "held": {key.decode(): int(v) for key, v in client.hgetall(k["held"]).items()},
        "pending": len(client.hkeys(k["pending"])),
    }
