"""The sandbox's own clock: a base clock plus an offset tests can push forward.

Tests need to cross 5 minutes (token grace) or 48 hours (customer-service window) without
waiting, and the calendar rules (daily quotas, 4 mass messages a month) follow China time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CHINA_UTC_OFFSET = 8 * 3600  # WeChat's days and months roll over at midnight Beijing time


class SandboxClock:
    """`base()` plus an offset; only ever moved forward, as real time is."""

    def __init__(self, base: Callable[[], float] | None = None):
        self._base = base or time.time
        self.offset = 0.0

    def now(self) -> float:
        return float(self._base()) + self.offset

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` and return the new time."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += seconds
        return self.now()


def china_day(ts: float) -> str:
    """The Beijing calendar day of a unix time, e.g. "2024-05-01" (daily quotas reset here)."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts + CHINA_UTC_OFFSET))


def china_month(ts: float) -> str:
    """The Beijing calendar month of a unix time, e.g. "2024-05" (the 4-mass-per-month cap)."""
    return time.strftime("%Y-%m", time.gmtime(ts + CHINA_UTC_OFFSET))
