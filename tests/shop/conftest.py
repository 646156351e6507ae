"""Fixtures of the shop's tests: the console's accounts, and the app with a paying sandbox."""

import socket
import threading
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from bot.app import close_app, create_app
from content_audit import default_screener
from devtools.demo import pay_keys, pay_pair, seed_catalog
from devtools.sandbox import create_sandbox_app, serve_in_thread
from shop.wxpay import client_from_settings
from tests.conftest import APP_ID, APP_SECRET, app_config
from tests.console.conftest import console, console_app  # noqa: F401


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return pay_keys(str(tmp_path_factory.mktemp("wxpay")))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def shop(tmp_path, storage, keys):
    """The app on a real port (WeChat Pay must reach its notify URL) and a paying sandbox."""
    sandbox_pay, shop_pay = pay_pair(keys, "", retry_seconds=(0, 0.2, 0.5))
    sandbox = serve_in_thread(create_sandbox_app({"APP_ID": APP_ID, "APP_SECRET": APP_SECRET,
                                                  "PAY": sandbox_pay}))
    port = free_port()
    shop_pay["base"] = sandbox.url
    config = app_config(tmp_path, storage, sandbox.url, WXPAY=shop_pay,
                        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    config.pop("STORAGE")
    storage.wxpay = client_from_settings({**config, "WECHAT_APP_ID": APP_ID})
    app = create_app({**config, "STORAGE": storage})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seed_catalog(storage.sessions, default_screener())
    yield SimpleNamespace(app=app, sandbox=sandbox.url, storage=storage)
    server.shutdown()
    close_app(app)
    sandbox.stop()
