"""What the customer wrote just before asking for a person, so the agent reads the complaint
instead of asking for it again.

The chat remembers each free-text message (a question, a complaint, what nothing answered; not
flow answers, commands or small talk) for ten minutes, the last five of them, in Redis apart
from the conversation, which a flow may clear. The ticket opened next takes them (and they are
forgotten, so a later ticket does not carry them twice).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import redis as redis_lib

KEY_PREFIX = "service:recent:"
KEEP = 5
WINDOW = timedelta(minutes=10)
MAX_CHARS = 500


class Said(NamedTuple):
    at: datetime
    text: str


def _key(openid: str) -> str:
    return f"{KEY_PREFIX}{openid}"


def remember(redis: redis_lib.Redis, openid: str, text: str, now: datetime) -> None:
    """Keep `text` as one of the customer's last messages."""
    entry = json.dumps({"at": now.timestamp(), "text": text[:MAX_CHARS]}, ensure_ascii=False)
    key = _key(openid)
    with redis.pipeline() as pipe:
        pipe.rpush(key, entry)
        pipe.ltrim(key, -KEEP, -1)
        pipe.expire(key, int(WINDOW.total_seconds()))
        pipe.execute()


def take(redis: redis_lib.Redis, openid: str, now: datetime) -> list[Said]:
    """The messages of the last ten minutes, oldest first, each text once; then forgets them."""
    key = _key(openid)
    with redis.pipeline() as pipe:
        pipe.lrange(key, 0, -1)
        pipe.delete(key)
        raw, _ = pipe.execute()
    kept: list[Said] = []
    for item in raw:
        try:
            entry = json.loads(item)
            said = Said(datetime.fromtimestamp(float(entry["at"]), UTC), str(entry["text"]))
        except (ValueError, KeyError, TypeError):
            continue  # a damaged entry loses itself, not the ticket
        if now - said.at <= WINDOW and said.text not in (s.text for s in kept):
            kept.append(said)
    return kept
