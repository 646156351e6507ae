"""Customer-service (客服) windows: who may receive a custom message now, and how many more.

Rules of WECHAT_API.md §5A (service-account doc, since 2023-06-12): each kind of user action
opens its own allowance. A message gives 5 sends for 48 h; a menu click, a follow or a QR scan
gives 3 sends for 1 minute; a payment gives unlimited sends for 48 h. A click does not renew
the message allowance. No open allowance → 45015; open but used up → 45047.
"""

from __future__ import annotations

from dataclasses import dataclass

from devtools.sandbox.errors import WxError

HOURS_48 = 48 * 3600
#: action kind → (seconds the allowance lasts, sends it allows; None = unlimited)
ALLOWANCES: dict[str, tuple[int, int | None]] = {
    "message": (HOURS_48, 5),
    "click": (60, 3),
    "subscribe": (60, 3),
    "scan": (60, 3),
    "payment": (HOURS_48, None),
}


@dataclass
class Allowance:
    kind: str
    opened_at: float
    expires_at: float
    remaining: int | None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "opened_at": self.opened_at, "expires_at": self.expires_at,
                "remaining": self.remaining}


class ServiceWindows:
    """Per-openid allowances opened by the user's actions."""

    def __init__(self) -> None:
        self._open: dict[str, dict[str, Allowance]] = {}

    def open(self, openid: str, kind: str, at: float) -> Allowance | None:
        """Record an action; a newer action of the same kind replaces the older allowance."""
        rule = ALLOWANCES.get(kind)
        if rule is None:
            return None  # other events (VIEW, LOCATION…) open nothing
        seconds, sends = rule
        allowance = Allowance(kind, at, at + seconds, sends)
        self._open.setdefault(openid, {})[kind] = allowance
        return allowance

    def close(self, openid: str) -> None:
        """An unfollow ends every allowance."""
        self._open.pop(openid, None)

    def active(self, openid: str, now: float) -> list[Allowance]:
        return [a for a in self._open.get(openid, {}).values() if now < a.expires_at]

    def consume(self, openid: str, now: float) -> Allowance:
        """Spend one send, from the allowance that ends soonest; raise 45015 or 45047."""
        active = self.active(openid, now)
        if not active:
            raise WxError(45015)
        usable = [a for a in active if a.remaining is None or a.remaining > 0]
        if not usable:
            raise WxError(45047)
        chosen = min(usable, key=lambda a: (a.remaining is None, a.expires_at))
        if chosen.remaining is not None:
            chosen.remaining -= 1
        return chosen
