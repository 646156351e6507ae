"""Orders: all-or-nothing stock reservation, no overselling, expiry, recorded transitions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shop import catalog, orders
from shop.catalog import Sku
from shop.orders import Order, OrderError, OutOfStock
from shop.payments import expire_unpaid

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def lipstick(db, stock: int = 5, price: int = 12900) -> tuple[int, int]:
    product = catalog.add_product(
        db, name="丝绒口红", category_name="美妆", skus=[("#01 正红", price, stock),
                                                       ("#02 豆沙", price, stock)],
    )
    return product.skus[0].id, product.skus[1].id


def stock_of(storage, sku_id: int) -> int:
    with storage.sessions() as db:
        return db.get(Sku, sku_id).stock


def test_an_order_snapshots_prices_and_reserves_stock(any_storage):
    with any_storage.sessions.begin() as db:
        red, nude = lipstick(db)
        order = orders.place(db, "o1", [(red, 2), (nude, 1)], now=NOW,
                             address={"name": "张三"})
        assert order.total_fen == 3 * 12900 and order.state == "pending_payment"
        assert order.number.startswith("20261122") and order.pay_by == NOW + timedelta(minutes=30)
        db.get(Sku, red).price_fen = 99900  # a later price change does not touch the order
    assert stock_of(any_storage, red) == 3 and stock_of(any_storage, nude) == 4
    with any_storage.sessions() as db:
        line_red, _ = db.get(Order, order.id).lines
        assert (line_red.unit_price_fen, line_red.quantity, line_red.variant) == (12900, 2,
                                                                                  "#01 正红")


def test_not_enough_of_one_item_reserves_nothing(any_storage):
    with any_storage.sessions.begin() as db:
        red, nude = lipstick(db, stock=1)
    with pytest.raises(OutOfStock, match="丝绒口红"), any_storage.sessions.begin() as db:
        orders.place(db, "o1", [(red, 1), (nude, 2)], now=NOW)
    assert (stock_of(any_storage, red), stock_of(any_storage, nude)) == (1, 1)
    with any_storage.sessions() as db:
        assert db.query(Order).count() == 0


@pytest.mark.parametrize("quantity", [0, -1, 10**9, "abc", 1.5, True])
def test_bad_quantities_are_refused(any_storage, quantity):
    with any_storage.sessions.begin() as db:
        red, _ = lipstick(db)
    with pytest.raises(OrderError), any_storage.sessions.begin() as db:
        orders.place(db, "o1", [(red, quantity)], now=NOW)
    assert stock_of(any_storage, red) == 5


def test_many_customers_race_for_the_last_units(any_storage):
    """20 customers at once, 3 units: exactly 3 orders, stock 0, never negative."""
    with any_storage.sessions.begin() as db:
        red, _ = lipstick(db, stock=3)
    start = threading.Barrier(20)
    results: list[str] = []

    def buy(n: int) -> None:
        start.wait()
        try:
            with any_storage.sessions.begin() as db:
                orders.place(db, f"o{n}", [(red, 1)], now=NOW)
            results.append("ok")
        except OutOfStock:
            results.append("sold out")

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] * 3 + ["sold out"] * 17
    assert stock_of(any_storage, red) == 0
    with any_storage.sessions() as db:
        assert db.query(Order).count() == 3


def test_unpaid_orders_release_their_stock_once(any_storage):
    with any_storage.sessions.begin() as db:
        red, _ = lipstick(db, stock=2)
        order = orders.place(db, "o1", [(red, 2)], now=NOW)
    sessions = any_storage.sessions  # no WeChat Pay configured: nothing to close there
    assert expire_unpaid(sessions, None, NOW + timedelta(minutes=29)) == []
    released = expire_unpaid(sessions, None, NOW + timedelta(minutes=30))
    assert released == [f"{order.number}:released"]
    assert expire_unpaid(sessions, None, NOW + timedelta(hours=1)) == []
    assert stock_of(any_storage, red) == 2
    with any_storage.sessions() as db:
        events = [(e.from_state, e.to_state, e.actor) for e in orders.history(db, order.id)]
    assert events == [("", "pending_payment", "o1"),
                      ("pending_payment", "cancelled", "system")]


def test_a_payment_and_an_expiry_cannot_both_win(any_storage):
    with any_storage.sessions.begin() as db:
        red, _ = lipstick(db, stock=1)
        order_id = orders.place(db, "o1", [(red, 1)], now=NOW).id
    with any_storage.sessions.begin() as db_pay, any_storage.sessions.begin() as db_expire:
        paying = db_pay.get(Order, order_id)
        expiring = db_expire.get(Order, order_id)
        assert orders.transition(db_expire, expiring, "cancelled", actor="system", now=NOW)
        db_expire.commit()
        assert not orders.transition(db_pay, paying, "paid", actor="wxpay", now=NOW)
    with any_storage.sessions() as db:
        assert db.get(Order, order_id).state == "cancelled"


def test_transitions_follow_the_order_life(any_storage):
    with any_storage.sessions.begin() as db:
        red, _ = lipstick(db)
        order = orders.place(db, "o1", [(red, 1)], now=NOW)
        with pytest.raises(OrderError, match="不能改为已发货"):
            orders.transition(db, order, "shipped", actor="lin")
        assert orders.transition(db, order, "paid", actor="wxpay")
        assert orders.transition(db, order, "shipped", actor="lin", note="SF123")
        with pytest.raises(OrderError):
            orders.transition(db, order, "cancelled", actor="o1")  # shipped: no cancel
    assert stock_of(any_storage, red) == 4


def _buy_in_another_process(url: str, sku_id: int, buyer: str) -> str:
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as db:
            orders.place(db, buyer, [(sku_id, 1)], now=NOW)
        return "ok"
    except OutOfStock:
        return "sold out"
    finally:
        engine.dispose()


def test_processes_racing_for_the_last_unit(any_storage):
    """Workers are separate processes in production (gunicorn): the database must decide."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with any_storage.sessions.begin() as db:
        red, _ = lipstick(db, stock=2)
    url = any_storage.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=context) as pool:
        results = list(pool.map(_buy_in_another_process, [url] * 8, [red] * 8,
                                [f"p{n}" for n in range(8)]))
    assert sorted(results) == ["ok"] * 2 + ["sold out"] * 6
    assert stock_of(any_storage, red) == 0


def test_a_reservation_expires_after_a_restart(tmp_path):
    """The deadline lives in SQL: a process that never saw the order releases it."""
    from core.db import create_tables, make_engine, make_sessionmaker

    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    before = make_engine(url)
    create_tables(before)
    with make_sessionmaker(before).begin() as db:
        red, _ = lipstick(db, stock=1)
        orders.place(db, "o1", [(red, 1)], now=NOW)
    before.dispose()  # the process stops

    after = make_engine(url)  # a new one starts
    sessions = make_sessionmaker(after)
    assert expire_unpaid(sessions, None, now=NOW + timedelta(minutes=29)) == []
    assert len(expire_unpaid(sessions, None, now=NOW + timedelta(minutes=31))) == 1
    with sessions() as db:
        assert db.get(Sku, red).stock == 1
    after.dispose()
