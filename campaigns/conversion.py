"""Did a push make customers buy? Orders paid within 7 days, against the holdout.

The comparison is by **intention to treat**: every recipient the planner meant to reach (a
delivery planned on a channel, not held out) is in their variant's group whatever became of
the delivery — sent, skipped or failed at send time, outcome unknown — and the holdout is
everyone held back at planning. Counting only the `sent` would compare a selected group (the
reachable, those whose send worked) with an unselected one and flatter the push. Both groups'
7-day windows (`WINDOW`) start at the run's fire time, the moment the push was meant to go.
Each delivery counts once, so a customer reached by two runs of a cron push is two trials, as
they were two chances to convert. Recipients the planner skipped (unreachable, capped) were
never planned and are in neither group.

Only orders still paid, shipped or completed count (`shop.orders.COUNTED_SOLD`): an order
refunded since is not a sale the push brought. Announcement runs are left out: they prepare
the main run, whose recipients are measured.

The counting is one grouped query per page section — per (run, variant, holdout) a count and
a count of those with an order in their window (an EXISTS on the orders) — so a daily push to
100,000 people is measured in the database, not by loading its deliveries into Python.

The comparison of two rates is the difference of two independent proportions with a 95%
confidence interval by **Newcombe's hybrid score method** (Newcombe 1998, method 10), built
from each group's Wilson score interval. It is chosen over the plain Wald interval because
push conversions are small rates (a few percent) where Wald's interval is too narrow and can
cross 0 or 1; Newcombe's stays honest there and needs no iteration. A difference is called
significant when the interval does not contain 0; with fewer than `MIN_SAMPLE` people in either
group nothing is concluded at all; while some windows are still open the sentence says the
result may change.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, select
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


SIGNIFICANT = "差异显著（95%置信区间不含0）"
NOT_YET = "置信区间跨过0，目前还不能说有差异"
STILL_OPEN = "（仍有顾客在7天观察期内，结果可能变化）"


def verdict_text(diff: Difference) -> str:
    """The comparison as one plain sentence a manager can act on, e.g.
    「A组转化率4.2%，对照组2.1%，差异+2.1个百分点（95%置信区间 +0.6 ~ +3.7），
    差异显著（95%置信区间不含0）」, followed by STILL_OPEN while either group has people
    whose 7 days are not over."""
    a, b = diff.first, diff.second
    rates = f"{a.label}转化率{_percent(a.rate)}，{b.label}{_percent(b.rate)}"
    still = STILL_OPEN if a.open or b.open else ""
    if not diff.enough:
        return (f"{rates}（{a.label}{a.recipients}人，{b.label}{b.recipients}人），"
                f"样本太少，还不能下结论（每组至少需要{MIN_SAMPLE}人）{still}")
    interval = f"95%置信区间 {_points(diff.low)} ~ {_points(diff.high)}"
    ending = SIGNIFICANT if diff.real else NOT_YET
    return f"{rates}，差异{_points(diff.difference)}个百分点（{interval}），{ending}{still}"


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


def _window_end(db: Session, start: Any) -> Any:
    """`start` + WINDOW in SQL. SQLite stores times as text ("YYYY-MM-DD HH:MM:SS.ffffff",
    UTC here) and has no interval type: its date functions give the same shape."""
    if db.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f000", start, f"+{WINDOW.days} days")
    return start + WINDOW


def _cells(db: Session, where: Any) -> list[tuple[int, datetime, str, bool, int, int]]:
    """(run id, fire time, variant, holdout, trials, converters) per (run, variant, holdout)
    of the main runs `where` selects: one grouped query, an EXISTS on the orders per row."""
    converted = exists().where(
        Order.openid == PushDelivery.openid, Order.state.in_(COUNTED_SOLD),
        Order.paid_at >= PushRun.fire_at, Order.paid_at < _window_end(db, PushRun.fire_at))
    holdout = func.coalesce(PushDelivery.holdout, False)
    query = (select(PushRun.id, PushRun.fire_at, PushDelivery.variant, holdout, func.count(),
                    func.sum(case((converted, 1), else_=0)))
             .join(PushRun, PushRun.id == PushDelivery.run_id)
             .where(where, PushRun.kind == "main")
             # intention to treat: held out, or planned on a channel (whatever became of it)
             .where((PushDelivery.holdout.is_(True))
                    | and_(PushDelivery.channel != "", PushDelivery.state != "holdout"))
             .group_by(PushRun.id, PushRun.fire_at, PushDelivery.variant, holdout))
    return [(run_id, as_utc(fire_at), variant or "", bool(held), int(n), int(bought or 0))
            for run_id, fire_at, variant, held, n, bought in db.execute(query)]


def _conversion(cells: Sequence[tuple[int, datetime, str, bool, int, int]],
                now: datetime) -> Conversion:
    now = as_utc(now)
    counts: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0, 0])
    for _run_id, fire_at, variant, holdout, trials, converters in cells:
        cell = counts[("" if holdout else variant, holdout)]
        cell[0] += trials
        cell[1] += converters
        cell[2] += trials if now < fire_at + WINDOW else 0
    variants = tuple(Group(_label(v), *counts[(v, False)])
                     for v in sorted(v for v, h in counts if not h))
    holdout_group = Group(HOLDOUT, *counts[("", True)])
    by_key = {g.label: g for g in variants}
    a, b = by_key.get(_label("A")), by_key.get(_label("B"))
    return Conversion(
        variants=variants, holdout=holdout_group,
        against_holdout=tuple(compare(g, holdout_group) for g in variants),
        a_vs_b=compare(a, b) if a is not None and b is not None else None)


def conversion(db: Session, run_ids: Sequence[int], now: datetime) -> Conversion:
    """Conversion over these runs' deliveries together: per variant, and the holdout."""
    if not run_ids:
        return _conversion([], now)
    return _conversion(_cells(db, PushRun.id.in_(list(run_ids))), now)


def for_runs(db: Session, run_ids: Sequence[int], now: datetime) -> dict[int, Conversion]:
    """Each run's conversion on its own, from one query (the push page's table of runs);
    runs without a delivery are absent."""
    if not run_ids:
        return {}
    by_run: dict[int, list[tuple[int, datetime, str, bool, int, int]]] = defaultdict(list)
    for cell in _cells(db, PushRun.id.in_(list(run_ids))):
        by_run[cell[0]].append(cell)
    return {run_id: _conversion(cells, now) for run_id, cells in by_run.items()}


def for_run(db: Session, run_id: int, now: datetime) -> Conversion:
    """One run's conversion (an announcement run has none: its recipients are not measured)."""
    return conversion(db, [run_id], now)


def for_push(db: Session, push_id: int, now: datetime) -> Conversion:
    """All the push's main runs together, in one query."""
    return _conversion(_cells(db, PushRun.push_id == push_id), now)
