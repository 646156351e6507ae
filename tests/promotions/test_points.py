"""Points that pay: earned when paid, spent oldest first, returned and taken back exactly once
by a refund, expired at the end of the year after they were earned."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.config import DEFAULTS
from promotions import points
from promotions.points import PointsEntry, PointsError
from shop import catalog, orders
from shop.orders import Order

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
LAST_YEAR = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)


def sku(db, price: int) -> int:
    return catalog.add_product(db, name="土蜂蜜", skus=[("500g", price, 500)]).skus[0].id


def placed(storage, openid: str, price: int, *, use: int = 0, at=NOW) -> int:
    """An order of `price` fen, `use` points taken off it, as the checkout will do it."""
    with storage.sessions.begin() as db:
        order = orders.place(db, openid, [(sku(db, price), 1)], now=at)
        if use:
            points.spend(db, openid, use, order.id, at)
            off = points.value_fen(use, DEFAULTS)
            order.total_fen, order.points_used, order.points_fen = price - off, use, off
        return order.id


def move(storage, order_id: int, *states: str, at=NOW) -> None:
    with storage.sessions.begin() as db:
        order = db.get(Order, order_id)
        for state in states:
            assert orders.transition(db, order, state, actor="test", now=at)


def paid(storage, openid: str, price: int, *, use: int = 0, at=NOW) -> int:
    order_id = placed(storage, openid, price, use=use, at=at)
    move(storage, order_id, "paid", at=at)
    return order_id


def balance(storage, openid: str = "o1", at=NOW) -> int:
    with storage.sessions() as db:
        return points.balance(db, openid, at)


def entries(storage, openid: str = "o1") -> list[tuple[str, int, int]]:
    with storage.sessions() as db:
        return [(e.kind, e.lot_year, e.points) for e in reversed(points.history(db, openid))]



def spend_at_once(storage, order_ids: list[int], amount: int) -> list[str]:
    """`amount` points spent for each order from its own thread and session, as separate
    workers would: "ok" or the refusal, per order."""
    outcomes: list[str] = []

    def spend(order_id: int) -> None:
        try:
            with storage.sessions.begin() as db:
                points.spend(db, "o1", amount, order_id, NOW)
            outcomes.append("ok")
        except PointsError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=spend, args=(oid,)) for oid in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes

def test_one_point_per_whole_yuan_paid(storage):
    paid(storage, "o1", 25_950)
    assert balance(storage) == 259
    assert entries(storage) == [("earn", 2026, 259)]
    placed(storage, "o1", 10_000)  # not paid: nothing earned
    assert balance(storage) == 259


def test_spending_takes_the_oldest_lot_first(storage):
    paid(storage, "o1", 40_000, at=LAST_YEAR)  # 400 points of 2025
    paid(storage, "o1", 30_000)  # 300 of 2026, and 青铜 (¥700 in all)
    assert balance(storage) == 700
    paid(storage, "o1", 100_000, use=500)
    assert entries(storage)[2:4] == [("spend", 2025, -400), ("spend", 2026, -100)]
    assert balance(storage) == 700 - 500 + 995  # the order cost ¥995 after ¥5 off


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(storage):
    paid(storage, "o1", 60_000)
    with pytest.raises(PointsError, match="积分不足，当前 600 分"):
        placed(storage, "o1", 100_000, use=601)
    order_id = placed(storage, "o1", 100_000)
    with pytest.raises(PointsError, match="正整数"), storage.sessions.begin() as db:
        points.spend(db, "o1", 0, order_id, NOW)
    assert balance(storage) == 600 and len(entries(storage)) == 1


def test_an_ordinary_member_earns_but_cannot_spend(storage):
    paid(storage, "o1", 20_000)
    with pytest.raises(PointsError, match="青铜及以上"):
        placed(storage, "o1", 10_000, use=100)
    with storage.sessions() as db:
        assert points.spendable(db, "o1", NOW) == 0 and points.balance(db, "o1", NOW) == 200


def test_a_refund_returns_spent_points_and_takes_back_earned_ones_once(storage):
    paid(storage, "o1", 60_000)  # 600
    order_id = paid(storage, "o1", 30_000, use=200)  # ¥298 paid: 298 earned
    assert balance(storage) == 600 - 200 + 298
    move(storage, order_id, "shipped", "refunded")
    assert balance(storage) == 600
    assert entries(storage)[-2:] == [("return_spent", 2026, 200), ("take_back", 2026, -298)]
    with storage.sessions.begin() as db:  # the listener called again moves nothing
        points.on_order_change(db, db.get(Order, order_id), "shipped", "refunded", NOW)
    assert balance(storage) == 600 and len(entries(storage)) == 5


def test_a_refund_takes_back_spent_points_as_a_debt_once(storage):
    first = paid(storage, "o1", 60_000)  # 600
    paid(storage, "o1", 100_000, use=600)  # spends them all; earns 994
    paid(storage, "o1", 10_000, use=900)  # spends most of those: ¥91 paid, 91 earned
    assert balance(storage) == 994 - 900 + 91
    move(storage, first, "refunded")  # 600 earned, 185 there: 415 owed
    assert balance(storage) == -415
    assert entries(storage)[-1] == ("take_back", 2026, -600)  # all of it, recorded once
    for _ in range(2):  # the refund seen again takes nothing more
        with storage.sessions.begin() as db:
            points.on_order_change(db, db.get(Order, first), "paid", "refunded", NOW)
    assert balance(storage) == -415 and len(entries(storage)) == 6
    with storage.sessions() as db:
        assert points.spendable(db, "o1", NOW) == -415
        assert points.max_usable(points.spendable(db, "o1", NOW), 100_000, DEFAULTS) == 0
    with pytest.raises(PointsError, match="积分不足，当前 -415 分"):
        placed(storage, "o1", 100_000, use=1)
    paid(storage, "o1", 50_000)  # the next points earned pay the debt first
    assert balance(storage) == 85


def test_spending_points_then_refunding_the_order_that_earned_them_keeps_nothing(storage):
    """The exploit: pay ¥10,000, spend its 10,000 points (¥100) on another order, refund the
    first. The ¥100 must not be kept: the take-back is owed."""
    first = paid(storage, "o1", 1_000_000)  # 10,000 points
    paid(storage, "o1", 30_000, use=10_000)  # ¥100 off ¥300: ¥200 paid, 200 earned
    assert balance(storage) == 200
    move(storage, first, "refunded")
    assert balance(storage) == 200 - 10_000
    with storage.sessions.begin() as db:  # the refund seen twice takes back once
        points.on_order_change(db, db.get(Order, first), "paid", "refunded", NOW)
    assert balance(storage) == -9_800
    with storage.sessions() as db:
        lines = points.chat_lines(db, "o1", NOW, DEFAULTS)
    assert lines[0] == "积分：-9800（退款扣回已用积分，之后获得的积分先抵扣）"


def test_a_debt_never_expires_and_later_years_points_pay_it_first(storage):
    first = paid(storage, "o1", 60_000)  # 600
    paid(storage, "o1", 100_000, use=600)
    paid(storage, "o1", 10_000, use=900)
    move(storage, first, "refunded")  # -415 on the 2026 lot
    two_years = datetime(2028, 6, 1, 4, 0, tzinfo=UTC)
    assert balance(storage, at=two_years) == -415
    assert points.expire_points(storage, two_years) == 0  # a debt is not points to expire
    with storage.sessions() as db:
        assert points.expiring(db, "o1", datetime(2027, 6, 1, tzinfo=UTC)) == (0, "2027-12-31")
    paid(storage, "o1", 50_000, at=two_years)  # 500: 415 pay the 2026 debt, 85 to 2028
    assert balance(storage, at=two_years) == 85
    assert entries(storage)[-2:] == [("earn", 2026, 415), ("earn", 2028, 85)]


def test_a_positive_old_lot_is_not_spent_while_the_sum_is_below_the_points_asked(storage):
    paid(storage, "o1", 60_000, at=LAST_YEAR)  # 600 of 2025, 青铜
    kept = placed(storage, "o1", 100_000, use=600)  # unpaid: the 2025 lot is empty
    refunded = paid(storage, "o1", 50_000)  # 500 of 2026
    placed(storage, "o1", 100_000, use=500)  # unpaid: the 2026 lot is empty
    move(storage, refunded, "refunded")  # 500 owed: 2026 is -500
    move(storage, kept, "cancelled")  # 600 back to 2025: the lots are +600 and -500
    assert balance(storage) == 100
    with pytest.raises(PointsError, match="积分不足，当前 100 分"):
        placed(storage, "o1", 100_000, use=101)
    placed(storage, "o1", 100_000, use=100)
    assert balance(storage) == 0


def test_two_spends_beside_a_debt_never_take_the_sum_below_zero(storage):
    paid(storage, "o1", 60_000, at=LAST_YEAR)
    kept = placed(storage, "o1", 100_000, use=600)
    refunded = paid(storage, "o1", 50_000)
    placed(storage, "o1", 100_000, use=500)
    move(storage, refunded, "refunded")
    move(storage, kept, "cancelled")  # +600 of 2025 beside -500 of 2026: 100 in all
    outcomes = spend_at_once(storage, [placed(storage, "o1", 100_000) for _ in range(2)], 80)
    assert sorted(outcomes) == ["ok", "积分不足，当前 20 分"]
    assert balance(storage) == 20


def test_an_unpaid_order_cancelled_returns_its_points(storage):
    paid(storage, "o1", 60_000)
    order_id = placed(storage, "o1", 50_000, use=300)
    assert balance(storage) == 300
    move(storage, order_id, "cancelled")
    assert balance(storage) == 600
    assert entries(storage)[-1] == ("return_spent", 2026, 300)


def test_a_cancelled_order_paid_late_takes_its_points_again(storage):
    paid(storage, "o1", 60_000)
    order_id = placed(storage, "o1", 50_000, use=300)
    move(storage, order_id, "cancelled", "paid")  # the last-second payment
    assert balance(storage) == 300 + 497
    move(storage, order_id, "refunded")
    assert balance(storage) == 600


def test_two_spends_against_one_balance_never_overspend(storage):
    paid(storage, "o1", 60_000)  # 600
    outcomes = spend_at_once(storage, [placed(storage, "o1", 100_000) for _ in range(2)], 400)
    assert sorted(outcomes) == ["ok", "积分不足，当前 200 分"]
    assert balance(storage) == 200
    with storage.sessions() as db:
        assert db.scalar(select(func.sum(PointsEntry.points))) == 200


def test_points_expire_at_the_end_of_the_year_after_they_were_earned(storage):
    paid(storage, "o1", 40_000, at=LAST_YEAR)  # 400 of 2025: usable until 2026-12-31
    paid(storage, "o1", 30_000)
    last_minute = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    new_year = last_minute + timedelta(minutes=1)
    assert balance(storage, at=last_minute) == 700
    with storage.sessions() as db:
        assert points.expiring(db, "o1", last_minute) == (400, "2026-12-31")
    assert balance(storage, at=new_year) == 300  # gone even before the job runs
    assert points.expire_points(storage, last_minute) == 0
    assert points.expire_points(storage, new_year) == 1
    assert points.expire_points(storage, new_year + timedelta(hours=1)) == 0
    assert entries(storage)[-1] == ("expire", 2025, -400)
    assert balance(storage, at=new_year) == 300


def test_how_many_points_an_order_may_use():
    config = {"POINTS_PER_YUAN_OFF": 100, "POINTS_MAX_SHARE": 50}
    assert points.max_usable(10_000, 19_900, config) == 9_950  # half of ¥199 is ¥99.50
    assert points.max_usable(300, 19_900, config) == 300
    assert points.value_fen(9_950, config) == 9_950
    assert points.max_usable(5_000, 19_900, {"POINTS_PER_YUAN_OFF": 200,
                                              "POINTS_MAX_SHARE": 10}) == 3_980
    assert points.value_fen(3_981, {"POINTS_PER_YUAN_OFF": 200}) == 1_990  # rounded down
    assert points.max_usable(500, 19_900, {"POINTS_MAX_SHARE": 0}) == 0
