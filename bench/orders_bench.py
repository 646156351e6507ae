"""Orders per second on one hot SKU under contention, and the oversell count (must be 0).

For each database (SQLite file; PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL
names one), in one run:
- baseline: one worker placing one-unit orders back to back (no contention);
- contended: N threads all placing one-unit orders on the same SKU until it is sold out.
Both sell the same stock. Printed: orders/s of each, the ratio, and the oversell count
(orders beyond the stock, or stock below zero).

    .venv/bin/python bench/orders_bench.py [--stock 600] [--threads 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bot.domains import build_registry
from core.db import Base, create_tables, make_engine, make_sessionmaker
from shop import catalog, orders
from shop.catalog import Sku
from shop.orders import Order, OutOfStock

build_registry()  # imports every model, so each table is created


def fresh(url: str):
    engine = make_engine(url)
    create_tables(engine)
    Base.metadata.drop_all(engine)
    create_tables(engine)
    sessions = make_sessionmaker(engine)
    return engine, sessions


def hot_sku(sessions, stock: int) -> int:
    with sessions.begin() as db:
        product = catalog.add_product(db, name="限量球鞋", skus=[("42码", 99900, stock)])
        return product.skus[0].id


def sell_out(sessions, sku_id: int, workers: int) -> tuple[float, int, int]:
    """(seconds, orders placed, sold-out answers) with `workers` threads on one SKU."""
    placed = refused = 0
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def worker(n: int) -> None:
        nonlocal placed, refused
        start.wait()
        while True:
            try:
                with sessions.begin() as db:
                    orders.place(db, f"bench{n}", [(sku_id, 1)])
                with lock:
                    placed += 1
            except OutOfStock:
                with lock:
                    refused += 1
                return

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, placed, refused


def oversold(sessions, sku_id: int, stock: int) -> int:
    with sessions() as db:
        left = db.get(Sku, sku_id).stock
        count = db.scalar(select(func.count()).select_from(Order))
    return max(0, count - stock) + max(0, -left)


def run(name: str, url: str, stock: int, threads: int) -> None:
    engine, sessions = fresh(url)
    try:
        base_sku = hot_sku(sessions, stock)
        base_seconds, base_placed, _ = sell_out(sessions, base_sku, 1)
        base_over = oversold(sessions, base_sku, stock)
        engine.dispose()
        engine, sessions = fresh(url)
        sku = hot_sku(sessions, stock)
        seconds, placed, refused = sell_out(sessions, sku, threads)
        over = oversold(sessions, sku, stock)
    finally:
        engine.dispose()
    base_rate, rate = base_placed / base_seconds, placed / seconds
    print(f"{name:<11} 1 worker  {base_rate:7.0f} orders/s ({base_placed} orders, "
          f"oversold {base_over})")
    print(f"{'':<11} {threads:>2} threads {rate:7.0f} orders/s ({placed} orders, {refused} "
          f"sold-out answers, oversold {over}) = {rate / base_rate:.2f}× the single worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stock", type=int, default=600)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    print(f"one SKU with {args.stock} units; one-unit orders until sold out")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args.stock, args.threads)
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        run("PostgreSQL", url, args.stock, args.threads)
    else:
        print("PostgreSQL  skipped (set BENCH_DATABASE_URL)")


if __name__ == "__main__":
    main()
