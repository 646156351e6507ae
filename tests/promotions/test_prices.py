"""Honest reference prices: the lowest price the SKU really sold at in the previous 7 days."""

from __future__ import annotations

from datetime import timedelta

from promotions import prices
from shop import orders
from shop.orders import Order
from tests.promotions.flash_helpers import NOW, make_sku, paid_order


def test_the_lowest_paid_price_of_the_last_seven_days(storage):
    sku_id = make_sku(storage.sessions, price=12900)
    with storage.sessions() as db:
        assert prices.reference_price(db, sku_id, NOW) is None
    paid_order(storage.sessions, "o-1", sku_id, NOW - timedelta(days=2))
    paid_order(storage.sessions, "o-2", sku_id, NOW - timedelta(days=8),
               flash_price=(999, 4900))  # too old to count
    with storage.sessions() as db:
        assert prices.reference_price(db, sku_id, NOW) == 12900
    paid_order(storage.sessions, "o-3", sku_id, NOW - timedelta(days=6),
               flash_price=(998, 6900))  # a flash price is a price it really sold at
    with storage.sessions() as db:
        assert prices.reference_price(db, sku_id, NOW) == 6900


def test_refunded_and_unpaid_orders_are_no_sales(storage):
    sku_id = make_sku(storage.sessions, price=12900)
    refunded = paid_order(storage.sessions, "o-1", sku_id, NOW - timedelta(days=1),
                          flash_price=(997, 3900))
    with storage.sessions.begin() as db:
        orders.transition(db, db.get(Order, refunded), "refunded", actor="shop")
        orders.place(db, "o-2", [(sku_id, 1)], now=NOW - timedelta(hours=1),
                     flash_prices={sku_id: (996, 1900)})  # never paid
    with storage.sessions() as db:
        assert prices.reference_price(db, sku_id, NOW) is None


def test_reasons_for_a_refused_reference(storage):
    sku_id = make_sku(storage.sessions, price=12900)
    with storage.sessions() as db:
        assert prices.reference_problem(db, sku_id, 12900, NOW) == (
            "近7天没有成交记录，不能标划线价")
    paid_order(storage.sessions, "o-1", sku_id, NOW - timedelta(days=1))
    with storage.sessions() as db:
        assert prices.reference_problem(db, sku_id, 15900, NOW) == "划线价须为近7天最低成交价¥129"
        assert prices.reference_problem(db, sku_id, 12900, NOW, sale_fen=5900) is None
        assert prices.reference_problem(db, sku_id, 5900, NOW, sale_fen=5900) == (
            "划线价须为近7天最低成交价¥129")
        assert prices.shown_reference(db, sku_id, 12900, 5900, NOW) == 12900
        # Eight days on, nothing supports it any more: the chat stops showing it.
        assert prices.shown_reference(db, sku_id, 12900, 5900, NOW + timedelta(days=8)) is None


def test_the_reference_must_be_a_price_it_really_sold_at(storage):
    """Between the flash price and the 7-day low is not enough: ¥89 was never paid."""
    sku_id = make_sku(storage.sessions, price=12900)
    paid_order(storage.sessions, "o-1", sku_id, NOW - timedelta(days=3))
    paid_order(storage.sessions, "o-2", sku_id, NOW - timedelta(days=2),
               flash_price=(995, 9900))
    with storage.sessions() as db:
        assert prices.reference_problem(db, sku_id, 8900, NOW, sale_fen=5900) == (
            "划线价须为近7天最低成交价¥99")
        assert prices.reference_problem(db, sku_id, 12900, NOW, sale_fen=5900) == (
            "划线价须为近7天最低成交价¥99")  # sold at ¥129 too, but not the lowest
        assert prices.reference_problem(db, sku_id, 9900, NOW, sale_fen=5900) is None
        assert prices.shown_reference(db, sku_id, 8900, 5900, NOW) is None
        # The 7-day low is not above the sale price: nothing honest to strike through.
        assert prices.reference_problem(db, sku_id, 9900, NOW, sale_fen=9900) == (
            "近7天最低成交价¥99不高于秒杀价¥99，不能标划线价")
    # A lower sale later: the ¥99 set before is no longer the low, the chat hides it.
    paid_order(storage.sessions, "o-3", sku_id, NOW + timedelta(hours=1),
               flash_price=(994, 7900))
    with storage.sessions() as db:
        assert prices.shown_reference(db, sku_id, 9900, 5900, NOW + timedelta(hours=2)) is None
