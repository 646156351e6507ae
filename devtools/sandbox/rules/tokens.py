"""Access tokens: the two families (`cgi-bin/token`, `stable_token`) and when each dies.

The bugs this exists to expose are the multi-worker ones of WECHAT_API.md §1: a re-fetch of
`cgi-bin/token` leaves the previous token alive for only 5 more minutes, so a worker that
refreshes on its own silently breaks every other worker 5 minutes later with 40001.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from devtools.sandbox.errors import WxError
from devtools.sandbox.rules.clock import china_day

TOKEN_LIFETIME = 7200
REFETCH_GRACE = 300  # the previous cgi-bin/token token lives this long after a re-fetch
STABLE_ROTATE_BEFORE = 300  # stable_token rotates when less than this is left
FORCE_MIN_GAP = 30  # force_refresh calls closer than this return the current token
FORCE_DAILY_LIMIT = 20
PRUNE_AFTER = 86400  # forget dead tokens after a day (they then answer 40001, not 42001)


@dataclass
class Token:
    value: str
    family: str  # "token" or "stable"; the families never invalidate each other
    expires_at: float
    dies_at: float | None = None  # set when a newer token supersedes this one

    def expires_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now))


class TokenBook:
    """Issues and checks tokens by WeChat's rules."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._current: dict[str, Token] = {}
        self._last_force: float | None = None
        self._forced_per_day: dict[str, int] = {}

    def issue(self, now: float) -> Token:
        """`GET cgi-bin/token`: always a new token; the previous one dies 5 minutes from now."""
        old = self._current.get("token")
        if old is not None and old.dies_at is None:
            old.dies_at = min(old.expires_at, now + REFETCH_GRACE)
        return self._new("token", now)

    def stable(self, now: float, force: bool = False) -> Token:
        """`POST stable_token`: the same token while ≥5 min are left, unless forced."""
        current = self._current.get("stable")
        alive = current is not None and current.dies_at is None and now < current.expires_at
        if force:
            if alive and self._last_force is not None and now - self._last_force < FORCE_MIN_GAP:
                return current
            day = china_day(now)
            if self._forced_per_day.get(day, 0) >= FORCE_DAILY_LIMIT:
                raise WxError(45009, "(stable_token force_refresh: 20 per day)")
            self._forced_per_day[day] = self._forced_per_day.get(day, 0) + 1
            self._last_force = now
            if alive:
                current.dies_at = now  # force mode invalidates the old token at once
            return self._new("stable", now)
        if alive and current.expires_at - now >= STABLE_ROTATE_BEFORE:
            return current
        return self._new("stable", now)  # a rotated-out token keeps its own (short) expiry

    def check(self, value: str | None, now: float) -> Token:
        """The token behind `access_token=`, or the WxError WeChat would answer."""
        if not value:
            raise WxError(41001)
        token = self._tokens.get(value)
        if token is None or (token.dies_at is not None and now >= token.dies_at):
            raise WxError(40001)
        if now >= token.expires_at:
            raise WxError(42001)
        return token

    def _new(self, family: str, now: float) -> Token:
        self._prune(now)
        token = Token(secrets.token_urlsafe(96), family, now + TOKEN_LIFETIME)
        self._tokens[token.value] = token
        self._current[family] = token
        return token

    def _prune(self, now: float) -> None:
        dead = [
            value for value, t in self._tokens.items()
            if min(t.expires_at, t.dies_at or t.expires_at) < now - PRUNE_AFTER
        ]
        for value in dead:
            del self._tokens[value]
