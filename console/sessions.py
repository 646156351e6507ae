"""Signed-in sessions, kept in Redis so that signing out really ends them.

The browser holds only a random session id inside Flask's signed, HttpOnly cookie; the
account it belongs to lives in Redis with an idle timeout. Signing out deletes the Redis
entry, so a copied cookie is worthless afterwards, and a password change or a disabled
account ends every session through the account's `session_epoch`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import redis

PREFIX = "console:session:"
IDLE_SECONDS = 8 * 3600


@dataclass(frozen=True)
class LoginSession:
    sid: str
    account_id: int
    epoch: int


def start(client: redis.Redis, account_id: int, epoch: int) -> LoginSession:
    sid = secrets.token_urlsafe(32)
    client.set(PREFIX + sid, json.dumps({"account": account_id, "epoch": epoch}), ex=IDLE_SECONDS)
    return LoginSession(sid, account_id, epoch)


def load(client: redis.Redis, sid: str) -> LoginSession | None:
    """The session for `sid`, its idle timer restarted; None if it ended or never was."""
    if not sid:
        return None
    pipe = client.pipeline(transaction=False)
    pipe.get(PREFIX + sid)
    pipe.expire(PREFIX + sid, IDLE_SECONDS)
    raw, _ = pipe.execute()
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return LoginSession(sid, int(data["account"]), int(data["epoch"]))
    except (ValueError, KeyError, TypeError):
        return None


def end(client: redis.Redis, sid: str) -> None:
    if sid:
        client.delete(PREFIX + sid)
