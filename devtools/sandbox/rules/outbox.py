"""Everything the shop sent, in order: what tests and the chat simulator read back.

Ids only grow (even across filters), so a reader polls with `since=<last_id>` and never sees a
message twice.
"""

from __future__ import annotations

from typing import Any


class Outbox:
    """An append-only log of delivered messages, one entry per recipient."""

    def __init__(self) -> None:
        self._messages: list[dict[str, Any]] = []
        self._last_id = 0

    @property
    def last_id(self) -> int:
        return self._last_id

    def __len__(self) -> int:
        return len(self._messages)

    def record(self, api: str, touser: str | None, msgtype: str | None,
               body: dict[str, Any], at: float, **extra: Any) -> dict[str, Any]:
        """Log one delivery; `api` is the path after /cgi-bin/message/, e.g. "custom/send"."""
        self._last_id += 1
        entry = {"id": self._last_id, "api": api, "touser": touser, "msgtype": msgtype,
                 "body": body, "time": at, **extra}
        self._messages.append(entry)
        return entry

    def since(self, since_id: int = 0, touser: str | None = None,
              api: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self._messages
                if m["id"] > since_id
                and (touser is None or m["touser"] == touser)
                and (api is None or m["api"] == api)]
