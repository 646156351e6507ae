"""A re-engagement push to 100,000 followers through the WeChat sandbox, with a kill -9.

Real processes on loopback, each on free ports and a fresh data dir: a redis-server, the
sandbox as its own process (this file with --serve-sandbox: the app `python -m bot sandbox`
serves, plus a read-only /bench/received that counts the outbox per openid in the sandbox
process, because /sandbox/sent returns every mass entry with its whole openid list) and
`python -m bot worker` RQ senders (PUSH_WORKERS=rq, REDIS_URL that redis-server).

1. `python -m bot migrate` on a fresh SQLite file; N followers bulk-inserted, subscribed, none
   paid (潜在客户); every 10th wrote an hour ago (48-hour window: custom channel), the rest
   mass. The sandbox learns them through its control API: /sandbox/users in 10,000-openid
   calls, /sandbox/inbound (kind message) per chatting follower.
2. A push created with push_rules.create (live content rules' screener): segment prospect,
   channels custom+mass, holdout 10%, no quiet hours (00:00–00:00), no throttle. Timed: the
   segment's classification alone (planner.recipients) and planner.plan_run with its commit.
3. Sending: --workers N workers (default 1); the bench plays the scheduler's `enqueue_due`
   tick (every 0.5 s, not 15 s, so the tick is not what is measured), which keeps one send
   job per worker. Mid-run (half the deliveries the quota allows) every worker gets SIGKILL;
   their leases (120 s) and queue slots (60 s) are then expired by hand instead of waited for
   (--wait-leases waits for real), N new workers finish.
4. Checks, from the sandbox's outbox and SQL: openids that received the push twice (must be 0),
   deliveries left `sending` (must be 0), every non-holdout recipient accounted for (sent,
   unknown, skipped, failed, or deferred by 45009 to tomorrow); `unknown` is reported.
5. Baseline, same run: a bare loop of custom/send calls with the same client (bot.wechat_api)
   against the same sandbox, without the sender's bookkeeping; mass is compared with WeChat's
   ceiling (60 requests/min, 100 a day, ≤ 10,000 openids each; WECHAT_API.md §4, §5D).

    .venv/bin/python bench/push_send.py --quick     # 10,000 recipients, ~1 min
    .venv/bin/python bench/push_send.py             # 100,000 recipients, ~3 min
    .venv/bin/python bench/push_send.py --recipients 5000 --workers 2   # side by side

No timing is asserted; exit 1 when a duplicate, a leftover `sending` row or an unaccounted
recipient is found, 2 when the run could not be set up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

COPY = "新品到店，欢迎回来看看"
PUSH_APIS = ("custom/send", "mass/send")
TICK_SECONDS = 0.5
AGENT = "push@gh_bench"


# --- the sandbox process --------------------------------------------------------------------


def serve_sandbox(port: int, mass_daily: int | None) -> None:
    """`python -m bot sandbox`'s app, threaded, plus /bench/received (read-only)."""
    from flask import Blueprint
    from werkzeug.serving import make_server

    from devtools.demo import DEMO_ACCOUNT
    from devtools.sandbox import create_sandbox_app
    from devtools.sandbox.web import get_state

    limits = ({"/cgi-bin/message/mass/send": mass_daily} if mass_daily else None)
    app = create_sandbox_app({
        "APP_ID": os.environ.get("WECHAT_APP_ID") or DEMO_ACCOUNT["WECHAT_APP_ID"],
        "APP_SECRET": os.environ.get("WECHAT_APP_SECRET") or DEMO_ACCOUNT["WECHAT_APP_SECRET"],
        "DAILY_LIMITS": limits,
    })
    bench = Blueprint("bench", __name__, url_prefix="/bench")

    @bench.get("/received")
    def received() -> dict:
        state = get_state()
        with state.lock:
            messages = state.outbox.since(0)
            calls = dict(state.stats.calls)
            errors = {str(k): v for k, v in state.stats.errors.items()}
        per_api: Counter[str] = Counter()
        per_openid: Counter[str] = Counter()
        for message in messages:
            if message["api"] in PUSH_APIS:
                per_api[message["api"]] += 1
                per_openid[message["touser"]] += 1
        return {"per_api": per_api, "per_openid": per_openid, "calls": calls, "errors": errors}

    app.register_blueprint(bench)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"bench sandbox at http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


