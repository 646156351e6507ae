"""What a 砍价 campaign may cost and bring, shown to the merchant before it starts.

A merchant setting a floor and a number of helpers is guessing how many launches will reach
the floor, and so how much stock and money the campaign commits. The console shows the
consequences of those guesses here, next to the one assumption they rest on (how fast
friends arrive), so a bad setting is caught before customers meet it: not after the stock
is gone or every launch has stalled one friend short.

The model: the friends who help one launch arrive as a Poisson process of a stated rate per
hour; a launch completes when the N-th friend arrives within its time limit, and counts no
more helpers after that (the ledger stops at N). Pure arithmetic: no Flask, no SQL, no
randomness apart from one example schedule drawn with a fixed seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.money import MAX_FEN, yuan
from promotions.bargains import MAX_FRONT_LOADING, draw_schedule

#: The example schedule is drawn with this seed so a preview reads the same on every visit.
PREVIEW_SEED = 20_240_601
#: Below this chance most launches end one friend short and customers feel cheated.
LOW_COMPLETION = 0.10
#: Above it nearly every launch is bought at the floor: the floor is the real price.
HIGH_COMPLETION = 0.95
#: Relative size at which a Poisson series' next term no longer changes the sum.
_NEGLIGIBLE = 1e-17
_BISECTIONS = 200
#: Bounds that only catch typos and keep the arithmetic finite and quick; the campaign's own
#: limits (bargain_manager.campaign_problem) are narrower and are checked when it is created.
MAX_HELPERS = 1_000
MAX_HOURS = 24 * 365
MAX_ARRIVAL_PER_HOUR = 1_000_000
MAX_LAUNCHES = 100_000_000


class PreviewError(ValueError):
    """The input cannot be previewed; `problems` are the Chinese reasons, one per field."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PreviewInput:
    """The campaign's settings plus the merchant's guesses (launches, arrival rate, share of
    new customers). Building one never raises, so the console can show every problem of a
    form at once via `check`; `preview` refuses an input with problems."""

    price_fen: int
    floor_fen: int
    helpers_needed: int
    hours_per_launch: float
    expected_launches: int
    arrival_per_hour: float
    stock_quota: int
    starter_cuts: bool = False
    new_customer_share: float = 0.5
    unit_cost_fen: int | None = None
    front_loading: int = 60

    def problems(self) -> list[str]:
        return check(self)

    @property
    def cuts(self) -> int:
        """Entries in a launch's schedule: the starter's own cut, when allowed, comes first."""
        return self.helpers_needed + (1 if self.starter_cuts else 0)

    @property
    def mean_helpers(self) -> float:
        """λT: friends a launch would see in its time limit if nothing stopped them."""
        return self.arrival_per_hour * self.hours_per_launch


@dataclass(frozen=True)
class Preview:
    """Expected values over the whole campaign unless the name says per launch; money is
    rounded to whole fen only at the end, so the figures agree with each other."""

    completion_probability: float
    expected_helpers_per_launch: float
    expected_helpers: float
    expected_completions: float
    expected_new_customers: float
    discount_per_completion_fen: int
    total_discount_fen: int
    cost_per_new_customer_fen: int | None
    stock_exposure_units: int
    stock_exposure_fen: int
    margin_at_floor_fen: int | None
    median_hours_to_complete: float | None
    first_cut_fen: int | None
    schedule_example: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ---- validation ---------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    # bool is an int to Python, but a tick box sent as a count is a form bug.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if _is_int(value):
        return True
    return isinstance(value, float) and math.isfinite(value)


