"""Template messages and subscription notices: msgids, client_msg_id dedupe, opt-ins.

A template message with the same `client_msg_id` to the same openid within 10 minutes is sent
once (WECHAT_API.md §5B; what WeChat answers the second time is unverified — the sandbox answers
success with the first msgid). A `subscribe/bizsend` notice spends one opt-in the user gave in
a popup; none left → 43101 (§5C).
"""

from __future__ import annotations

from devtools.sandbox.errors import WxError

CLIENT_MSG_ID_SECONDS = 600


class Notices:
    """Template msgids and per-(openid, template) one-time opt-ins."""

    def __init__(self) -> None:
        self._sent: dict[tuple[str, str], tuple[int, float]] = {}
        self._optins: dict[tuple[str, str], int] = {}
        self._next_msgid = 200_228_001

    def template_msgid(self, openid: str, client_msg_id: str | None,
                       now: float) -> tuple[int, bool]:
        """(msgid, duplicate): a duplicate must not be delivered a second time."""
        if client_msg_id:
            seen = self._sent.get((openid, client_msg_id))
            if seen is not None and now - seen[1] < CLIENT_MSG_ID_SECONDS:
                return seen[0], True
        msgid, self._next_msgid = self._next_msgid, self._next_msgid + 1
        if client_msg_id:
            self._sent[(openid, client_msg_id)] = (msgid, now)
        return msgid, False

    def accept(self, openid: str, template_id: str) -> None:
        """The user ticked "accept" in a subscription popup: one more send allowed."""
        key = (openid, template_id)
        self._optins[key] = self._optins.get(key, 0) + 1

    def refuse(self, openid: str, template_id: str) -> None:
        """The user rejected or later withdrew: nothing more may be sent."""
        self._optins.pop((openid, template_id), None)

    def spend(self, openid: str, template_id: str) -> None:
        key = (openid, template_id)
        if self._optins.get(key, 0) <= 0:
            raise WxError(43101)
        self._optins[key] -= 1

    def optins(self, openid: str) -> dict[str, int]:
        return {tid: n for (oid, tid), n in self._optins.items() if oid == openid and n > 0}
