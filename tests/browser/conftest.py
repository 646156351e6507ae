"""Browser tests: Playwright drives Debian's Chromium against the app served on a real port.

The build machines cannot download a browser, so Playwright launches the system Chromium by
path (`make browser` installs it with apt). Where there is none the tests skip, unless
REQUIRE_BROWSER=1 (set by .ci/run) turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from console import accounts
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, ROLE_ACCOUNTS

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Chromium on a closed network: no background connections, no updates, no GPU, as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def chromium_path() -> str | None:
    found = os.environ.get("CHROMIUM_PATH") or next(
        (p for p in CHROMIUM_PATHS if os.path.exists(p)), None
    ) or shutil.which("chromium")
    return found


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        path = None
    if path is None:
        message = "no Chromium (run `make browser`) or no playwright package"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


@pytest.fixture()
def live(make_app) -> Iterator[LiveServer]:
    """The whole app (webhook, console, API) on a free port, with one account per role."""
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD)
    with app.extensions["storage"].sessions.begin() as db:
        for name, role in ROLE_ACCOUNTS.items():
            accounts.create(db, name, role, PASSWORD)
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture()
def page(browser, live):
    context = browser.new_context(base_url=live.url, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
