"""Daily message counts: recorded by the webhook's claim, flushed to SQL without losing any."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import message_stats
from bot.dedup import Ledger
from bot.inbound import Inbound
from bot.message_stats import DailyCount


def counts(storage) -> dict[tuple[str, str, str], int]:
    with storage.sessions() as db:
        return {(r.day, r.metric, r.key): r.count for r in db.scalars(select(DailyCount))}


def text(msg_id: str, words: str) -> Inbound:
    return Inbound("o1", "gh_a", "text", 1_700_000_000, msg_id=msg_id, text=words)


def test_flushes_add_up_across_runs(any_storage):
    ledger = Ledger(any_storage.redis, 60, 600)
    ledger.claim(text("1", "我要买口红"), touch_at=1_700_000_000.0)
    message_stats.flush(any_storage.redis, any_storage.sessions)
    ledger.claim(text("2", "口红"), touch_at=1_700_000_100.0)
    ledger.claim(text("2", "口红"), touch_at=1_700_000_101.0)  # a retry: not counted
    message_stats.flush(any_storage.redis, any_storage.sessions)
    day = message_stats.local_day(1_700_000_000.0)
    assert counts(any_storage) == {
        (day, "kind", "text"): 2,
        (day, "keyword", "口红"): 2,
        (day, "keyword", "我要"): 1,
    }
    assert not any_storage.redis.exists(message_stats.COUNTS_KEY, message_stats.TEXTS_KEY)


def test_a_failed_sql_write_puts_the_counts_back(storage, monkeypatch):
    ledger = Ledger(storage.redis, 60, 600)
    ledger.claim(text("1", "面霜"), touch_at=1_700_000_000.0)

    def broken(*_args):
        raise RuntimeError("database went away")

    monkeypatch.setattr(message_stats, "add_counts", broken)
    with pytest.raises(RuntimeError):
        message_stats.flush(storage.redis, storage.sessions)
    assert storage.redis.exists(message_stats.COUNTS_KEY, message_stats.TEXTS_KEY) == 2
    monkeypatch.undo()
    message_stats.flush(storage.redis, storage.sessions)
    day = message_stats.local_day(1_700_000_000.0)
    assert counts(storage)[(day, "keyword", "面霜")] == 1
    assert counts(storage)[(day, "kind", "text")] == 1


def test_the_text_list_is_capped(redis, monkeypatch):
    monkeypatch.setattr(message_stats, "TEXTS_CAP", 3)
    ledger = Ledger(redis, 60, 600)
    for i in range(5):
        ledger.claim(text(str(i), f"消息{i}"), touch_at=1_700_000_000.0)
    assert redis.llen(message_stats.TEXTS_KEY) == 3


def test_keywords_drop_stop_words_digits_and_punctuation():
    assert message_stats.keywords("你好，请问这个口红有没有 2 支装？OK") == ["口红", "支装"]
