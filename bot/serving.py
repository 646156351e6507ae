"""How the `serve` and `scheduler` processes live and die: until SIGTERM or SIGINT, then cleanly.

A process manager stops a service with SIGTERM and, after its own timeout, SIGKILL. Before this,
SIGTERM killed `serve` on the spot: requests in flight were cut, the scheduler was not stopped
and the embedded redis-server was left running for the next start to adopt. Now a signal
starts an orderly stop: no new connections, the requests and handlers in flight get a grace
period to finish, then the scheduler stops, then the embedded Redis, and the exit code is 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

log = logging.getLogger("bot.serving")

#: Seconds the requests and jobs in flight get to finish once a stop is asked for.
GRACE_SECONDS = 20.0


class InFlight:
    """WSGI middleware counting the requests being answered, so a stop can wait for them."""

    def __init__(self, app: Any):
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.idle:
            self.count += 1
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._leave()
            raise
        return _Counted(body, self._leave)  # still in flight until the server closes the body

    def _leave(self) -> None:
        with self.idle:
            self.count -= 1
            self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True when no request is in flight, waiting up to `timeout` seconds for that."""
        with self.idle:
            return self.idle.wait_for(lambda: self.count == 0, timeout=timeout)


class _Counted:
    """A response body that tells InFlight when the server has finished sending it."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]):
        self.body = body
        self.done: Callable[[], None] | None = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            done, self.done = self.done, None
            if done is not None:
                done()


class StopSignal:
    """Turns SIGTERM and SIGINT into an event the main thread waits on."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.name = ""

    def install(self) -> StopSignal:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.name = signal.Signals(signum).name
        self.event.set()

    def wait(self) -> str:
        """Block until a stop signal arrives; returns its name."""
        while not self.event.wait(0.5):
            pass
        return self.name


def finish_within(steps: Iterable[tuple[str, Callable[[], object]]], deadline: float) -> bool:
    """Run each step on a helper thread, giving each the time left before `deadline`.

    A step that overruns is logged and left behind (its thread is a daemon) so the process can
    still exit; returns False if any did.
    """
    all_done = True
    for name, step in steps:
        worker = threading.Thread(target=_logged(name, step), name=f"stop-{name}", daemon=True)
        worker.start()
        worker.join(timeout=max(0.1, deadline - time.monotonic()))
        if worker.is_alive():
            log.warning("stopping: %s did not finish within the grace period", name)
            all_done = False
    return all_done


def _logged(name: str, step: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            step()
        except Exception:
            log.exception("stopping: %s failed", name)

    return run


def serve_until_stopped(
    app: Any,
    host: str,
    port: int,
    cleanup: Iterable[tuple[str, Callable[[], object]]],
    grace: float = GRACE_SECONDS,
) -> None:
    """Serve `app` on host:port until SIGTERM/SIGINT, then stop in order (see module doc).

    `cleanup` runs after the last request has been answered: the app's handler pool, the
    scheduler, the embedded Redis, in the order given.
    """
    from werkzeug.serving import make_server

    counted = InFlight(app)
    stop = StopSignal().install()
    server = make_server(host, port, counted, threaded=True)
    listener = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    listener.start()
    name = stop.wait()
    deadline = time.monotonic() + grace
    log.info("%s received: no new requests; finishing the ones in flight", name)
    server.shutdown()  # the accept loop ends
    server.server_close()  # and the listening socket closes: new connections are refused
    if not counted.wait_idle(max(0.0, deadline - time.monotonic())):
        log.warning("stopping: %d requests still in flight after %.0f s", counted.count, grace)
    finish_within(cleanup, deadline)
    log.info("stopped")
