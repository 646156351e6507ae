"""Scenarios run the app with a paying sandbox, as the shop's tests do."""

from pathlib import Path

import pytest

from tests.shop.conftest import keys, shop  # noqa: F401


@pytest.fixture(autouse=True)
def simulator_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The chat simulator keeps its read marks (BOT_DATA_DIR/chat_seen.json) per test, not in
    the checkout's ./var; the apps get their own BOT_DATA_DIR from their test config."""
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "simulator"))
    return tmp_path / "simulator" / "chat_seen.json"