# --- helpers --------------------------------------------------------------------------------


def progress(text: str) -> None:
    sys.stderr.write(f"\r  {text}\033[K")
    sys.stderr.flush()


def done_progress() -> None:
    sys.stderr.write("\r\033[K")
    sys.stderr.flush()


class Ticker:
    """A progress line with the elapsed seconds while a long call runs."""

    def __init__(self, label: str):
        self.label, self.stop = label, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        began = time.monotonic()
        while not self.stop.wait(0.5):
            progress(f"{self.label} … {time.monotonic() - began:.0f} s")

    def __enter__(self) -> Ticker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        done_progress()


def rss_peak(pid: int) -> int:
    """VmHWM of a live process, bytes (0 when gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def openid_of(i: int) -> str:
    return f"o_bench_{i:06d}"


# --- the run --------------------------------------------------------------------------------


class Failed(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 recipients")
    parser.add_argument("--recipients", type=int, default=None)
    parser.add_argument("--custom-every", type=int, default=10,
                        help="every Nth follower chatted an hour ago (custom channel)")
    parser.add_argument("--mass-daily", type=int, default=None,
                        help="the sandbox's mass/send calls per day (default WeChat's 100)")
    parser.add_argument("--kill-at", type=float, default=0.5,
                        help="kill -9 the sender at this share of the sendable deliveries")
    parser.add_argument("--wait-leases", action="store_true",
                        help="after the kill, wait for the leases and queue slots to expire")
    parser.add_argument("--no-agent", action="store_true",
                        help="send customer-service pushes without PUSH_KF_ACCOUNT (at most once)")
    parser.add_argument("--workers", type=int, default=1,
                        help="`python -m bot worker` processes sending side by side")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    parser.add_argument("--serve-sandbox", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox:
        serve_sandbox(args.serve_sandbox, args.mass_daily)
        return 0
    n = args.recipients or (10_000 if args.quick else 100_000)
    workdir = Path(tempfile.mkdtemp(prefix="push-bench-"))
    from bench.fault_drills import Processes

    procs = Processes()
    ok = False
    try:
        code = run(args, n, workdir, procs)
        ok = code == 0
        return code
    except Failed as error:
        print(f"\n!!! could not run: {error}", file=sys.stderr)
        return 2
    finally:
        procs.close()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"data dir and logs kept in {workdir}", file=sys.stderr)


def run(args: argparse.Namespace, n: int, workdir: Path, procs) -> int:
    import redis
    from sqlalchemy import func, insert, select, update

    from bench.fault_drills import (
        APP_ID,
        APP_SECRET,
        PY,
        RedisServer,
        bot_command,
        bot_env,
        free_port,
        tail,
        wait_until,
    )
    from bot.domains import build_registry
    from bot.wechat_api import WeChatAPI
    from campaigns import planner, push_rules, queue, sender
    from campaigns.pushes import PushDelivery, PushRun
    from content_audit.rulestore import LiveRules
    from core.db import make_engine, make_sessionmaker, sqlite_url
    from core.storage import Storage
    from shop.followers import Follower

    build_registry()
    figures: dict[str, str] = {}
    problems: list[str] = []
    data_dir = workdir / "data"
    data_dir.mkdir()

    # --- processes: redis-server, sandbox ---------------------------------------------------
    redis_server = RedisServer(procs, workdir)
    redis_server.start()
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = bot_env(data_dir, REDIS_URL=redis_server.url, PUSH_WORKERS="rq",
                  WECHAT_API_BASE=sandbox_url)
    if not args.no_agent:  # customer-service pushes as an agent: settled by the chat log
        env["PUSH_KF_ACCOUNT"] = AGENT
    sandbox_argv = [PY, str(Path(__file__).resolve()), "--serve-sandbox", str(sandbox_port)]
    if args.mass_daily:
        sandbox_argv += ["--mass-daily", str(args.mass_daily)]
    sandbox_proc = procs.start(sandbox_argv, workdir / "sandbox.log", env=env)
    http = requests.Session()

    def sandbox_up() -> bool:
        try:
            return http.get(f"{sandbox_url}/sandbox/stats", timeout=1).ok
        except requests.RequestException:
            return False

    if not wait_until(sandbox_up, 20, 0.1):
        raise Failed(f"sandbox did not start:\n{tail(workdir / 'sandbox.log')}")
    bot_command(["migrate"], env, workdir / "migrate.log")

    engine = make_engine(sqlite_url(data_dir))
    client = redis.Redis.from_url(redis_server.url)
    storage = Storage(engine=engine, sessions=make_sessionmaker(engine), redis=client,
                      settings={"PUSH_WORKERS": "rq"})

    # --- followers: SQL and sandbox ---------------------------------------------------------
    now = datetime.now(UTC)
    openids = [openid_of(i) for i in range(n)]
    chatting = [o for i, o in enumerate(openids) if i % args.custom_every == 0]
    began = time.monotonic()
    with engine.begin() as connection:
        for start in range(0, n, 10_000):
            connection.execute(insert(Follower), [
                {"openid": o, "subscribed": True, "subscribed_at": now - timedelta(days=30),
                 "unsubscribed_at": None, "first_seen_at": now - timedelta(days=30),
                 "last_interaction_at": now - timedelta(hours=1) if i % args.custom_every == 0
                 else now - timedelta(days=20),
                 "last_message_at": now - timedelta(hours=1) if i % args.custom_every == 0
                 else None, "source_scene": None}
                for i, o in enumerate(openids[start:start + 10_000], start)])
            progress(f"followers in SQL {min(start + 10_000, n):,}/{n:,}")
    done_progress()
    figures["followers_sql"] = f"{time.monotonic() - began:.1f} s"
    began = time.monotonic()
    for start in range(0, n, 10_000):
        http.post(f"{sandbox_url}/sandbox/users", timeout=60,
                  json={"openids": openids[start:start + 10_000]}).raise_for_status()
        progress(f"sandbox /sandbox/users {min(start + 10_000, n):,}/{n:,}")
    done_progress()
    figures["sandbox_users"] = f"{time.monotonic() - began:.1f} s"
    began = time.monotonic()
    local = threading.local()

    def inbound(openid: str) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        session.post(f"{sandbox_url}/sandbox/inbound", timeout=10,
                     json={"openid": openid, "kind": "message"}).raise_for_status()

    with ThreadPoolExecutor(8) as pool:
        for i, _ in enumerate(pool.map(inbound, chatting), 1):
            if i % 500 == 0:
                progress(f"sandbox /sandbox/inbound {i:,}/{len(chatting):,}")
    done_progress()
    inbound_s = time.monotonic() - began
    figures["sandbox_inbound"] = (f"{inbound_s:.1f} s ({len(chatting) / inbound_s:,.0f}/s, "
                                  "8 threads)")

    # --- the push -------------------------------------------------------------------------------
    rules = LiveRules(storage.sessions, client, background=False)
    fire_at = datetime.now(UTC) + timedelta(seconds=2)
    draft = push_rules.PushDraft(
        name="潜在客户唤醒", segment="prospect", variants=[COPY], channels=["custom", "mass"],
        trigger="once", trigger_at=fire_at, quiet_start="00:00", quiet_end="00:00",
        holdout_percent=10, frequency_cap=2, throttle_per_minute=0)
    began = time.monotonic()
    with Ticker("push_rules.create (check counts the segment)"), \
            storage.sessions.begin() as db:
        push = push_rules.create(db, draft, datetime.now(UTC), screener=rules.screener(),
                                 author="bench")
        push_id, review = push.id, push.review
    figures["create"] = f"{time.monotonic() - began:.1f} s"
    if review != "send":
        raise Failed(f"the copy went to review ({review}); pick another COPY")
    time.sleep(max(0.0, (fire_at - datetime.now(UTC)).total_seconds()))
    with storage.sessions.begin() as db:
        run = PushRun(push_id=push_id, fire_at=fire_at, kind="main", state="planning")
        db.add(run)
        db.flush()
        run_id = run.id
    plan_now = datetime.now(UTC)
    with storage.sessions() as db, Ticker(f"segment classification of {n:,}"):
        began = time.monotonic()
        found = planner.recipients(db, db.get(type(push), push_id), fire_at, plan_now)
        classify_s = time.monotonic() - began
    if len(found) != n:
        raise Failed(f"the segment holds {len(found):,} of {n:,} followers")
    with Ticker(f"planner.plan_run of {n:,}"):
        began = time.monotonic()
        with storage.sessions.begin() as db:
            tally = planner.plan_run(db, db.get(PushRun, run_id), plan_now)
        plan_s = time.monotonic() - began
    figures["plan"] = f"{plan_s:.1f} s ({n / plan_s:,.0f} rows/s)"
    figures["classify"] = f"{classify_s:.1f} s ({n / classify_s:,.0f} rows/s)"
    planned = tally.get("planned", 0)
    by_channel = {"custom": tally.get("channel:custom", 0), "mass": tally.get("channel:mass", 0)}
    figures["tally"] = (f"planned {planned:,} (custom {by_channel['custom']:,}, mass "
                        f"{by_channel['mass']:,}), holdout {tally.get('holdout', 0):,}, "
                        f"skipped {tally.get('skipped', 0):,}")

    # --- sending --------------------------------------------------------------------------------
    batch = 200  # send_due's default; the RQ job (campaigns/queue.run_send_due) passes none
    mass_calls_allowed = args.mass_daily or 100
    sendable = by_channel["custom"] + min(by_channel["mass"], mass_calls_allowed * batch)
    kill_at = int(sendable * args.kill_at)

    def counts() -> Counter[tuple[str, str]]:
        with storage.sessions() as db:
            return Counter({(c, s): k for c, s, k in db.execute(
                select(PushDelivery.channel, PushDelivery.state, func.count())
                .where(PushDelivery.run_id == run_id, PushDelivery.holdout.is_(False))
                .group_by(PushDelivery.channel, PushDelivery.state))})

    def due_left() -> int:
        at = datetime.now(UTC)
        with storage.sessions() as db:
            return db.scalar(select(func.count()).select_from(PushDelivery).where(
                PushDelivery.run_id == run_id,
                PushDelivery.state.in_(("sending", "calling"))
                | ((PushDelivery.state == "planned")
                   & (PushDelivery.not_before.is_(None) | (PushDelivery.not_before <= at)))))

    def sent_of(c: Counter) -> int:
        return sum(k for (_, s), k in c.items() if s == "sent")

    def start_workers(phase: int) -> list:
        """`--workers` worker processes, once each has said it listens."""
        started = []
        for i in range(args.workers):
            log = workdir / f"worker-{phase}-{i}.log"
            started.append((procs.start([PY, "-m", "bot", "worker"], log, env=env), log))
        for _, log in started:
            if not wait_until(lambda log=log: b"push worker on queue" in log.read_bytes(),
                              30, 0.1):
                raise Failed(f"worker did not start:\n{tail(log)}")
        return started

    def slots_held() -> bool:
        return any(True for _ in client.scan_iter(f"{queue.GUARD_KEY}*"))

    series: list[tuple[float, int, int]] = []  # (t, custom sent, mass sent)
    peak = {"rss": 0}

    def watch(workers: list, t0: float, until) -> tuple[float, Counter]:
        """Tick the queue, poll SQL and memory until `until(counts)`; returns (t, counts)."""
        last_tick = 0.0
        while True:
            t = time.monotonic() - t0
            if time.monotonic() - last_tick >= TICK_SECONDS:
                queue.enqueue_due(storage)
                last_tick = time.monotonic()
            c = counts()
            series.append((t, c[("custom", "sent")], c[("mass", "sent")]))
            peak["rss"] = max([peak["rss"]] + [rss_peak(p.pid) for p, _ in workers])
            progress(f"sending {sent_of(c):,}/{planned:,} sent, "
                     f"{sum(k for (_, s), k in c.items() if s == 'sending'):,} sending, "
                     f"{t:.0f} s")
            if until(c):
                return t, c
            for proc, log in workers:
                if proc.poll() is not None:
                    raise Failed(f"a worker exited:\n{tail(log)}")
            if t > 600:
                raise Failed("sending took over 10 minutes")
            time.sleep(0.2)

    workers = start_workers(1)
    t0 = time.monotonic()
    t_kill, at_kill = watch(workers, t0, lambda c: sent_of(c) >= kill_at)
    peak_first = max([peak["rss"]] + [rss_peak(p.pid) for p, _ in workers])
    for proc, _ in workers:
        procs.kill9(proc)
    done_progress()
    after_kill = counts()
    in_flight = {ch: after_kill[(ch, "sending")] for ch in ("custom", "mass")}
    phase1 = list(series)
    gap_began = time.monotonic()
    if args.wait_leases:
        with Ticker(f"waiting for the dead senders' leases ({sender.LEASE_SECONDS} s) and "
                    f"queue slots ({queue.SLOT_SECONDS} s)"):
            time.sleep(max(sender.LEASE_SECONDS, queue.SLOT_SECONDS) + 1)
        if slots_held():
            problems.append("a dead worker's queue slot outlived its TTL")
    else:  # what 120 s / 60 s of waiting would do
        with storage.sessions.begin() as db:
            db.execute(update(PushDelivery)
                       .where(PushDelivery.run_id == run_id,
                              PushDelivery.state.in_(("sending", "calling")))
                       .values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
        for key in client.scan_iter(f"{queue.GUARD_KEY}*"):
            client.delete(key)
    gap_s = time.monotonic() - gap_began
    peak["rss"] = 0
    workers = start_workers(2)
    t1 = time.monotonic()
    idle = {"polls": 0}

    def finished(c: Counter) -> bool:
        # not "the queue is empty": the killed workers stay registered (a SimpleWorker killed
        # mid-job, for the job's timeout), so the tick keeps a no-op job queued for each
        idle["polls"] = idle["polls"] + 1 if due_left() == 0 else 0
        return idle["polls"] >= 3

    t_end, final = watch(workers, t1, finished)
    peak_second = max([peak["rss"]] + [rss_peak(p.pid) for p, _ in workers])
    for proc, _ in workers:
        procs.stop(proc)
    done_progress()

    # --- what customers received --------------------------------------------------------------
    got = http.get(f"{sandbox_url}/bench/received", timeout=120).json()
    per_openid: dict[str, int] = got["per_openid"]
    twice = sorted(o for o, k in per_openid.items() if k > 1)
    with storage.sessions() as db:
        rows = db.execute(select(PushDelivery.openid, PushDelivery.state, PushDelivery.channel,
                                 PushDelivery.error_code, PushDelivery.holdout)
                          .where(PushDelivery.run_id == run_id)).all()
    states = Counter(s for _, s, _, _, h in rows if not h)
    deferred = sum(1 for _, s, _, e, h in rows if not h and s == "planned" and e == 45009)
    accounted = (states["sent"] + states["unknown"] + states["skipped"] + states["failed"]
                 + deferred)
    sent_sql = {o for o, s, _, _, _ in rows if s == "sent"}
    holdout_set = {o for o, _, _, _, h in rows if h}
    lost = len(sent_sql - per_openid.keys())
    to_holdout = len(holdout_set & per_openid.keys())
    unknown_received = sum(1 for o, s, _, _, _ in rows if s == "unknown" and o in per_openid)
    leftover_sending = states["sending"]
    if twice:
        problems.append(f"{len(twice)} openids received the push twice, e.g. {twice[:3]}")
    if leftover_sending:
        problems.append(f"{leftover_sending} deliveries left `sending`")
    if accounted != planned:
        problems.append(f"{planned - accounted} non-holdout recipients not accounted for "
                        f"(states {dict(states)})")
    if lost:
        problems.append(f"{lost} deliveries `sent` in SQL never reached the sandbox")
    if to_holdout:
        problems.append(f"{to_holdout} holdout customers received the push")

    # --- rates ----------------------------------------------------------------------------------
    first_mass = next(((t, c) for t, c, m in phase1 if m > 0), None)
    custom_rate = (first_mass[1] / first_mass[0]) if first_mass and first_mass[0] > 0 else None
    mass_rate = None
    if first_mass:
        t_last, _c, m_last = phase1[-1]
        if t_last > first_mass[0]:
            mass_rate = m_last / (t_last - first_mass[0])
    phase1_rate = sent_of(at_kill) / t_kill if t_kill else 0.0
    sent_total = states["sent"]
    send_s = t_kill + t_end
    mass_http = got["calls"].get("/cgi-bin/message/mass/send", 0)
    custom_http = got["calls"].get("/cgi-bin/message/custom/send", 0)

    # baseline: bare custom/send calls with the same client, same sandbox, one thread
    base_n = min(custom_http, 1000) or min(len(chatting), 1000)
    api = WeChatAPI(sandbox_url, APP_ID, APP_SECRET, client)
    targets = chatting[:base_n]
    began = time.monotonic()
    for i, openid in enumerate(targets, 1):
        api.send_text(openid, COPY)
        if i % 250 == 0:
            progress(f"baseline custom/send {i:,}/{base_n:,}")
    done_progress()
    base_rate = base_n / (time.monotonic() - began)

    # --- summary --------------------------------------------------------------------------------
    mass_ceiling_calls_min = 60
    mass_ceiling_rate = mass_ceiling_calls_min * batch / 60  # recipients/s at 200 per call
    mass_calls_min = (mass_http / (send_s / 60)) if send_s else 0.0
    table = [
        ("recipients (followers in segment)", f"{n:,}"),
        ("followers: SQL bulk insert", figures["followers_sql"]),
        ("sandbox: /sandbox/users (10k/call)", figures["sandbox_users"]),
        ("sandbox: /sandbox/inbound (windows)", figures["sandbox_inbound"]),
        ("push_rules.create", figures["create"]),
        ("segment classification (recipients)", figures["classify"]),
        ("planner.plan_run + commit", figures["plan"]),
        ("decisions", figures["tally"]),
        ("send: phase 1 until kill -9", f"{sent_of(at_kill):,} sent in {t_kill:.1f} s "
                                        f"({phase1_rate:,.0f}/s)"),
        ("  custom deliveries/s (phase 1)",
         f"{custom_rate:,.0f}/s" if custom_rate else "n/a"),
        ("  baseline bare custom/send calls/s", f"{base_rate:,.0f}/s ({base_n:,} calls)"),
        ("  custom ratio to baseline",
         f"{custom_rate / base_rate:.2f}" if custom_rate else "n/a"),
        ("  mass recipients/s (phase 1)", f"{mass_rate:,.0f}/s" if mass_rate else "n/a"),
        ("  WeChat mass ceiling at 200/call", f"{mass_ceiling_rate:,.0f}/s (60 calls/min)"),
        ("  mass ratio to ceiling",
         f"{mass_rate / mass_ceiling_rate:.1f}×" if mass_rate else "n/a"),
        ("  mass/send calls (per min, day quota)",
         f"{mass_http:,} ({mass_calls_min:,.0f}/min; quota {mass_calls_allowed}/day)"),
        ("  custom/send calls", f"{custom_http:,}"),
        ("customer-service pushes sent as", "no agent (at most once)" if args.no_agent
         else f"{AGENT} (PUSH_KF_ACCOUNT: doubtful calls settled by the chat log)"),
        ("in flight at the kill (sending)",
         f"custom {in_flight['custom']}, mass {in_flight['mass']}"),
        ("lease/slot gap", f"{gap_s:.1f} s" + (
            "" if args.wait_leases
            else f" (expired by hand; 120 s/{queue.SLOT_SECONDS} s live)")),
        ("send: phase 2 (restarted workers)", f"{t_end:.1f} s"),
        ("all sent / sending time", f"{sent_total:,} in {send_s:.1f} s "
                                    f"({sent_total / send_s:,.0f}/s)"),
        ("sender peak RSS (VmHWM, largest worker)",
         f"{mib(peak_first)} before kill, {mib(peak_second)} after"),
        ("sandbox errors", json.dumps(got["errors"])),
        ("states (non-holdout)", ", ".join(f"{k} {v:,}" for k, v in sorted(states.items()))),
        ("deferred to tomorrow (45009)", f"{deferred:,}"),
        ("unknown (may have gone out)", f"{states['unknown']:,} ({unknown_received} of them "
                                        "in the outbox)"),
        ("DUPLICATES (received twice)", f"{len(twice)}"),
        ("LEFT `sending`", f"{leftover_sending}"),
        ("accounted / planned", f"{accounted:,} / {planned:,}"),
    ]
    width = max(len(k) for k, _ in table)
    print(f"\npush send bench — {n:,} recipients, {args.workers} RQ worker(s), batch {batch}, "
          f"sandbox mass/send quota {mass_calls_allowed}/day")
    for key, value in table:
        print(f"  {key:<{width}}  {value}")
    reproduce = "  .venv/bin/python bench/push_send.py" + (" --quick" if n == 10_000 else "") + (
        f" --recipients {n}" if n not in (10_000, 100_000) else "")
    if args.mass_daily:
        reproduce += f" --mass-daily {args.mass_daily}"
    if args.workers != 1:
        reproduce += f" --workers {args.workers}"
    print(f"\nreproduce:\n{reproduce}")
    _ = (sandbox_proc, final)
    if problems:
        print("\n!!! " + "\n!!! ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
