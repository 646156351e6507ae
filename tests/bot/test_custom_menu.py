"""The custom menu file and `python -m bot menu push` against the sandbox."""

from __future__ import annotations

import json

import pytest
import requests

from bot.custom_menu import click_keys, load_menu
from bot.wechat_api import WeChatAPI
from tests.conftest import APP_ID, APP_SECRET


def test_the_shipped_menu_has_the_areas():
    keys = click_keys(load_menu())
    assert {"MENU_BROWSE", "MENU_ORDERS", "MENU_BARGAIN", "MENU_SERVICE"} <= keys


def test_push_creates_the_menu_at_wechat(sandbox, redis):
    api = WeChatAPI(sandbox, APP_ID, APP_SECRET, redis)
    api.create_menu(load_menu())
    stored = api.get_menu()["menu"]["button"]
    assert [b["name"] for b in stored] == ["逛逛", "砍价", "我的"]
    assert (
        requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()["calls"]["/cgi-bin/menu/create"]
        == 1
    )


def test_a_menu_over_wechats_limits_is_refused(tmp_path):
    path = tmp_path / "menu.json"
    path.write_text(
        json.dumps({"button": [{"type": "click", "name": str(i), "key": str(i)} for i in range(4)]})
    )
    with pytest.raises(ValueError, match="1 to 3"):
        load_menu(path)
