"""Run a sandbox app on a real socket in a background thread.

Tests that exercise the shop's real HTTP client (requests, timeouts, retries) need a real
port; `serve_in_thread(app)` picks a free one and `stop()` frees it again.
"""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

POLL_SECONDS = 0.05  # how often serve_forever checks for stop(); keeps test teardown quick


class SandboxServer:
    """A werkzeug server thread; `url` is e.g. "http://127.0.0.1:54321"."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread):
        self._server = server
        self._thread = thread
        self.host = server.server_address[0]
        self.port = server.server_port
        self.url = f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Serve `app` (threaded, one thread per request) from a daemon thread; port 0 = any."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                              name="wechat-sandbox", daemon=True)
    thread.start()
    return SandboxServer(server, thread)
