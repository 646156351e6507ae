"""每日秒杀 under its hardest load, through the real webhook, then a kill -9 in the middle.

Part 1 — the opening seconds: `python -m bot serve` on a fresh SQLite file and an external
redis-server; a session of 100 units (limit 1 per customer) opening a moment after 5,000
customers have their two 「抢 1」 each signed and ready; all 10,000 posted as WeChat posts them
(signed XML, unique MsgIds) over many keep-alive connections from the first second.
Printed: units sold per SQL (must be 100), the 抢到了 replies, customers beyond the limit (must
be 0), the chat reply's p50/p99, the attempts/s the webhook answered; then, in the same run,
a baseline: the same load of 「帮助」 (a plain text reply) through the same server, and the gate
alone (the Lua admission, in-process, many threads) against a bare Redis INCR.

Part 2 — the crash drill: a second session, a burst of 3,000 「抢 1」, kill -9 of the server
~0.3 s in (admissions taken in Redis whose SQL order never committed, and orders committed
whose confirm never ran), restart, wait out the gate's GRACE, run the reconciliation job, and
print whether Redis (units left, units per customer, nothing pending) and SQL agree.

    .venv/bin/python bench/flash_sale.py            # ~1–2 min; --customers/--stock to change

Until the lead's migration for the promotions tables exists, the schema is made from the
models and stamped at head, as tests/conftest.py does. No timing is asserted; the exit code is
1 when a correctness figure is wrong (sold ≠ stock, someone beyond the limit, no agreement).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command
from sqlalchemy import func, select

from bench.fault_drills import (
    ACCOUNT,
    APP_ID,
    HOST,
    TOKEN,
    Processes,
    RedisServer,
    Serve,
    bot_env,
)
from bench.pyload import _read_response, http_request
from bot.domains import build_registry
from core import migrate
from core.db import create_tables, make_engine, make_sessionmaker, sqlite_url
from core.storage import Storage
from devtools.wechat_user import WeChatUser

build_registry()  # every model joins the metadata

from promotions import flash_buying, flash_gate, flash_manager  # noqa: E402
from promotions.flash import FlashItem, FlashPurchase, FlashSession  # noqa: E402
from shop import catalog  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def make_schema(data_dir: Path) -> Storage:
    engine = make_engine(sqlite_url(data_dir))
    create_tables(engine)
    with engine.begin() as connection:
        command.stamp(migrate.alembic_config(connection), "head", purge=True)
    return Storage(engine=engine, sessions=make_sessionmaker(engine), redis=None)


def open_session(storage: Storage, sku_id: int, stock: int, starts_in: float) -> int:
    """A session opening `starts_in` seconds from now, one item of `stock` units, limit 1."""
    now = datetime.now(UTC)
    with storage.sessions.begin() as db:
        session = FlashSession(starts_at=now + timedelta(seconds=starts_in),
                               ends_at=now + timedelta(minutes=30), title="每日秒杀",
                               coupons_allowed=False, state="open")
        db.add(session)
        db.flush()
        return flash_manager.add_item(db, session.id, sku_id, price_fen=990, stock=stock,
                                      limit=1, reference_fen=None, now=now).id


def signed_posts(openids: list[str], text: str, repeat: int) -> list[tuple[str, bytes]]:
    """(openid, raw HTTP request) for each customer × repeat, interleaved as a crowd sends."""
    users = [WeChatUser(token=TOKEN, app_id=APP_ID, account=ACCOUNT, openid=o) for o in openids]
    posts = []
    for _ in range(repeat):
        for user in users:
            signed = user.sign(user.text(text))
            posts.append((user.openid, signed))
    return posts


def fire(port: int, posts: list, connections: int, timeout: float = 30.0) -> list[dict]:
    """Post every request once over `connections` keep-alive connections; per request:
    openid, latency, status, reply text ('' when none)."""
    results: list[dict] = []
    queue = list(reversed(posts))

    async def worker() -> None:
        reader = writer = None
        while queue:
            openid, signed = queue.pop()
            payload = http_request(HOST, port, f"/wechat?{signed.query}", signed.body)
            began = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(payload)
                await writer.drain()
                status, body, close = await asyncio.wait_for(_read_response(reader), timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                results.append({"openid": openid, "latency": time.perf_counter() - began,
                                "status": "cut", "reply": ""})
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
                continue
            match = re.search(rb"<Content><!\[CDATA\[(.*?)\]\]></Content>", body, re.S)
            results.append({"openid": openid, "latency": time.perf_counter() - began,
                            "status": status,
                            "reply": match.group(1).decode() if match else ""})
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(connections)))

    asyncio.run(main())
    return results


def kind(reply: str) -> str:
    for needle, name in (("每人限购", "limit"), ("抢到了", "won"), ("已抢光", "sold out"),
                         ("还没开始", "early"), ("太多了", "busy")):
        if needle in reply:
            return name
    return "other"


def sql_view(storage: Storage, item_id: int) -> dict:
    with storage.sessions() as db:
        item = db.get(FlashItem, item_id)
        held = dict(db.execute(
            select(FlashPurchase.openid, func.sum(FlashPurchase.quantity))
            .where(FlashPurchase.item_id == item_id, FlashPurchase.state == "active")
            .group_by(FlashPurchase.openid)).all())
        return {"stock": item.stock, "sold": item.sold, "held": held,
                "limit": item.limit_per_customer}


def gate_alone(client, seconds: float, threads: int) -> tuple[float, float]:
    """Admissions/s of the Lua gate (a huge stock, fresh customers) and INCR/s of bare Redis,
    each from `threads` threads for `seconds`."""
    now = datetime.now(UTC)
    snap = flash_gate.Snapshot(opens=now - timedelta(minutes=1), ends=now + timedelta(hours=1),
                               limit=1, stock=10**9, tokens=frozenset(), held={})
    flash_gate.sync(client, 999_999, flash_gate.generation(client, 999_999), snap, now)

    def run(op) -> float:
        counts = [0] * threads
        stop = time.monotonic() + seconds

        def loop(n: int) -> None:
            while time.monotonic() < stop:
                op(n, counts[n])
                counts[n] += 1

        workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return sum(counts) / seconds

    admits = run(lambda n, i: flash_gate.admit(client, 999_999, f"g{n}-{i}", 1,
                                               f"t{n}-{i}", now))
    incrs = run(lambda n, i: client.incr("bench:bare"))
    return admits, incrs


def kill_midway(storage: Storage, item_id: int, server: Serve, sold: int) -> None:
    """kill -9 the server once `sold` units are in SQL: purchases are then in every stage."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sql_view(storage, item_id)["sold"] < sold:
        time.sleep(0.005)
    server.kill9()