def check(data: PreviewInput) -> list[str]:
    """Every reason the input cannot be previewed (Chinese, for the form); empty when fine.

    Settings that are legal but unwise (floor above the price, too few helpers arriving)
    are not problems here: the preview shows them as warnings with their consequences.
    """
    problems: list[str] = []
    if not _is_int(data.price_fen) or not 1 <= data.price_fen <= MAX_FEN:
        problems.append(f"原价应在 ¥0.01 到 {yuan(MAX_FEN)} 之间")
    if not _is_int(data.floor_fen) or not 1 <= data.floor_fen <= MAX_FEN:
        problems.append(f"底价应在 ¥0.01 到 {yuan(MAX_FEN)} 之间")
    if not _is_int(data.helpers_needed) or not 1 <= data.helpers_needed <= MAX_HELPERS:
        problems.append(f"需要助力的人数应在 1–{MAX_HELPERS} 人之间")
    if not _is_number(data.hours_per_launch) or not 0 < data.hours_per_launch <= MAX_HOURS:
        problems.append(f"每次砍价的有效时长应大于 0 且不超过 {MAX_HOURS} 小时")
    if not _is_int(data.expected_launches) or not 0 <= data.expected_launches <= MAX_LAUNCHES:
        problems.append(f"预计发起次数应在 0–{MAX_LAUNCHES} 之间")
    if (not _is_number(data.arrival_per_hour)
            or not 0 <= data.arrival_per_hour <= MAX_ARRIVAL_PER_HOUR):
        problems.append(f"每小时助力人数应在 0–{MAX_ARRIVAL_PER_HOUR} 之间")
    if not _is_int(data.stock_quota) or data.stock_quota < 0:
        problems.append("砍价库存应为不小于 0 的整数")
    if not isinstance(data.starter_cuts, bool):
        problems.append("发起人是否自砍一刀应为是或否")
    if not _is_number(data.new_customer_share) or not 0 <= data.new_customer_share <= 1:
        problems.append("新顾客占比应在 0%–100% 之间")
    if data.unit_cost_fen is not None and (not _is_int(data.unit_cost_fen)
                                           or not 0 <= data.unit_cost_fen <= MAX_FEN):
        problems.append(f"成本应在 ¥0 到 {yuan(MAX_FEN)} 之间，或不填")
    if not _is_int(data.front_loading) or not 0 <= data.front_loading <= MAX_FRONT_LOADING:
        problems.append(f"前几刀力度应在 0–{MAX_FRONT_LOADING} 之间")
    return problems


# ---- the Poisson arithmetic ---------------------------------------------------------------


def _poisson_split(mean: float, n: int) -> tuple[float, float]:
    """(P[X < n], P[X ≥ n]) for X ~ Poisson(mean).

    The smaller side is summed directly, from its term next to n outward (where the terms
    only shrink), with each term from the previous by one ratio and the first in logs; the
    other side is 1 minus it. So a tail of 1e-30 comes out as 1e-30, not as 1 − (1 − 1e-30)
    = 0, and a mean of thousands does not overflow μ^k / k!.
    """
    if n <= 0:
        return 0.0, 1.0
    if mean <= 0:
        return 1.0, 0.0
    log_mean = math.log(mean)
    if mean < n:
        # Upper tail: terms from k = n on fall by mean / (k + 1) < 1 each step.
        term = math.exp(-mean + n * log_mean - math.lgamma(n + 1))
        upper, k = term, n
        while term > upper * _NEGLIGIBLE:
            k += 1
            term *= mean / k
            upper += term
        upper = min(upper, 1.0)
        return 1.0 - upper, upper
    # Lower part: terms from k = n − 1 down fall by k / mean ≤ (n − 1) / mean < 1.
    k = n - 1
    term = math.exp(-mean + k * log_mean - math.lgamma(k + 1))
    lower = term
    while k > 0 and term > lower * _NEGLIGIBLE:
        term *= k / mean
        k -= 1
        lower += term
    lower = min(lower, 1.0)
    return lower, 1.0 - lower


def poisson_tail(mean: float, at_least: int) -> float:
    """P[Poisson(mean) ≥ at_least]: the chance a launch gets its N friends in time."""
    return _poisson_split(mean, at_least)[1]


def expected_capped(mean: float, cap: int) -> float:
    """E[min(Poisson(mean), cap)]: helpers a launch counts, as the ledger stops at N.

    Uses Σ_{k<cap} k·p_k = mean·P[X ≤ cap − 2], so it costs two tails rather than a sum
    over every k.
    """
    if cap <= 0:
        return 0.0
    below_previous, _ = _poisson_split(mean, cap - 1)
    return mean * below_previous + cap * poisson_tail(mean, cap)


