"""Daily API quotas (45009) and `clear_quota`, which may reset them 10 times a month (48006).

Defaults are a new account's limits from WECHAT_API.md §4; tests lower them through the
DAILY_LIMITS config key instead of making 2000 calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from devtools.sandbox.errors import WxError
from devtools.sandbox.rules.clock import china_day, china_month

DEFAULT_DAILY_LIMITS: dict[str, int] = {
    "/cgi-bin/token": 2000,
    "/cgi-bin/stable_token": 500_000,
    "/cgi-bin/message/custom/send": 500_000,
    "/cgi-bin/message/template/send": 100_000,
    "/cgi-bin/message/mass/sendall": 100,
    "/cgi-bin/message/mass/send": 100,
    "/cgi-bin/qrcode/create": 100_000,
    "/cgi-bin/user/get": 500,
    "/cgi-bin/user/info": 5_000_000,
}
CLEARS_PER_MONTH = 10


class Quotas:
    """Calls used per (Beijing day, path) against the daily limits."""

    def __init__(self, limits: Mapping[str, int] | None = None) -> None:
        self.limits = {**DEFAULT_DAILY_LIMITS, **(limits or {})}
        self._used: Counter[tuple[str, str]] = Counter()
        self._clears: Counter[str] = Counter()

    def spend(self, path: str, now: float) -> None:
        limit = self.limits.get(path)
        if limit is None:
            return
        key = (china_day(now), path)
        if self._used[key] >= limit:
            raise WxError(45009)
        self._used[key] += 1

    def clear(self, now: float) -> None:
        month = china_month(now)
        if self._clears[month] >= CLEARS_PER_MONTH:
            raise WxError(48006)
        self._clears[month] += 1
        today = china_day(now)
        for key in [k for k in self._used if k[0] == today]:
            del self._used[key]

    def report(self, path: str, now: float) -> dict[str, int]:
        """`openapi/quota/get`'s "quota" object (field names unverified)."""
        limit = self.limits.get(path, 0)
        used = self._used[(china_day(now), path)]
        return {"daily_limit": limit, "used": used, "remain": max(0, limit - used)}
