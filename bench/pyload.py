"""The fallback load generator for bench/webhook_bench.py, used where wrk is not installed.

One asyncio event loop, one coroutine per connection, each sending requests back to back over
a keep-alive HTTP/1.1 connection (reconnecting when the server closes it, as gunicorn's sync
worker does after every response). It reports the same fields as bench/webhook.lua's done().

It shares the CPU with the server it measures and costs far more per request than wrk, so on
a small machine its requests/s are lower bounds, and the bare-app baseline suffers the most.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.all = 0
        self.ok = self.bad_status = self.bad_body = 0
        self.errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
        self.first_bad_status = self.first_bad_body = ""
        self.statuses: dict[str, int] = {}


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length, close, chunked = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        body = await reader.readexactly(length) if length else b""
    return status, body, close


class _Conn:
    """One keep-alive connection of the client; closed by the run even when cancelled."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _connection(conn: _Conn, host: str, port: int, next_request: Callable[[], bytes],
                      marker: bytes, timeout: float, stats: Stats, count_from: float,
                      stop_at: float) -> None:
    """Send requests back to back until `stop_at` (the run also cancels what is in flight)."""
    while time.monotonic() < stop_at:
        if conn.writer is None:
            try:
                conn.reader, conn.writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), timeout)
            except (TimeoutError, OSError):
                stats.errors["connect"] += 1
                await asyncio.sleep(0.01)
                continue
        assert conn.reader is not None and conn.writer is not None
        payload = next_request()
        started = time.perf_counter()
        try:
            conn.writer.write(payload)
            await conn.writer.drain()
        except OSError:
            stats.errors["write"] += 1
            conn.close()
            continue
        try:
            status, body, close = await asyncio.wait_for(_read_response(conn.reader), timeout)
        except TimeoutError:
            stats.errors["timeout"] += 1
            conn.close()
            continue
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            stats.errors["read"] += 1
            conn.close()
            continue
        stats.all += 1
        if time.monotonic() >= count_from:  # past the warm-up
            stats.latencies.append(time.perf_counter() - started)
        if status != 200:
            stats.bad_status += 1
            stats.errors["status"] += 1 if status > 399 else 0
            stats.statuses[str(status)] = stats.statuses.get(str(status), 0) + 1
            if not stats.first_bad_status:
                stats.first_bad_status = f"{status} {body[:120].decode('utf-8', 'replace')}"
        elif marker not in body:
            stats.bad_body += 1
            if not stats.first_bad_body:
                stats.first_bad_body = body[:120].decode("utf-8", "replace")
        else:
            stats.ok += 1
        if close:
            conn.close()


def http_request(host: str, port: int, target: str, body: bytes) -> bytes:
    return (f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run(host: str, port: int, requests: Iterator[bytes], connections: int, duration: float,
        marker: bytes, timeout: float = 30.0, warmup: float = 0.0) -> dict:
    """Drive `connections` keep-alive connections for `duration` s; wrk-like result dict.

    Responses in the first `warmup` seconds are checked but neither timed nor counted in the
    rate, which is then the later responses over `duration - warmup`.
    """
    stats = Stats()

    async def main() -> float:
        started = time.monotonic()
        conns = [_Conn() for _ in range(connections)]
        tasks = [asyncio.create_task(_connection(conn, host, port, requests.__next__, marker,
                                                 timeout, stats, started + warmup,
                                                 started + duration))
                 for conn in conns]
        # Like wrk: stop at the deadline; responses still outstanding then are not counted.
        _done, pending = await asyncio.wait(tasks, timeout=duration)
        elapsed = time.monotonic() - started - warmup
        while pending:
            # Cancel again until all are gone: Python 3.11's wait_for() can swallow a
            # cancellation that races with the awaited operation finishing.
            for task in pending:
                task.cancel()
            _done, pending = await asyncio.wait(pending, timeout=1)
        for conn in conns:
            conn.close()
        return elapsed

    elapsed = asyncio.run(main())
    values = sorted(stats.latencies)
    mean = sum(values) / len(values) if values else 0.0
    return {
        "requests": len(values),
        "all_requests": stats.all,
        "duration_us": int(elapsed * 1e6),
        "errors": stats.errors,
        "latency_us": {"p50": int(_percentile(values, 50) * 1e6),
                       "p90": int(_percentile(values, 90) * 1e6),
                       "p99": int(_percentile(values, 99) * 1e6),
                       "max": int((values[-1] if values else 0) * 1e6), "mean": mean * 1e6},
        "ok": stats.ok, "bad_status": stats.bad_status, "bad_body": stats.bad_body,
        "wraps": 0, "first_bad_status": stats.first_bad_status,
        "first_bad_body": stats.first_bad_body, "statuses": stats.statuses,
    }
