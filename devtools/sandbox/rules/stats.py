"""Counters tests assert on, e.g. "ten workers fetched the token once, not ten times"."""

from __future__ import annotations

from collections import Counter
from typing import Any


class Stats:
    """Calls per WeChat path, errors per errcode, and successful token fetches."""

    def __init__(self) -> None:
        self.token_fetches = 0
        self.stable_token_fetches = 0
        self.calls: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()

    def snapshot(self, sent: int) -> dict[str, Any]:
        return {
            "token_fetches": self.token_fetches,
            "stable_token_fetches": self.stable_token_fetches,
            "calls": dict(self.calls),
            "errors": {str(code): n for code, n in self.errors.items()},
            "sent": sent,
        }
