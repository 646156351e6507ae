"""Exactly-once handling of WeChat deliveries, in at most two Redis round trips per message.

WeChat resends a message it got no answer for within 5 s, up to three times. The first
delivery claims `dedup:<id>` (MsgId, or sender+time+event for events) and runs the handler; a
retry — even one that arrives while the first is still running — waits for and answers with
the very same reply bytes.

The claim script also records the customer's last interaction (shop/followers.py flushes it to
SQL), counts the message for the dashboard (bot/message_stats.py), takes the per-customer
conversation lock and loads the conversation state; the finish script stores the reply, saves
the state and releases the lock. That is what keeps the hot path at two round trips.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import redis

from bot import message_stats
from bot.inbound import Inbound
from bot.replies import SUCCESS
from bot.session import conversation_key, lock_key

DEDUP_PREFIX = "dedup:"
#: Redis hash openid → unix time of the latest interaction (a message, a menu click, a follow,
#: a scan), and MESSAGED + openid → that of the latest message the customer sent; shop.followers
#: moves both into SQL. Only a message opens WeChat's 48-hour window for later sends (a click
#: opens one minute), so the two are kept apart.
TOUCH_KEY = "followers:touched"
MESSAGED = "m:"
#: A claim being handled: PENDING, ":", and the unix time in ms its lease runs out. A live
#: process replaces it with the reply or, at its reply budget, with `success` (give_up); one
#: still pending after its lease was left by a process that died (kill -9) and is taken over
#: by the next retry. Without the lease, every retry for the next two minutes was answered
#: `success` and the message was never handled.
PENDING = b"\x00pending"
LOCK_TTL_MS = 10_000
#: Seconds past the reply budget before a pending claim counts as orphaned.
LEASE_MARGIN_SECONDS = 2.0

_CLAIM = """
if ARGV[14] ~= '' then  -- the (timestamp, nonce) must not have carried another message
  local bound = redis.call('GET', KEYS[7])
  if bound and bound ~= ARGV[14] then return {-1} end
  if not bound then redis.call('SET', KEYS[7], ARGV[14], 'EX', ARGV[15]) end
