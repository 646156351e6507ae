"""Members: spend follows payments and refunds; the playbook's tiers follow the spend.

Orders are paid at chosen times (Order.paid_at is the payment's `now`): the tier rules read
Shanghai months, so the times below are UTC instants picked inside the months they name.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from customer_service import handoff
from customer_service.tickets import Ticket
from shop import catalog, members, orders, tiers
from shop.members import Customer
from shop.notices import CustomerNotice

NOW = datetime(2026, 12, 10, 4, 0, tzinfo=UTC)  # 2026-12-10 12:00 in Shanghai


def month_ago(months: int, day: int = 10) -> datetime:
    """Noon in Shanghai on `day` of the month `months` before December 2026."""
    index = 2026 * 12 + 11 - months
    return datetime(index // 12, index % 12 + 1, day, 4, 0, tzinfo=UTC)


def sku(db, price: int, stock: int = 500) -> int:
    return catalog.add_product(db, name="土蜂蜜", skus=[("500g", price, stock)]).skus[0].id


def paid_order(storage, openid: str, price: int, at=NOW) -> int:
    """An order of one unit at `price` fen, paid at `at`."""
    with storage.sessions.begin() as db:
        order = orders.place(db, openid, [(sku(db, price), 1)], now=at)
        assert orders.transition(db, order, "paid", actor="wxpay", now=at)
        return order.id


def refund(storage, order_id: int, at=NOW) -> None:
    with storage.sessions.begin() as db:
        assert orders.transition(db, db.get(orders.Order, order_id), "refunded",
                                 actor="manager", now=at)


def customer(storage, openid: str) -> Customer:
    with storage.sessions() as db:
        return db.get(Customer, openid)


def tier(storage, openid: str) -> str:
    with storage.sessions() as db:
        return tiers.DEFAULT_TIERS.name(tiers.level_of(db, openid))


def upgrade_notices(storage, openid: str) -> list[str]:
    with storage.sessions() as db:
        return list(db.scalars(select(CustomerNotice.text).where(
            CustomerNotice.openid == openid, CustomerNotice.kind == "tier_upgrade")
            .order_by(CustomerNotice.id)))


def test_paying_counts_the_facts_segments_use(any_storage):
    paid_order(any_storage, "o1", 25_900, at=NOW)
    with any_storage.sessions.begin() as db:  # placed but never paid: counts as an order time
        orders.place(db, "o1", [(sku(db, 100), 1)], now=NOW + timedelta(days=3))
    facts = customer(any_storage, "o1")
    assert (facts.paid_orders, facts.spend_fen) == (1, 25_900)
    assert facts.first_order_at.replace(tzinfo=UTC) == NOW
    assert facts.last_order_at.replace(tzinfo=UTC) == NOW + timedelta(days=3)
    assert facts.last_paid_at.replace(tzinfo=UTC) == NOW


def test_bronze_at_500_yuan_cumulative_and_the_upgrade_is_told_once(storage):
    paid_order(storage, "o1", 49_900, at=month_ago(30))  # years ago still counts
    assert tier(storage, "o1") == "普通会员"
    with storage.sessions() as db:
        assert tiers.standing(db, "o1", NOW).progress == "再消费¥1升级青铜"
    paid_order(storage, "o1", 100)
    assert tier(storage, "o1") == "青铜"
    assert customer(storage, "o1").tier_since.replace(tzinfo=UTC) == NOW
    paid_order(storage, "o1", 100, at=NOW + timedelta(hours=1))  # still 青铜: not told again
    assert upgrade_notices(storage, "o1") == [
        "恭喜您升级为青铜会员！积分抵现、生日礼包已为您开通。回复「我的会员」查看会员权益。"]


def test_silver_counts_only_the_last_12_months(storage):
    paid_order(storage, "o1", 500_000, at=month_ago(13))  # outside the 12 months
    paid_order(storage, "o1", 400_000, at=month_ago(0, day=1))
    assert tier(storage, "o1") == "青铜"
    with storage.sessions() as db:
        assert tiers.standing(db, "o1", NOW).progress == (
            "近12个月消费¥4000，再消费¥4000升级白银")
    paid_order(storage, "o1", 400_000)
    assert tier(storage, "o1") == "白银"
    assert upgrade_notices(storage, "o1")[-1].startswith("恭喜您升级为白银会员！专属客服、优先发货")


def test_gold_needs_over_5000_yuan_in_each_of_12_consecutive_months(storage):
    for months in range(11, 0, -1):  # January to November 2026
        paid_order(storage, "o1", 500_100, at=month_ago(months))
    assert tier(storage, "o1") == "白银"
    with storage.sessions() as db:
        assert tiers.standing(db, "o1", NOW).progress == (
            "连续12个月每月消费超¥5000升级黄金（已连续11个月）")
    paid_order(storage, "o1", 500_000)  # exactly ¥5,000 is not over it
    assert tier(storage, "o1") == "白银"
    paid_order(storage, "o1", 100)  # December, incomplete, already over: the 12th month
    assert tier(storage, "o1") == "黄金"
    with storage.sessions() as db:
        assert tiers.openids_of_tier(db, "黄金") == ["o1"]
        assert tiers.openids_of_tier(db, "白银") == []
        with pytest.raises(ValueError):
            tiers.openids_of_tier(db, "钻石")


def test_a_month_under_the_bar_breaks_the_twelve(storage):
    for months in range(12, 0, -1):  # December 2025 to November 2026, but June short
        paid_order(storage, "o1", 200_000 if months == 6 else 600_000, at=month_ago(months))
    paid_order(storage, "o1", 600_000)
    assert tier(storage, "o1") == "白银"
    with storage.sessions() as db:
        assert tiers.measure(db, "o1", NOW, tiers.DEFAULT_TIERS).streak == 6  # Jul–Dec


def test_an_incomplete_month_under_the_bar_does_not_count_against_gold(storage):
    for months in range(12, 0, -1):  # the 12 complete months before December
        paid_order(storage, "o1", 500_100, at=month_ago(months))
    assert tier(storage, "o1") == "黄金"
    paid_order(storage, "o1", 100)  # December so far: ¥1
    with storage.sessions.begin() as db:
        assert tiers.reevaluate(db, "o1", NOW) == 3
    assert customer(storage, "o1").tier_pending_level is None


def test_a_refund_drops_spend_but_the_downgrade_waits_for_the_month_start(storage):
    paid_order(storage, "o1", 30_000, at=month_ago(0, day=2))
    second = paid_order(storage, "o1", 30_000, at=month_ago(0, day=3))
    assert tier(storage, "o1") == "青铜"
    refund(storage, second)
    facts = customer(storage, "o1")
    assert (facts.paid_orders, facts.spend_fen) == (1, 30_000)
    assert tier(storage, "o1") == "青铜" and facts.tier_pending_level == 0
    with storage.sessions() as db:
        assert tiers.standing(db, "o1", NOW).lines()[:3] == [
            "会员等级：青铜会员", "会员权益：积分抵现、生日礼包", "下月1日起调整为普通会员"]
    assert tiers.review_tiers(storage, NOW + timedelta(days=5)) == 0  # same month: nothing
    assert tier(storage, "o1") == "青铜"
    month_start = datetime(2026, 12, 31, 16, 5, tzinfo=UTC)  # 2027-01-01 00:05 Shanghai
    assert tiers.review_tiers(storage, month_start) == 1
    assert tier(storage, "o1") == "普通会员"
    assert customer(storage, "o1").tier_pending_level is None
    assert tiers.review_tiers(storage, month_start + timedelta(hours=1)) == 0  # once a month


def test_the_monthly_review_drops_silver_when_its_12_months_pass(storage):
    paid_order(storage, "o1", 800_000, at=month_ago(11, day=20))  # 2026-01-20
    assert tier(storage, "o1") == "白银"
    tiers.review_tiers(storage, datetime(2027, 1, 1, 0, 0, tzinfo=UTC))  # still inside
    assert tier(storage, "o1") == "白银"
    tiers.review_tiers(storage, datetime(2027, 1, 31, 16, 30, tzinfo=UTC))  # 2027-02-01
    assert tier(storage, "o1") == "青铜"  # ¥8,000 cumulative is still 青铜
    assert len(upgrade_notices(storage, "o1")) == 1  # a downgrade is not announced


def test_customers_from_before_tiers_are_placed_silently(storage):
    paid_order(storage, "o1", 60_000)
    with storage.sessions.begin() as db:  # as the migration leaves them
        db.get(Customer, "o1").tier_level = 0
        db.get(Customer, "o1").tier_checked_month = None
        db.query(CustomerNotice).delete()
    tiers.review_tiers(storage, NOW)
    assert tier(storage, "o1") == "青铜" and upgrade_notices(storage, "o1") == []


def test_an_upgrade_over_several_tiers_is_one_notice_and_each_level_heard(storage):
    heard = []

    def listener(db, openid, old, new, now):
        heard.append((openid, old, new, now))

    tiers.on_tier_change(listener)
    try:
        paid_order(storage, "o1", 900_000)  # 普通会员 → 白银 in one order
    finally:
        tiers._listeners.remove(listener)
    assert heard == [("o1", "普通会员", "青铜", NOW), ("o1", "青铜", "白银", NOW)]
    assert upgrade_notices(storage, "o1") == [
        "恭喜您升级为白银会员！积分抵现、生日礼包、专属客服、优先发货已为您开通。"
        "回复「我的会员」查看会员权益。"]


def test_tier_gifts_of_a_skipped_tier_are_given_too(storage):
    from promotions import coupon_issuing, coupons
    from tests.promotions.test_coupons import batch

    with storage.sessions.begin() as db:
        batch(db, name="青铜礼", trigger="tier:青铜")
        batch(db, name="白银礼", trigger="tier:白银")
    had = coupon_issuing.on_tier_upgrade in tiers._listeners
    tiers.on_tier_change(coupon_issuing.on_tier_upgrade)
    try:
        paid_order(storage, "o1", 900_000)
    finally:
        if not had:
            tiers._listeners.remove(coupon_issuing.on_tier_upgrade)
    with storage.sessions() as db:
        names = [c.batch.name for c in db.scalars(select(coupons.Coupon)
                                                   .where(coupons.Coupon.openid == "o1"))]
    assert sorted(names) == ["白银礼", "青铜礼"]
    assert len(upgrade_notices(storage, "o1")) == 1


def test_a_customer_from_before_tiers_is_placed_silently_by_a_payment_too(storage):
    paid_order(storage, "o1", 60_000, at=month_ago(2))
    with storage.sessions.begin() as db:  # as the migration leaves them
        db.get(Customer, "o1").tier_level = 0
        db.get(Customer, "o1").tier_checked_month = None
        db.query(CustomerNotice).delete()
    with storage.sessions() as db:  # qualifies, not placed yet: no negative amount
        assert tiers.standing(db, "o1", NOW).progress == "已达到青铜标准，等级即将更新"
    heard = []
    tiers.on_tier_change(lambda *args: heard.append(args[2:4]))
    try:
        paid_order(storage, "o1", 100)  # their next payment places them, without news
        assert tier(storage, "o1") == "青铜" and upgrade_notices(storage, "o1") == []
        assert heard == [] and customer(storage, "o1").tier_checked_month == "2026-12"
        with storage.sessions() as db:
            assert tiers.standing(db, "o1", NOW).progress == (
                "近12个月消费¥601，再消费¥7399升级白银")
        paid_order(storage, "o1", 800_000)  # a real upgrade afterwards is news
    finally:
        tiers._listeners.pop()
    assert heard == [("青铜", "白银")]
    assert upgrade_notices(storage, "o1")[0].startswith(
        "恭喜您升级为白银会员！专属客服、优先发货已为您开通")


def test_progress_never_shows_a_negative_amount():
    spent = tiers.Measure(cumulative_fen=80_000, yearly_fen=80_000, this_month_fen=0, streak=0)
    assert tiers._progress(0, spent, tiers.DEFAULT_TIERS) == "已达到青铜标准，等级即将更新"
    over = tiers.Measure(cumulative_fen=900_000, yearly_fen=900_000, this_month_fen=0, streak=0)
    assert tiers._progress(1, over, tiers.DEFAULT_TIERS) == "已达到白银标准，等级即将更新"
    assert "-" not in tiers._progress(0, tiers.Measure(0, 0, 0, 0), tiers.DEFAULT_TIERS)


def test_concurrent_payments_of_one_customer_all_count_and_upgrade_once(storage):
    with storage.sessions.begin() as db:
        honey = sku(db, 10_000, stock=100)

    def pay():
        with storage.sessions.begin() as db:
            order = orders.place(db, "o1", [(honey, 1)], now=NOW)
            assert orders.transition(db, order, "paid", actor="wxpay", now=NOW)

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    facts = customer(storage, "o1")
    assert (facts.paid_orders, facts.spend_fen) == (8, 80_000)
    assert tier(storage, "o1") == "青铜" and len(upgrade_notices(storage, "o1")) == 1


def test_silver_and_above_jump_the_service_queue(storage):
    paid_order(storage, "o-silver", 800_000)
    paid_order(storage, "o-bronze", 60_000)
    for openid in ("o-silver", "o-bronze"):
        with storage.sessions.begin() as db:
            handoff.hand_off(db, openid, "你好", config={"SERVICE_HOURS": "00:00-23:59"},
                             now=NOW)
    with storage.sessions() as db:
        found = {t.openid: (t.priority, t.priority_reason) for t in db.scalars(select(Ticket))}
    assert found == {"o-silver": (1, "白银会员"), "o-bronze": (0, "")}


def test_the_console_lists_customers_by_tier(storage):
    paid_order(storage, "o-small", 1_000)
    paid_order(storage, "o-big", 60_000)
    with storage.sessions() as db:
        assert [c.openid for c in members.listing(db)] == ["o-big", "o-small"]
        assert [c.openid for c in members.listing(db, level=1)] == ["o-big"]
        assert [c.openid for c in members.listing(db, search="small")] == ["o-small"]


@pytest.mark.parametrize("text", ["青铜:500", "青铜:500,白银:8000", "青铜:abc,白银:1,黄金:2",
                                  "青铜:500,青铜:8000,黄金:5000", "普通会员:1,白银:2,黄金:3",
                                  "青铜:0,白银:8000,黄金:5000", "", "青铜:1,白银:2,黄金:3,钻石:4"])
def test_bad_tier_settings_are_refused(text):
    with pytest.raises(ValueError):
        tiers.parse_tiers(text)


def test_tier_settings_are_names_and_yuan_by_rule():
    parsed = tiers.parse_tiers("铜牌:300，银牌:6000，金牌:4000")
    assert parsed == tiers.Tiers(("铜牌", "银牌", "金牌"), 30_000, 600_000, 400_000)
    assert parsed.benefits(2) == ("积分抵现", "生日礼包", "专属客服", "优先发货")


def test_a_bad_member_tiers_setting_is_one_config_line():
    from core.config import DEFAULTS, ConfigError, validate

    config = {**DEFAULTS, "MEMBER_TIERS": "白银:500,黄金:100"}
    with pytest.raises(ConfigError) as raised:
        validate(config, require_account=False, checks=[tiers.check_config])
    assert any(line.startswith("MEMBER_TIERS:") for line in raised.value.problems)