def agree(storage: Storage, item_id: int) -> tuple[bool, dict, dict]:
    sql = sql_view(storage, item_id)
    gate = flash_gate.state(storage.redis, item_id)
    same = (gate["left"] == sql["stock"] - sql["sold"] and gate["held"] == sql["held"]
            and gate["pending"] == 0 and sum(sql["held"].values()) == sql["sold"])
    return same, sql, gate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--attempts", type=int, default=2, help="抢 per customer")
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--crash-attempts", type=int, default=3000)
    args = parser.parse_args()
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="flash-bench-"))
    failed = False
    try:
        redis_server = RedisServer(procs, work)
        redis_server.start()
        import redis

        storage = make_schema(work)
        storage.redis = redis.Redis.from_url(redis_server.url)
        with storage.sessions.begin() as db:
            sku_id = catalog.add_product(db, name="秒杀矿泉水", skus=[("24瓶", 4990, 100000)]
                                         ).skus[0].id
        env = bot_env(work, REDIS_URL=redis_server.url, WECHAT_API_BASE="http://127.0.0.1:9")
        server = Serve(procs, env, work / "serve.log")
        server.start()
        print(f"server up on :{server.port}; data in {work}")

        # ---- part 1: the opening seconds -------------------------------------------------
        openids = [f"obench{n:023d}" for n in range(args.customers)]
        posts = signed_posts(openids, "抢 1", args.attempts)
        item_id = open_session(storage, sku_id, args.stock, starts_in=2.0)
        time.sleep(max(0.0, 2.05))  # open: every attempt lands in the first seconds
        began = time.monotonic()
        results = fire(server.port, posts, args.connections)
        elapsed = time.monotonic() - began
        kinds: dict[str, int] = {}
        for result in results:
            kinds[kind(result["reply"])] = kinds.get(kind(result["reply"]), 0) + 1
        sql = sql_view(storage, item_id)
        beyond = sum(1 for units in sql["held"].values() if units > sql["limit"])
        latencies = [r["latency"] for r in results if r["status"] == 200]
        print(f"\n== opening burst: {len(posts)} 「抢 1」 from {args.customers} customers, "
              f"{args.connections} connections, {elapsed:.1f} s ==")
        print(f"sold per SQL: {sql['sold']} (must be {args.stock}); 抢到了 replies: "
              f"{kinds.get('won', 0)}; customers beyond the limit: {beyond} (must be 0)")
        print(f"replies: {json.dumps(kinds, ensure_ascii=False)}; non-200: "
              f"{sum(1 for r in results if r['status'] != 200)}")
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        print(f"chat reply p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
              f"{len(results) / elapsed:.0f} attempts/s answered through the webhook")
        failed |= sql["sold"] != args.stock or beyond != 0 or kinds.get("won", 0) != args.stock

        help_posts = signed_posts(openids, "帮助", args.attempts)
        began = time.monotonic()
        baseline = fire(server.port, help_posts, args.connections)
        help_elapsed = time.monotonic() - began
        help_lat = [r["latency"] for r in baseline if r["status"] == 200]
        h50, h99 = percentile(help_lat, 50), percentile(help_lat, 99)
        print(f"baseline 「帮助」 (plain text reply), same load: p50 {h50 * 1000:.0f} ms, "
              f"p99 {h99 * 1000:.0f} ms, {len(baseline) / help_elapsed:.0f} req/s → 抢 p99 is "
              f"{p99 / h99 if h99 else 0:.2f}× 帮助's")
        admits, incrs = gate_alone(storage.redis, 2.0, 16)
        print(f"gate alone (Lua admission, 16 threads): {admits:.0f} admissions/s; bare Redis "
              f"INCR: {incrs:.0f}/s → ratio {admits / incrs if incrs else 0:.2f}")

        # ---- part 2: kill -9 in the middle -----------------------------------------------
        crash_ids = [f"ocrash{n:022d}" for n in range(args.crash_attempts)]
        crash_posts = signed_posts(crash_ids, "抢 1", 1)
        with storage.sessions.begin() as db:  # part 1's session ends: 抢 1 means the new one
            flash_manager.end_early(db, db.get(FlashItem, item_id).session_id, datetime.now(UTC))
        flash_buying.forget_listing(storage.redis)
        crash_item = open_session(storage, sku_id, args.stock, starts_in=1.0)
        time.sleep(1.05)
        killer = threading.Thread(target=kill_midway, args=(storage, crash_item, server,
                                                            max(1, args.stock // 3)))
        killer.start()
        cut_results = fire(server.port, crash_posts, args.connections, timeout=5.0)
        killer.join()
        killed_at = time.monotonic()
        won = sum(1 for r in cut_results if kind(r["reply"]) == "won")
        answered = sum(1 for r in cut_results if r["status"] == 200)
        same, sql, gate = agree(storage, crash_item)
        print(f"\n== crash drill: kill -9 once {args.stock // 3} units had sold, during "
              f"{len(crash_posts)} 「抢 1」 ==")
        print(f"before the kill: {won} 抢到了 replies; answered {answered}, cut "
              f"{len(cut_results) - answered}")
        print(f"right after the kill: SQL left {sql['stock'] - sql['sold']}, Redis left "
              f"{gate['left']}, pending admissions {gate['pending']} → agree: {same}")
        server.start()
        wait = flash_gate.GRACE_SECONDS + 1 - (time.monotonic() - killed_at)
        if wait > 0:
            print(f"restarted; waiting {wait:.0f} s for the gate's GRACE "
                  f"({flash_gate.GRACE_SECONDS} s: an admission older than that is dead)")
            time.sleep(wait)
        done = flash_buying.reconcile_all(storage)
        same, sql, gate = agree(storage, crash_item)
        print(f"reconciliation job: {done.get(crash_item)} (left, dead admissions dropped)")
        print(f"after: SQL left {sql['stock'] - sql['sold']} (sold {sql['sold']}), Redis left "
              f"{gate['left']}, customers {len(sql['held'])} vs {len(gate['held'])}, pending "
              f"{gate['pending']} → Redis and SQL agree: {same}")
        beyond = sum(1 for units in sql["held"].values() if units > sql["limit"])
        print(f"customers beyond the limit after the crash: {beyond}")
        failed |= not same or beyond != 0
    finally:
        procs.close()
    print("\nFAILED" if failed else "\nall correctness checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
