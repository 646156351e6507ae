"""Did a push make customers buy? Orders paid within 7 days, against the holdout.

A recipient *converts* when they have an order paid within `WINDOW` (7 days) of their own
delivery (`sent_at`): the clock starts when the message could first have had an effect. The
holdout (planned, never sent) has no send time, so their window starts at the run's fire
time — the moment they would have received it. Each delivery counts once, so a customer
reached by two runs of a cron push is two trials, as they were two chances to convert.

Only orders still paid, shipped or completed count (`shop.orders.COUNTED_SOLD`): an order
refunded since is not a sale the push brought. Announcement runs are left out: they prepare
the main run, whose recipients are measured.

The comparison of two rates is the difference of two independent proportions with a 95%
confidence interval by **Newcombe's hybrid score method** (Newcombe 1998, method 10), built
from each group's Wilson score interval. It is chosen over the plain Wald interval because
push conversions are small rates (a few percent) where Wald's interval is too narrow and can
cross 0 or 1; Newcombe's stays honest there and needs no iteration. A difference is called
real when the interval does not contain 0; with fewer than `MIN_SAMPLE` people in either
group nothing is concluded at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.pushes import PushDelivery, PushRun
from core.clock import as_utc
from shop.orders import COUNTED_SOLD, Order

WINDOW = timedelta(days=7)
#: Fewer people than this in a group and a rate is mostly noise: no verdict is given.
MIN_SAMPLE = 30
#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054
HOLDOUT = "对照组"


@dataclass(frozen=True)
class Group:
    """One arm: how many were reached (or held out) and how many of them bought in 7 days.
    `open` counts those whose 7 days are not over yet: the figures may still grow."""

    label: str
    recipients: int
    converters: int
    open: int = 0

    @property
    def rate(self) -> float:
        return self.converters / self.recipients if self.recipients else 0.0

    def wilson(self, z: float = Z95) -> tuple[float, float]:
        """The Wilson score interval of the rate ((0, 1) for an empty group)."""
        n = self.recipients
        if n == 0:
            return 0.0, 1.0
        p = self.rate
        denominator = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Difference:
    """`first` minus `second`, as a proportion, with its 95% Newcombe interval."""

    first: Group
    second: Group
    difference: float
    low: float
    high: float

    @property
    def enough(self) -> bool:
        return min(self.first.recipients, self.second.recipients) >= MIN_SAMPLE

    @property
    def real(self) -> bool:
        """True when there is a verdict and the interval stays on one side of 0."""
        return self.enough and (self.low > 0 or self.high < 0)


def compare(first: Group, second: Group, z: float = Z95) -> Difference:
    """Newcombe's hybrid score interval for rate(first) − rate(second)."""
    p1, p2 = first.rate, second.rate
    l1, u1 = first.wilson(z)
    l2, u2 = second.wilson(z)
    d = p1 - p2
    below = math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    above = math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(first, second, d, d - below, d + above)


def _percent(value: float) -> str:
    return f"{value * 100 + 0.0:.1f}%"


def _points(value: float) -> str:
    """Signed percentage points to one decimal, never "-0.0"."""
    shown = round(value * 100, 1) + 0.0
    return f"{shown:+.1f}"


def verdict_text(diff: Difference) -> str:
    """The comparison as one plain sentence a manager can act on, e.g.
    「A组转化率4.2%，对照组2.1%，差异+2.1个百分点（95%置信区间 +0.8 ~ +3.4），差异是真实的」."""
    a, b = diff.first, diff.second
    rates = f"{a.label}转化率{_percent(a.rate)}，{b.label}{_percent(b.rate)}"
    if not diff.enough:
        return (f"{rates}（{a.label}{a.recipients}人，{b.label}{b.recipients}人），"
                f"样本太少，还不能下结论（每组至少需要{MIN_SAMPLE}人）")
    interval = f"95%置信区间 {_points(diff.low)} ~ {_points(diff.high)}"
    ending = "差异是真实的" if diff.real else "置信区间跨过0，目前还不能说有差异"
    return f"{rates}，差异{_points(diff.difference)}个百分点（{interval}），{ending}"


