"""The account's custom menu: defined in bot/menu.json, pushed with `python -m bot menu push`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MENU_FILE = Path(__file__).with_name("menu.json")


def load_menu(path: Path = MENU_FILE) -> dict[str, Any]:
    """Read and sanity-check the menu against WeChat's limits (3 buttons, 5 sub-buttons)."""
    menu = json.loads(path.read_text(encoding="utf-8"))
    buttons = menu.get("button", [])
    if not 1 <= len(buttons) <= 3:
        raise ValueError("a WeChat menu has 1 to 3 top-level buttons")
    for button in buttons:
        if len(button.get("sub_button", [])) > 5:
            raise ValueError(f"menu button {button.get('name')!r} has more than 5 sub-buttons")
    return menu


def click_keys(menu: dict[str, Any]) -> set[str]:
    """Every EventKey a click on this menu can send."""
    keys = set()
    for button in menu.get("button", []):
        for item in [button, *button.get("sub_button", [])]:
            if item.get("type") == "click":
                keys.add(item["key"])
    return keys
