"""The 砍价 economics preview: the Poisson arithmetic against closed forms and a simulation of
the arrival process it models, and the figures and warnings the merchant is shown."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from promotions.bargain_economics import (
    PREVIEW_SEED,
    Preview,
    PreviewError,
    PreviewInput,
    assumption_text,
    check,
    expected_capped,
    median_hours,
    poisson_tail,
    preview,
)
from promotions.bargains import draw_schedule

BASE = PreviewInput(price_fen=9900, floor_fen=100, helpers_needed=5, hours_per_launch=24,
                    expected_launches=200, arrival_per_hour=0.25, stock_quota=500,
                    unit_cost_fen=50)


def pmf(mean: float, k: int) -> float:
    return math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))


def brute_tail(mean: float, at_least: int) -> float:
    """Summed term by term over a range that leaves nothing measurable out."""
    stop = int(mean + 40 * math.sqrt(mean) + 60)
    return math.fsum(pmf(mean, k) for k in range(at_least, stop))


def simulate(rate: float, hours: float, cap: int, runs: int, seed: int) -> tuple[float, float]:
    """(share of launches with `cap` friends in time, mean helpers counted), friends arriving
    with exponential gaps as the model assumes."""
    rng = random.Random(seed)
    completed = counted = 0
    for _ in range(runs):
        clock, friends = rng.expovariate(rate), 0
        while clock <= hours and friends < cap:
            friends += 1
            clock += rng.expovariate(rate)
        completed += friends >= cap
        counted += friends
    return completed / runs, counted / runs


# ---- the Poisson arithmetic ---------------------------------------------------------------


@pytest.mark.parametrize(("rate", "hours", "cap"),
                         [(0.25, 24, 5), (1.0, 3, 1), (2.0, 10, 25), (0.1, 12, 3)])
def test_the_tail_and_the_counted_helpers_match_a_simulated_arrival_process(rate, hours, cap):
    runs = 20_000
    completed, counted = simulate(rate, hours, cap, runs, seed=7)
    tail = poisson_tail(rate * hours, cap)
    # Four standard errors of a share estimated from 20 000 runs.
    assert completed == pytest.approx(tail, abs=4 * math.sqrt(tail * (1 - tail) / runs) + 1e-3)
    assert counted == pytest.approx(expected_capped(rate * hours, cap), rel=0.02)


@pytest.mark.parametrize("mean", [0.01, 0.5, 1.0, 6.0, 30.0])
def test_one_helper_needed_completes_with_one_minus_e_to_the_minus_lambda_t(mean):
    assert poisson_tail(mean, 1) == pytest.approx(1 - math.exp(-mean), rel=1e-12)
    assert expected_capped(mean, 1) == pytest.approx(1 - math.exp(-mean), rel=1e-12)


@pytest.mark.parametrize("mean", [0.3, 2.0, 7.5])
def test_two_helpers_needed_is_one_minus_e_to_the_minus_mu_times_one_plus_mu(mean):
    assert poisson_tail(mean, 2) == pytest.approx(1 - math.exp(-mean) * (1 + mean), rel=1e-12)


@pytest.mark.parametrize(("mean", "cap"),
                         [(0.5, 3), (3.0, 3), (6.0, 5), (20.0, 10), (20.0, 40), (150.0, 120),
                          (150.0, 180)])
def test_the_tail_and_the_capped_mean_agree_with_the_sum_of_terms(mean, cap):
    assert poisson_tail(mean, cap) == pytest.approx(brute_tail(mean, cap), rel=1e-9, abs=1e-15)
    stop = int(mean + 40 * math.sqrt(mean) + 60)
    capped = math.fsum(min(k, cap) * pmf(mean, k) for k in range(stop))
    assert expected_capped(mean, cap) == pytest.approx(capped, rel=1e-9)


def test_a_tiny_tail_keeps_its_digits_instead_of_becoming_zero():
    # P[X ≥ 30] for a mean of 0.1 is about 0.1^30 / 30! · e^−0.1: 1 − CDF would give 0.
    expected = 0.1 ** 30 / math.factorial(30) * math.exp(-0.1)
    assert poisson_tail(0.1, 30) == pytest.approx(expected, rel=1e-9)
    assert poisson_tail(3000.0, 2000) == 1.0
    assert 0.0 < 1 - poisson_tail(3000.0, 2900) < 0.05


def test_edges_of_the_tail():
    assert poisson_tail(0.0, 1) == 0.0
    assert poisson_tail(5.0, 0) == 1.0
    assert expected_capped(0.0, 5) == 0.0
    assert expected_capped(5.0, 0) == 0.0


@pytest.mark.parametrize(("rate", "cap"), [(0.5, 1), (0.25, 5), (2.0, 20)])
def test_the_median_time_is_where_half_the_launches_are_done(rate, cap):
    hours = median_hours(rate, cap, within_hours=1_000)
    assert hours is not None
    assert poisson_tail(rate * hours, cap) == pytest.approx(0.5, abs=1e-9)
    if cap == 1:
        assert hours == pytest.approx(math.log(2) / rate, rel=1e-9)


def test_no_median_time_when_half_the_launches_never_finish_in_time():
    assert median_hours(0.25, 5, within_hours=12) is None  # mean 3 friends, 5 needed
    assert median_hours(0.0, 1, within_hours=24) is None


# ---- the preview --------------------------------------------------------------------------


def test_the_preview_figures_follow_from_the_assumption():
    result = preview(BASE)
    mean = 0.25 * 24
    completion = poisson_tail(mean, 5)
    assert isinstance(result, Preview)
    assert result.completion_probability == pytest.approx(completion)
    assert result.expected_helpers_per_launch == pytest.approx(expected_capped(mean, 5))
    assert result.expected_helpers == pytest.approx(200 * expected_capped(mean, 5))
    assert result.expected_completions == pytest.approx(200 * completion)
    assert result.expected_new_customers == pytest.approx(0.5 * result.expected_helpers)
    assert result.discount_per_completion_fen == 9800
    assert result.stock_exposure_units == math.ceil(200 * completion)
    assert result.stock_exposure_fen == result.stock_exposure_units * 9900
    assert result.margin_at_floor_fen == 50
    assert result.warnings == []


def test_cost_per_new_customer_is_the_discount_on_completions_over_new_helpers():
    # One helper needed, certain-ish arrival: numbers easy to follow by hand.
    data = replace(BASE, helpers_needed=1, expected_launches=100, new_customer_share=0.25)
    result = preview(data)
    p = 1 - math.exp(-6.0)
    completions = 100 * p
    new_customers = 100 * p * 0.25  # every launch counts at most one helper
    assert result.expected_new_customers == pytest.approx(new_customers)
    assert result.total_discount_fen == round(completions * 9800)
    assert result.cost_per_new_customer_fen == round(completions * 9800 / new_customers)
    assert result.cost_per_new_customer_fen == 39200  # 9800 fen over a quarter of a helper


def test_no_cost_per_new_customer_without_new_customers():
    assert preview(replace(BASE, new_customer_share=0.0)).cost_per_new_customer_fen is None
    assert preview(replace(BASE, expected_launches=0)).cost_per_new_customer_fen is None
    assert preview(replace(BASE, arrival_per_hour=0)).cost_per_new_customer_fen is None


def test_no_margin_without_a_unit_cost():
    assert preview(replace(BASE, unit_cost_fen=None)).margin_at_floor_fen is None


def test_stock_exposure_rounds_expected_completions_up_and_stops_at_the_quota():
    result = preview(replace(BASE, stock_quota=10))
    assert result.expected_completions > 10
    assert result.stock_exposure_units == 10
    assert result.stock_exposure_fen == 10 * 9900
    small = preview(replace(BASE, expected_launches=3))
    assert small.stock_exposure_units == math.ceil(small.expected_completions)


def test_the_example_schedule_is_the_one_a_launch_with_the_preview_seed_would_draw():
    result = preview(replace(BASE, starter_cuts=True, front_loading=80))
    assert result.schedule_example == draw_schedule(9800, 6, 80, PREVIEW_SEED)
    assert result.first_cut_fen == result.schedule_example[0]
    assert sum(result.schedule_example) == 9800
    assert preview(replace(BASE, front_loading=80, starter_cuts=True)) == result


def test_the_median_time_is_within_the_limit_or_none():
    assert preview(BASE).median_hours_to_complete == pytest.approx(
        median_hours(0.25, 5, 24))
    assert preview(replace(BASE, hours_per_launch=12)).median_hours_to_complete is None


# ---- warnings -----------------------------------------------------------------------------


def test_a_floor_at_or_above_the_price_is_warned_and_has_no_schedule():
    result = preview(replace(BASE, floor_fen=9900))
    assert "底价不低于原价，砍到底也没有优惠" in result.warnings
    assert result.discount_per_completion_fen == 0
    assert result.first_cut_fen is None
    assert result.schedule_example == []


def test_too_little_to_cut_for_every_cut_is_warned():
    result = preview(replace(BASE, floor_fen=9897, starter_cuts=True))  # 3 fen, 6 cuts
    assert any("不够分成 6 刀" in warning for warning in result.warnings)
    assert result.first_cut_fen is None


def test_a_floor_below_cost_says_how_much_each_order_loses():
    result = preview(replace(BASE, unit_cost_fen=1390))
    assert "底价低于成本，每单亏 ¥12.90" in result.warnings
    assert result.margin_at_floor_fen == -1290


def test_a_low_completion_chance_is_warned():
    result = preview(replace(BASE, arrival_per_hour=0.05))  # 1.2 friends for 5 needed
    assert result.completion_probability < 0.1
    assert "按当前假设，大多数发起在时限内砍不到底" in result.warnings


def test_a_near_certain_completion_is_warned():
    result = preview(replace(BASE, arrival_per_hour=2))  # 48 friends for 5 needed
    assert result.completion_probability > 0.95
    assert "几乎每个发起都能砍到底，成本可能超出预期" in result.warnings


def test_more_expected_completions_than_the_quota_is_warned():
    result = preview(replace(BASE, stock_quota=10))
    assert "预计完成数超过库存配额，超出部分的顾客将无法下单" in result.warnings


# ---- input --------------------------------------------------------------------------------


def test_a_sound_input_has_no_problems():
    assert check(BASE) == []
    assert BASE.problems() == []


@pytest.mark.parametrize(("changes", "word"), [
    ({"price_fen": 0}, "原价"),
    ({"floor_fen": 0}, "底价"),
    ({"helpers_needed": 0}, "助力的人数"),
    ({"helpers_needed": True}, "助力的人数"),
    ({"hours_per_launch": 0}, "有效时长"),
    ({"hours_per_launch": math.inf}, "有效时长"),
    ({"expected_launches": -1}, "发起次数"),
    ({"arrival_per_hour": -0.1}, "助力人数"),
    ({"arrival_per_hour": math.nan}, "助力人数"),
    ({"stock_quota": -1}, "库存"),
    ({"new_customer_share": 1.5}, "新顾客"),
    ({"unit_cost_fen": -1}, "成本"),
    ({"front_loading": 101}, "前几刀"),
])
def test_each_bad_field_is_named_and_the_preview_refuses(changes, word):
    data = replace(BASE, **changes)
    problems = check(data)
    assert len(problems) == 1
    assert word in problems[0]
    with pytest.raises(PreviewError) as refused:
        preview(data)
    assert refused.value.problems == problems


def test_every_problem_is_listed_at_once():
    data = replace(BASE, price_fen=0, helpers_needed=0, new_customer_share=-1)
    assert len(check(data)) == 3


def test_the_assumption_is_stated_in_one_sentence():
    text = assumption_text(BASE)
    assert text == ("假设每个发起平均每小时有 0.25 位好友帮砍，时限 24 小时，"
                    "即时限内平均约 6 位，需要 5 位才能砍到底。")
    assert "1.5 位好友" in assumption_text(replace(BASE, arrival_per_hour=1.5))


def test_discount_beyond_the_stock_quota_is_not_counted_as_given():
    many = replace(BASE, expected_launches=1000, arrival_per_hour=5.0, stock_quota=10)
    shown = preview(many)
    assert shown.expected_completions > 10
    assert shown.total_discount_fen == 10 * (9900 - 100)
    assert "预计完成数超过库存配额，超出部分的顾客将无法下单" in shown.warnings
