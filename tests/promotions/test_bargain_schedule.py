"""The cut schedule of a 砍价 launch: the properties the ledger and the customers rely on.

The ledger stores the schedule once and moves the price by its entries, so a schedule that
sums to one fen too many or too few, or reaches the floor before the N-th friend, would be
a wrong price on a real order; hypothesis looks for such cases over the whole input range.
"""

from __future__ import annotations

from itertools import accumulate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promotions.bargains import MAX_FRONT_LOADING, draw_schedule

MAX_CUTS = 60
MAX_TOTAL_FEN = 10_000_000

# No example database: the seeds are drawn afresh each run and nothing is left in the tree.
FAST = settings(max_examples=200, deadline=None, database=None)

seeds = st.integers(min_value=0, max_value=2**31 - 2)
front_loadings = st.integers(min_value=0, max_value=MAX_FRONT_LOADING)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(total_fen, cuts, front_loading, seed), total at least one fen a cut."""
    cuts = draw(st.integers(min_value=1, max_value=MAX_CUTS))
    total = draw(st.integers(min_value=cuts, max_value=MAX_TOTAL_FEN))
    return total, cuts, draw(front_loadings), draw(seeds)


@FAST
@given(schedules())
def test_the_cuts_sum_to_exactly_the_total_one_fen_or_more_each(case):
    total, cuts, front_loading, seed = case
    amounts = draw_schedule(total, cuts, front_loading, seed)
    assert len(amounts) == cuts
    assert sum(amounts) == total
    assert all(isinstance(amount, int) and amount >= 1 for amount in amounts)


@FAST
@given(schedules())
def test_a_stored_seed_draws_the_same_schedule_again(case):
    total, cuts, front_loading, seed = case
    assert draw_schedule(total, cuts, front_loading, seed) == draw_schedule(
        total, cuts, front_loading, seed)


@FAST
@given(schedules())
def test_front_loaded_schedules_come_biggest_first(case):
    total, cuts, front_loading, seed = case
    front_loading = max(front_loading, 1)
    amounts = draw_schedule(total, cuts, front_loading, seed)
    assert amounts == sorted(amounts, reverse=True)


@FAST
@given(schedules())
def test_the_floor_is_reached_by_the_last_cut_and_by_no_earlier_one(case):
    total, cuts, front_loading, seed = case
    reached = list(accumulate(draw_schedule(total, cuts, front_loading, seed)))
    assert all(so_far < total for so_far in reached[:-1])
    assert reached[-1] == total


@FAST
@given(cuts=st.integers(min_value=1, max_value=MAX_CUTS), front_loading=front_loadings,
       seed=seeds)
def test_a_total_of_exactly_one_fen_a_cut_is_all_ones(cuts, front_loading, seed):
    assert draw_schedule(cuts, cuts, front_loading, seed) == [1] * cuts


@FAST
@given(cuts=st.integers(min_value=2, max_value=MAX_CUTS), front_loading=front_loadings,
       seed=seeds, data=st.data())
def test_less_than_one_fen_a_cut_is_refused(cuts, front_loading, seed, data):
    total = data.draw(st.integers(min_value=-10, max_value=cuts - 1))
    with pytest.raises(ValueError):
        draw_schedule(total, cuts, front_loading, seed)


@FAST
@given(cuts=st.integers(max_value=0), total=st.integers(min_value=0, max_value=MAX_TOTAL_FEN),
       front_loading=front_loadings, seed=seeds)
def test_a_schedule_without_cuts_is_refused(cuts, total, front_loading, seed):
    with pytest.raises(ValueError):
        draw_schedule(total, cuts, front_loading, seed)


@FAST
@given(case=schedules(),
       front_loading=st.one_of(st.integers(max_value=-1),
                               st.integers(min_value=MAX_FRONT_LOADING + 1)))
def test_front_loading_outside_0_to_100_is_refused(case, front_loading):
    total, cuts, _, seed = case
    with pytest.raises(ValueError):
        draw_schedule(total, cuts, front_loading, seed)


def mean_first_share(front_loading: int, cuts: int = 10, total: int = 1_000_000,
                     draws: int = 2000) -> float:
    """The first cut's share of the total, averaged over fixed seeds 0…draws−1."""
    firsts = (draw_schedule(total, cuts, front_loading, seed)[0] for seed in range(draws))
    return sum(firsts) / draws / total


def test_more_front_loading_gives_the_first_friend_a_bigger_share_on_average():
    # Measured over 2000 seeds: about 0.10, 0.17 and 0.50 with ten cuts; the margins
    # between them are far wider than the sampling noise (well under 0.01).
    even, half, full = (mean_first_share(level) for level in (0, 50, 100))
    assert even < half < full
    assert half - even > 0.03
    assert full - half > 0.1
    # Evenly spread, the first of ten cuts takes about a tenth.
    assert even == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize("cuts", [1, 2, 10, 60])
@pytest.mark.parametrize("front_loading", [0, 50, 100])
def test_with_n_cuts_the_price_reaches_the_floor_exactly_at_the_n_th(cuts, front_loading):
    price, floor = 9900, 100
    for seed in range(50):
        amounts = draw_schedule(price - floor, cuts, front_loading, seed)
        prices = [price - so_far for so_far in accumulate(amounts)]
        assert len(prices) == cuts
        assert all(reached > floor for reached in prices[:-1])
        assert prices[-1] == floor