def median_hours(arrival_per_hour: float, helpers_needed: int,
                 within_hours: float) -> float | None:
    """Hours after which half the launches have their N friends; None if that takes longer
    than `within_hours` (the launch's limit), where a launch would already have expired."""
    if arrival_per_hour <= 0 or within_hours <= 0:
        return None
    if poisson_tail(arrival_per_hour * within_hours, helpers_needed) < 0.5:
        return None
    low, high = 0.0, float(within_hours)
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if poisson_tail(arrival_per_hour * middle, helpers_needed) < 0.5:
            low = middle
        else:
            high = middle
    return high


# ---- the preview --------------------------------------------------------------------------


def _round_fen(amount: float) -> int:
    """Half up, as a merchant rounds: ¥0.005 shows as ¥0.01, not as the banker's ¥0.00."""
    return math.floor(amount + 0.5)


def _whole_units(expected: float) -> int:
    # 3.0000000001 completions is three units, not four: float noise must not buy stock.
    return max(0, math.ceil(expected - 1e-9))


def preview(data: PreviewInput) -> Preview:
    """The figures and warnings the console shows beside the campaign form.

    Raises PreviewError when `check` finds problems.
    """
    problems = check(data)
    if problems:
        raise PreviewError(problems)

    mean = data.mean_helpers
    completion = poisson_tail(mean, data.helpers_needed)
    per_launch = expected_capped(mean, data.helpers_needed)
    helpers = data.expected_launches * per_launch
    completions = data.expected_launches * completion
    new_customers = helpers * data.new_customer_share

    discount = max(0, data.price_fen - data.floor_fen)
    # Only the quota can be bought at the floor: completions beyond it cost nothing (and are
    # warned about below).
    total_discount = min(completions, data.stock_quota) * discount
    cost_per_new = _round_fen(total_discount / new_customers) if new_customers > 0 else None

    units = min(data.stock_quota, _whole_units(completions))
    margin = None if data.unit_cost_fen is None else data.floor_fen - data.unit_cost_fen

    schedule: list[int] = []
    if discount >= data.cuts:
        schedule = draw_schedule(discount, data.cuts, data.front_loading, PREVIEW_SEED)

    warnings: list[str] = []
    if data.floor_fen >= data.price_fen:
        warnings.append("底价不低于原价，砍到底也没有优惠")
    elif discount < data.cuts:
        warnings.append(f"可砍金额 {yuan(discount)} 不够分成 {data.cuts} 刀（每刀至少 ¥0.01）")
    if margin is not None and margin < 0:
        warnings.append(f"底价低于成本，每单亏 {yuan(-margin)}")
    if completion < LOW_COMPLETION:
        warnings.append("按当前假设，大多数发起在时限内砍不到底")
    elif completion > HIGH_COMPLETION:
        warnings.append("几乎每个发起都能砍到底，成本可能超出预期")
    if completions > data.stock_quota:
        warnings.append("预计完成数超过库存配额，超出部分的顾客将无法下单")

    return Preview(
        completion_probability=completion,
        expected_helpers_per_launch=per_launch,
        expected_helpers=helpers,
        expected_completions=completions,
        expected_new_customers=new_customers,
        discount_per_completion_fen=discount,
        total_discount_fen=_round_fen(total_discount),
        cost_per_new_customer_fen=cost_per_new,
        stock_exposure_units=units,
        stock_exposure_fen=units * data.price_fen,
        margin_at_floor_fen=margin,
        median_hours_to_complete=median_hours(data.arrival_per_hour, data.helpers_needed,
                                              data.hours_per_launch),
        first_cut_fen=schedule[0] if schedule else None,
        schedule_example=schedule,
        warnings=warnings,
    )


def _number_text(value: float) -> str:
    """2 → "2", 1.5 → "1.5", 1/3 → "0.33": as a person writes a rate."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def assumption_text(data: PreviewInput) -> str:
    """The assumption every figure rests on, in one sentence, so the merchant can see what
    they guessed and change it rather than trust the numbers as a forecast."""
    return (f"假设每个发起平均每小时有 {_number_text(data.arrival_per_hour)} 位好友帮砍，"
            f"时限 {_number_text(data.hours_per_launch)} 小时，"
            f"即时限内平均约 {_number_text(data.mean_helpers)} 位，"
            f"需要 {data.helpers_needed} 位才能砍到底。")
