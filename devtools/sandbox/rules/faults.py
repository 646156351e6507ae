"""Scripted failures: "the next N calls to this path answer errcode E after D seconds".

Retry, back-off and passive token refresh are only testable if WeChat misbehaves on demand.
Plans for one path queue up, so a test can script -1, -1, then 45047.

An `after_accept` fault lets the call go through first — the message is delivered and lands
in the outbox — and only then spoils the answer: errcode E instead of the success body, after
D seconds (a delay longer than the client's timeout is a lost answer). That is the case a
sender cannot tell from a refusal, and the one exactly-once sending must survive.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Fault:
    path: str
    errcode: int = -1
    times: int = 1
    delay: float = 0.0  # seconds to wait before answering; errcode 0 = slow success
    errmsg: str | None = None
    #: Deliver first, then answer `errcode` (after `delay`) instead of the success body.
    after_accept: bool = False


class Faults:
    """Pending fault plans per path."""

    def __init__(self) -> None:
        self._plans: dict[str, list[Fault]] = {}

    def add(self, fault: Fault) -> None:
        if fault.times < 1 or fault.delay < 0:
            raise ValueError("times must be ≥1 and delay ≥0")
        self._plans.setdefault(fault.path, []).append(fault)

    def take(self, path: str) -> Fault | None:
        """Use up one call of the first plan for `path`; None when the call should be normal."""
        plans = self._plans.get(path)
        if not plans:
            return None
        plan = plans[0]
        plan.times -= 1
        if plan.times <= 0:
            plans.pop(0)
        return Fault(path, plan.errcode, 1, plan.delay, plan.errmsg, plan.after_accept)

    def clear(self, path: str | None = None) -> None:
        if path is None:
            self._plans.clear()
        else:
            self._plans.pop(path, None)

    def pending(self) -> list[dict]:
        return [asdict(f) for plans in self._plans.values() for f in plans]
