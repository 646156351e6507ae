"""Conversation state per customer, for multi-step flows (pick → quantity → address → confirm).

State is a small JSON blob in Redis under `conv:<openid>` with a TTL, so an abandoned order
doesn't haunt a customer for days. It is read by the webhook's first Redis round trip and
written back by its last (see bot/dedup.py); handlers only use this object.
"""

from __future__ import annotations

import json
from typing import Any

CONVERSATION_PREFIX = "conv:"


def conversation_key(openid: str) -> str:
    return f"{CONVERSATION_PREFIX}{openid}"


def lock_key(openid: str) -> str:
    """Held while one message of this customer is being handled, so two can't both advance."""
    return f"{CONVERSATION_PREFIX}{openid}:lock"


class Conversation:
    """aiogram's FSMContext, without the I/O: get_state / set_state / update_data / clear."""

    def __init__(self, raw: bytes | str | None = None):
        loaded: dict[str, Any] = {}
        if raw:
            try:
                loaded = json.loads(raw)
            except ValueError:
                loaded = {}  # a corrupt blob must not wedge the customer; start over
        self._state: str | None = loaded.get("state")
        self._data: dict[str, Any] = dict(loaded.get("data") or {})
        ttl = loaded.get("ttl")
        self._ttl: int | None = ttl if isinstance(ttl, int) and ttl > 0 else None
        self.dirty = False

    def get_state(self) -> str | None:
        """The current step, as "flow:step" (e.g. "order:quantity"), or None."""
        return self._state

    def get_data(self) -> dict[str, Any]:
        return dict(self._data)

    def set_state(self, state: str | None) -> None:
        if state is None:
            self.clear()
            return
        self._state = state
        self.dirty = True

    def update_data(self, **values: Any) -> dict[str, Any]:
        self._data.update(values)
        self.dirty = True
        return dict(self._data)

    def clear(self) -> None:
        self._state, self._data, self._ttl = None, {}, None
        self.dirty = True

    def hold(self, seconds: int) -> None:
        """Keep this conversation for `seconds` after the last message instead of the usual
        half hour: an open customer-service ticket may wait a night for a person."""
        self._ttl = int(seconds)
        self.dirty = True

    @property
    def ttl_seconds(self) -> int | None:
        """The hold set by `hold`, or None for the app's default."""
        return self._ttl

    def dump(self) -> tuple[str, str]:
        """What the webhook's last round trip should do: ("keep"|"set"|"del", json)."""
        if not self.dirty:
            return "keep", ""
        if self._state is None and not self._data:
            return "del", ""
        blob: dict[str, Any] = {"state": self._state, "data": self._data}
        if self._ttl:
            blob["ttl"] = self._ttl
        return "set", json.dumps(blob, ensure_ascii=False)
