"""One coupon, 1,000 checkouts at once: how many redeemed it (must be 1), and what it costs.

A customer holding one 满199减20 coupon confirms the same checkout from 1,000 threads released
together (many phones, a script, WeChat's retries piled up). Each runs the chat's real
checkout in its own transaction (promotions.checkout.place: place the order, redeem the
coupon by its conditional UPDATE, charge the rest); a checkout whose coupon is already used
fails whole and rolls back, as in the chat. Printed, per database:
- baseline: the same 1,000 checkouts without a coupon (every one places an order);
- with the coupon: orders placed, checkouts refused, double redemptions (must be 0: orders
  holding the coupon beyond one, or the coupon pointing at an order that does not hold it),
  wall time and the ratio to the baseline's.

Threads beyond the connection pool wait for a connection, as web workers would. SQLite is a
temporary file; PostgreSQL is used when BENCH_DATABASE_URL or DATABASE_URL names one: its
tables are created if missing and never dropped, and each run adds its own product, batch and
orders (tagged with the run), so point it at a throwaway database.

    .venv/bin/python bench/coupon_race.py [--checkouts 1000] [--threads 1000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bot.domains import build_registry
from core.db import create_tables, make_engine, make_sessionmaker
from promotions import checkout, coupon_batches, coupons
from promotions.coupon_batches import BatchTerms
from promotions.coupons import Coupon
from shop import catalog
from shop.orders import Order, OrderError

build_registry()  # imports every model (so each table is created) and the order listeners

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "street": "文三路100号"}


def setup(sessions, tag: str, units: int) -> tuple[int, int]:
    """A SKU of ¥250 with enough stock for every run, and one coupon held by the customer."""
    now = datetime.now(UTC)
    with sessions.begin() as db:
        sku = catalog.add_product(db, name=f"压测蜂蜜 {tag}", skus=[("500g", 25000, units)])
        batch = coupon_batches.create_batch(db, BatchTerms(
            name=f"压测 {tag}", kind="threshold", threshold_fen=19900, off_fen=2000,
            valid_days=1), now, created_by="bench")
        coupon = coupons.issue(db, batch.id, f"bench-{tag}", now, source="bench")
        return sku.skus[0].id, coupon.id


def race(sessions, openid: str, sku_id: int, coupon_id: int | None, checkouts: int,
         threads: int) -> tuple[float, int, dict[str, int]]:
    """(seconds, orders placed, refusals by reason) for `checkouts` released together."""
    placed = 0
    refused: dict[str, int] = {}
    lock = threading.Lock()
    remaining = iter(range(checkouts))
    start = threading.Barrier(threads)

    def one() -> None:
        nonlocal placed
        try:
            with sessions.begin() as db:
                checkout.place(db, openid, [(sku_id, 1)], address=ADDRESS,
                               coupon_id=coupon_id, points_used=0, expected_total=None,
                               now=datetime.now(UTC), config={}, payment_minutes=30,
                               checkout_key=None)
            with lock:
                placed += 1
        except OrderError as error:
            with lock:
                refused[str(error)] = refused.get(str(error), 0) + 1
        except Exception as error:  # a pool timeout or a lock: counted, never lost silently
            reason = f"error {type(error).__name__}"
            with lock:
                refused[reason] = refused.get(reason, 0) + 1

    def worker() -> None:
        start.wait()
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            one()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - began, placed, refused


def double_redemptions(sessions, coupon_id: int) -> int:
    with sessions() as db:
        holders = list(db.scalars(select(Order.id).where(Order.coupon_id == coupon_id)))
        coupon = db.get(Coupon, coupon_id)
    wrong_pointer = int(coupon.state == "used" and coupon.order_id not in holders)
    return max(0, len(holders) - 1) + wrong_pointer


def run(name: str, url: str, checkouts: int, threads: int) -> bool:
    """Print one database's figures; False when a checkout went uncounted or a coupon was
    redeemed twice."""
    engine = make_engine(url)
    create_tables(engine)
    sessions = make_sessionmaker(engine)
    tag = secrets.token_hex(3)
    try:
        sku_id, coupon_id = setup(sessions, tag, 2 * checkouts + 10)
        openid = f"bench-{tag}"
        race(sessions, openid, sku_id, None, min(threads, 20), min(threads, 20))  # warm-up
        base_seconds, base_placed, base_refused = race(sessions, openid, sku_id, None,
                                                       checkouts, threads)
        seconds, placed, refused = race(sessions, openid, sku_id, coupon_id, checkouts, threads)
        doubles = double_redemptions(sessions, coupon_id)
        with sessions() as db:
            holders = db.scalar(select(func.count()).select_from(Order)
                                .where(Order.coupon_id == coupon_id))
        pool = engine.pool
        connections = pool.size() + max(getattr(pool, "_max_overflow", 0), 0)  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    counted = placed + sum(refused.values())
    print(f"{name}: {checkouts} checkouts by one customer, {threads} threads released together "
          f"(sharing at most {connections} connections, as web workers would)")
    print(f"  without a coupon  {base_seconds:6.2f} s  {base_placed} orders "
          f"({base_placed / base_seconds:.0f}/s), refused {sum(base_refused.values())}")
    reasons = ", ".join(f"{count}× {reason}" for reason, count in refused.items()) or "none"
    print(f"  with one coupon   {seconds:6.2f} s  {placed} orders, {holders} holding the "
          f"coupon; refused: {reasons}")
    print(f"  double redemptions: {doubles}   time ratio with/without: "
          f"{seconds / base_seconds:.2f}×   checkouts counted: {counted} of {checkouts}")
    return doubles == 0 and counted == checkouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1000)
    args = parser.parse_args()
    threads = max(1, min(args.threads, args.checkouts))
    with tempfile.TemporaryDirectory() as tmp:
        good = run("SQLite (WAL)", f"sqlite:///{tmp}/bench.sqlite3", args.checkouts, threads)
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url and not url.startswith("sqlite"):
        good = run("PostgreSQL", url, args.checkouts, threads) and good
    else:
        print("PostgreSQL skipped (set BENCH_DATABASE_URL or DATABASE_URL)")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
