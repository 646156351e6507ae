"""Start-up validation: each bad variable gets one clear line naming it, and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domains import build_registry
from core.config import ConfigError, from_env, validate

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "WECHAT_TOKEN": "abc123",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "s3cret",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


def test_a_good_environment_validates():
    config = validate(from_env({**GOOD, "WECHAT_REPLAY_WINDOW": "0", "PORT": "9000"}))
    assert (config["WECHAT_REPLAY_WINDOW"], config["PORT"]) == (0, 9000)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"WECHAT_TOKEN": ""}, "WECHAT_TOKEN: missing"),
        ({"WECHAT_AES_KEY": "tooshort"}, "WECHAT_AES_KEY: must be 43 characters"),
        ({"WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"}, "WECHAT_AES_KEY"),
        ({"WECHAT_APP_ID": "12345"}, "WECHAT_APP_ID"),
        ({"WECHAT_REPLAY_WINDOW": "-5"}, "WECHAT_REPLAY_WINDOW"),
        ({"PORT": "http"}, "PORT"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"WECHAT_API_BASE": "api.weixin.qq.com"}, "WECHAT_API_BASE"),
    ],
)
def test_each_bad_value_is_named(overrides, named):
    with pytest.raises(ConfigError) as caught:
        validate(from_env({**GOOD, **overrides}))
    assert any(line.startswith(named) for line in caught.value.problems)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as caught:
        validate(from_env({"WECHAT_AES_KEY": "x"}))
    assert len(caught.value.problems) == 4  # three missing + the key


def test_serve_without_configuration_exits_nonzero_with_one_line_per_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")}
    env.update(WECHAT_AES_KEY="abc", BOT_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("config error:")]
    assert [line.split(":")[1].strip() for line in errors] == [
        "WECHAT_TOKEN",
        "WECHAT_APP_ID",
        "WECHAT_APP_SECRET",
        "WECHAT_AES_KEY",
    ]
    assert "Traceback" not in done.stderr


def test_a_validated_configuration_validates_again_unchanged():
    """serve checks the environment, then create_app checks what it was given."""
    from core.config import DEFAULTS

    checks = build_registry().config_checks  # the member tiers are parsed on the first pass
    once = validate({**DEFAULTS}, require_account=False, checks=checks)
    twice = validate(dict(once), require_account=False, checks=checks)
    assert twice == once


def test_serve_demo_starts_with_its_catalog_and_console(tmp_path):
    """`make run` on a fresh machine: the demo comes up with its shop and console."""
    import signal
    import socket
    import time

    import requests

    from bot.cli import DEMO_SANDBOX_PORT

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", DEMO_SANDBOX_PORT)) == 0:
            pytest.skip(f"port {DEMO_SANDBOX_PORT} is taken (a demo is running)")
        probe.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "DATABASE_",
                                                                    "REDIS_"))}
    env.update(BOT_DATA_DIR=str(tmp_path / "var"))
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--demo", "--port",
                               str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        assert server.poll() is None, server.stdout.read()
        assert requests.get(f"{base}/admin/login", timeout=5).status_code == 200
        product = requests.get(f"{base}/shop/p/1", timeout=5)
        assert product.status_code == 200 and "已售" in product.text
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_demo_start_up_log_says_what_happened_once(tmp_path):
    """A newcomer reads this log: the admin's password source, one password line, no jieba."""
    import signal
    import socket
    import time

    import requests

    from bot.cli import DEMO_SANDBOX_PORT

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", DEMO_SANDBOX_PORT)) == 0:
            pytest.skip(f"port {DEMO_SANDBOX_PORT} is taken (a demo is running)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WECHAT_", "DATABASE_", "REDIS_", "ADMIN_"))}
    env.update(BOT_DATA_DIR=str(tmp_path / "var"))
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--demo", "--port",
                               str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert "created the first console account 'admin' from the demo's password" in output
    assert "from ADMIN_PASSWORD" not in output
    assert "password 'demo-console-2026' for all four" in output
    assert "prefix dict" not in output.lower()  # jieba's loading lines, once printed twice