@dataclass(frozen=True)
class Conversion:
    """Per A/B variant against the holdout, and A against B when there are two variants."""

    variants: tuple[Group, ...]
    holdout: Group
    against_holdout: tuple[Difference, ...]
    a_vs_b: Difference | None

    @property
    def sentences(self) -> list[str]:
        found = [verdict_text(d) for d in self.against_holdout]
        if self.a_vs_b is not None:
            found.append(verdict_text(self.a_vs_b))
        return found

    @property
    def open(self) -> int:
        return sum(g.open for g in self.variants) + self.holdout.open


def _label(variant: str) -> str:
    return f"{variant}组"


def conversion(db: Session, run_ids: Sequence[int], now: datetime) -> Conversion:
    """Conversion over these runs' deliveries: sent ones per variant, and the holdout.

    Two queries whatever the size: the deliveries with their window start, then the paid
    orders of those customers inside the widest window, matched up in memory."""
    trials: list[tuple[str, bool, str, datetime]] = []  # (variant, holdout, openid, start)
    if run_ids:
        rows = db.execute(
            select(PushDelivery.variant, PushDelivery.holdout, PushDelivery.openid,
                   PushDelivery.state, PushDelivery.sent_at, PushRun.fire_at)
            .join(PushRun, PushRun.id == PushDelivery.run_id)
            .where(PushDelivery.run_id.in_(list(run_ids)), PushRun.kind == "main")
            .where((PushDelivery.holdout.is_(True)) | (PushDelivery.state == "sent")))
        for variant, holdout, openid, state, sent_at, fire_at in rows:
            if holdout:
                trials.append((variant, True, openid, as_utc(fire_at)))
            elif state == "sent" and sent_at is not None:
                trials.append((variant, False, openid, as_utc(sent_at)))
    paid: dict[str, list[datetime]] = defaultdict(list)
    if trials:
        earliest = min(t[3] for t in trials)
        latest = max(t[3] for t in trials) + WINDOW
        openids = select(PushDelivery.openid).where(PushDelivery.run_id.in_(list(run_ids)))
        for openid, paid_at in db.execute(
                select(Order.openid, Order.paid_at).distinct()
                .where(Order.openid.in_(openids), Order.state.in_(COUNTED_SOLD),
                       Order.paid_at >= earliest, Order.paid_at < latest)):
            paid[openid].append(as_utc(paid_at))
    now = as_utc(now)
    counts: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0, 0])
    for variant, holdout, openid, start in trials:
        cell = counts[("" if holdout else variant, holdout)]
        cell[0] += 1
        cell[1] += any(start <= at < start + WINDOW for at in paid.get(openid, ()))
        cell[2] += now < start + WINDOW
    variants = tuple(Group(_label(v), *counts[(v, False)])
                     for v in sorted(v for v, h in counts if not h))
    holdout = Group(HOLDOUT, *counts[("", True)])
    by_key = {g.label: g for g in variants}
    a, b = by_key.get(_label("A")), by_key.get(_label("B"))
    return Conversion(
        variants=variants, holdout=holdout,
        against_holdout=tuple(compare(g, holdout) for g in variants),
        a_vs_b=compare(a, b) if a is not None and b is not None else None)


def for_run(db: Session, run_id: int, now: datetime) -> Conversion:
    """One run's conversion (an announcement run has none: its recipients are not measured)."""
    return conversion(db, [run_id], now)


def for_push(db: Session, push_id: int, now: datetime) -> Conversion:
    """All the push's main runs together."""
    run_ids = list(db.scalars(select(PushRun.id).where(PushRun.push_id == push_id,
                                                       PushRun.kind == "main")))
    return conversion(db, run_ids, now)
