"""Fixtures of the campaigns' tests: the console with one account per role, and the shop
talking to the sandbox through the real WeChat client."""

import pytest

from bot.wechat_api import WeChatAPI
from core.storage import Storage
from tests.conftest import APP_ID, APP_SECRET
from tests.console.conftest import console, console_app  # noqa: F401


@pytest.fixture()
def shop(storage: Storage, sandbox: str) -> Storage:
    """Storage whose WeChat client calls the sandbox (no settings: no agent, no template)."""
    storage.wechat = WeChatAPI(sandbox, APP_ID, APP_SECRET, storage.redis, backoff=0.01)
    return storage
