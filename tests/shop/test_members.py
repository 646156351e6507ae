"""Members: points and spend follow payments and refunds; tiers follow the spend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shop import catalog, members, orders
from shop.members import Customer, parse_tiers, standing

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def sku(db, price: int, stock: int = 50) -> int:
    return catalog.add_product(db, name="土蜂蜜", skus=[("500g", price, stock)]).skus[0].id


def paid_order(storage, openid: str, sku_id: int, count: int = 1, at=NOW) -> int:
    with storage.sessions.begin() as db:
        order = orders.place(db, openid, [(sku_id, count)], now=at)
        assert orders.transition(db, order, "paid", actor="wxpay", now=at)
        return order.id


def customer(storage, openid: str) -> Customer | None:
    with storage.sessions() as db:
        return db.get(Customer, openid)


def test_paying_gives_points_spend_and_the_facts_segments_use(any_storage):
    with any_storage.sessions.begin() as db:
        honey = sku(db, 12_950)  # ¥129.50 → 129 points
    paid_order(any_storage, "o1", honey, 2, at=NOW)
    with any_storage.sessions.begin() as db:  # placed but never paid: counts as an order time
        orders.place(db, "o1", [(honey, 1)], now=NOW + timedelta(days=3))
    facts = customer(any_storage, "o1")
    assert (facts.paid_orders, facts.spend_fen, facts.points) == (1, 25_900, 259)
    assert facts.first_order_at.replace(tzinfo=UTC) == NOW
    assert facts.last_order_at.replace(tzinfo=UTC) == NOW + timedelta(days=3)
    assert facts.last_paid_at.replace(tzinfo=UTC) == NOW
    assert standing(facts).text() == (
        "会员等级：青铜\n积分：259\n累计消费：¥259\n再消费 ¥241 升级为白银会员"
    )


def test_tiers_rise_with_spend_and_a_refund_takes_back_exactly_what_it_gave(any_storage):
    with any_storage.sessions.begin() as db:
        honey = sku(db, 30_000)
    paid_order(any_storage, "o1", honey)
    second = paid_order(any_storage, "o1", honey)
    assert standing(customer(any_storage, "o1")).tier == "白银"  # ¥600 ≥ ¥500
    with any_storage.sessions.begin() as db:
        order = db.get(orders.Order, second)
        assert orders.transition(db, order, "refunded", actor="manager")
    facts = customer(any_storage, "o1")
    assert (facts.paid_orders, facts.spend_fen, facts.points) == (1, 30_000, 300)
    assert standing(facts).tier == "青铜"
    gold = parse_tiers("白银:100,黄金:250")
    assert standing(facts, gold).tier == "黄金" and standing(facts, gold).next_tier is None


def test_concurrent_payments_of_one_customer_all_count(any_storage):
    with any_storage.sessions.begin() as db:
        honey = sku(db, 1_000, stock=100)
    threads = [threading.Thread(target=paid_order, args=(any_storage, "o1", honey))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    facts = customer(any_storage, "o1")
    assert (facts.paid_orders, facts.spend_fen, facts.points) == (8, 8_000, 80)


def test_the_console_lists_customers_by_tier(any_storage):
    with any_storage.sessions.begin() as db:
        cheap, dear = sku(db, 1_000), catalog.add_product(
            db, name="大米", skus=[("10kg", 60_000, 9)]).skus[0].id
    paid_order(any_storage, "o-small", cheap)
    paid_order(any_storage, "o-big", dear)
    with any_storage.sessions() as db:
        assert [(c.openid, t) for c, t in members.listing(db)] == [
            ("o-big", "白银"), ("o-small", "青铜")]
        assert [c.openid for c, _ in members.listing(db, tier="青铜")] == ["o-small"]
        assert [c.openid for c, _ in members.listing(db, search="big")] == ["o-big"]


@pytest.mark.parametrize("text", ["白银", "白银:abc", "白银:3000,黄金:2000", "青铜:10", "白银:0",
                                  ""])
def test_bad_tier_settings_are_refused(text):
    with pytest.raises(ValueError):
        parse_tiers(text)


def test_a_bad_member_tiers_setting_is_one_config_line():
    from core.config import DEFAULTS, ConfigError, validate

    config = {**DEFAULTS, "MEMBER_TIERS": "白银:500,黄金:100"}
    with pytest.raises(ConfigError) as raised:
        validate(config, require_account=False, checks=[members.check_config])
    assert any(line.startswith("MEMBER_TIERS:") for line in raised.value.problems)