end
local current = redis.call('GET', KEYS[1])
if current then
  local prefix = ARGV[13]
  local lease = string.sub(current, 1, #prefix) == prefix
    and tonumber(string.sub(current, #prefix + 2))
  if not (lease and lease < tonumber(ARGV[12])) then return {0, current} end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])  -- orphaned: this retry handles it
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  if ARGV[16] == '1' then redis.call('HSET', KEYS[2], ARGV[17] .. ARGV[3], ARGV[4]) end
end
if not current then redis.call('HINCRBY', KEYS[5], ARGV[7], 1) end
if not current and ARGV[8] ~= '' then redis.call('HINCRBY', KEYS[5], ARGV[8], 1) end
if not current and ARGV[9] ~= '' then
  -- A text answering a flow step (an address, a phone, a quantity, 确认) is not a keyword.
  local count_text = true
  local conv = redis.call('GET', KEYS[3])
  if conv then
    local ok, c = pcall(cjson.decode, conv)
    if ok and type(c) == 'table' and type(c['state']) == 'string' then
      count_text = false
      for prefix in string.gmatch(ARGV[11], '[^,]+') do
        if string.sub(c['state'], 1, #prefix) == prefix then count_text = true end
      end
    end
  end
  if count_text then
    redis.call('LPUSH', KEYS[6], ARGV[9])
    redis.call('LTRIM', KEYS[6], 0, ARGV[10] - 1)
  end
end
local locked = 0
if redis.call('SET', KEYS[4], ARGV[5], 'NX', 'PX', ARGV[6]) then locked = 1 end
return {1, locked, redis.call('GET', KEYS[3])}
"""

_FINISH = """
local stored = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  stored = 1
end
if ARGV[4] == 'set' then redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[6])
elseif ARGV[4] == 'del' then redis.call('DEL', KEYS[2])
else redis.call('EXPIRE', KEYS[2], ARGV[6]) end
if redis.call('GET', KEYS[3]) == ARGV[7] then redis.call('DEL', KEYS[3]) end
return stored
"""

_GIVE_UP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return {1}
end
return {0, redis.call('GET', KEYS[1])}
"""


@dataclass(frozen=True)
class NonceBinding:
    """A signed query's (timestamp, nonce) key, the digest of its message, and how long the
    binding is kept (bot/middleware.py's BindNonce)."""

    key: str
    digest: bytes
    ttl: int


@dataclass
class Claim:
    """The outcome of the first round trip for one delivery."""

    first: bool  # this delivery runs the handler
    reply: bytes | None = None  # for a retry: the cached reply, or a pending claim
    locked: bool = False
    state: bytes | None = None
    lock_token: str = ""
    pending: bytes = b""  # this claim's own pending value (finish and give_up compare it)
    nonce_reused: bool = False  # the query's nonce came with another message: refuse it


class Ledger:
    """The Redis side of one webhook: claims, replies, conversation state and locks."""

    def __init__(self, client: redis.Redis, dedup_ttl: int, conversation_ttl: int,
                 lease_seconds: float = 4.0 + LEASE_MARGIN_SECONDS):
        self.redis = client
        self.dedup_ttl = dedup_ttl
        self.conversation_ttl = conversation_ttl
        self.lease_seconds = lease_seconds
        self._claim = client.register_script(_CLAIM)
        self._finish = client.register_script(_FINISH)
        self._give_up = client.register_script(_GIVE_UP)

    def claim(self, msg: Inbound, *, touch_at: float | None,
              nonce: NonceBinding | None = None) -> Claim:
        """Claim `msg`'s delivery; a first delivery is also counted for the dashboard."""
        token = uuid.uuid4().hex
        openid = msg.openid
        keys = [
            DEDUP_PREFIX + msg.dedup_id,
            TOUCH_KEY,
            conversation_key(openid),
            lock_key(openid),
            message_stats.COUNTS_KEY,
            message_stats.TEXTS_KEY,
            nonce.key if nonce else DEDUP_PREFIX + msg.dedup_id,  # unused without a binding
        ]
        kind_field, click_field, text_entry = message_stats.counted_fields(
            msg, message_stats.local_day(touch_at or time.time())
        )
        now_ms = int(time.time() * 1000)
        pending = PENDING + b":%d" % (now_ms + int(self.lease_seconds * 1000))
        args: list[Any] = [
            pending,
            self.dedup_ttl,
            openid if touch_at else "",
            touch_at or 0,
            token,
            LOCK_TTL_MS,
            kind_field,
            click_field,
            text_entry,
            message_stats.TEXTS_CAP,
            ",".join(message_stats.FREE_TEXT_STATES),
            now_ms,
            PENDING,
            nonce.digest if nonce else "",
            nonce.ttl if nonce else 0,
            "1" if msg.kind != "event" else "",
            MESSAGED,
        ]
        result = self._claim(keys=keys, args=args)
        if result[0] == -1:
            return Claim(first=False, nonce_reused=True)
        if not result[0]:
            return Claim(first=False, reply=result[1] if len(result) > 1 else None)
        state = result[2] if len(result) > 2 else None
        return Claim(first=True, locked=bool(result[1]), state=state, lock_token=token,
                     pending=pending)

    def wait_for_lock(self, openid: str, token: str, deadline: float) -> bytes | None:
        """Wait for another message of this customer to finish; returns the fresh state."""
        key = lock_key(openid)
        while time.monotonic() < deadline:
            if self.redis.set(key, token, nx=True, px=LOCK_TTL_MS):
                return self._get(conversation_key(openid))
            time.sleep(0.02)
        return self._get(conversation_key(openid))

    def _get(self, key: str) -> bytes | None:
        # The client is made without decode_responses, so values are bytes.
        return cast(bytes | None, self.redis.get(key))

    def finish(
        self, dedup_id: str, openid: str, reply: bytes, state_op: tuple[str, str], lock_token: str,
        ttl: int | None, pending: bytes,
    ) -> bool:
        """Store the reply (unless the webhook already gave up), save state, unlock.

        Returns False when the webhook had answered `success` meanwhile: the caller must then
        deliver the reply another way.
        """
        keys = [DEDUP_PREFIX + dedup_id, conversation_key(openid), lock_key(openid)]
        op, blob = state_op
        args: list[Any] = [pending, reply, self.dedup_ttl, op, blob,
                           ttl or self.conversation_ttl, lock_token]
        return bool(self._finish(keys=keys, args=args))

    def give_up(self, dedup_id: str, pending: bytes) -> bytes | None:
        """The handler is too slow: record `success` as the answer, unless it just finished.

        Returns None when `success` was recorded, else the reply the handler stored.
        """
        result = self._give_up(
            keys=[DEDUP_PREFIX + dedup_id], args=[pending, SUCCESS, self.dedup_ttl]
        )
        return None if result[0] else result[1]

    def wait_for_reply(self, dedup_id: str, deadline: float) -> bytes:
        """For a retry: the first delivery's reply once it exists, `success` at the deadline."""
        key = DEDUP_PREFIX + dedup_id
        while True:
            value = self._get(key)
            if value is not None and not value.startswith(PENDING):
                return value
            if value is None or time.monotonic() >= deadline:
                return SUCCESS
            time.sleep(0.02)
