"""Followers in SQL (SQLite, and PostgreSQL where TEST_DATABASE_URL is set)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.dedup import TOUCH_KEY
from shop import followers
from shop.followers import Follower
from shop.jobs import flush_follower_touches


def at(hour: int) -> datetime:
    return datetime(2026, 11, 1, hour, tzinfo=UTC)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_follow_unfollow_refollow_keeps_the_first_scene(any_storage):
    with any_storage.sessions.begin() as db:
        followers.record_subscribe(db, "o1", at(1), scene="poster_a")
    with any_storage.sessions.begin() as db:
        followers.record_unsubscribe(db, "o1", at(2))
    with any_storage.sessions.begin() as db:
        followers.record_subscribe(db, "o1", at(3), scene="poster_b")
    with any_storage.sessions() as db:
        f = db.get(Follower, "o1")
        assert f.subscribed and f.source_scene == "poster_a"
        assert aware(f.unsubscribed_at) == at(2) and aware(f.subscribed_at) == at(3)


def test_touches_are_flushed_in_one_batch(any_storage):
    now = time.time()
    any_storage.redis.hset(TOUCH_KEY, mapping={"o1": now - 10, "o2": now})
    with any_storage.sessions.begin() as db:
        followers.record_subscribe(db, "o1", at(1))
    assert flush_follower_touches(any_storage) == 2
    assert not any_storage.redis.exists(TOUCH_KEY)
    with any_storage.sessions() as db:
        assert aware(db.get(Follower, "o1").last_interaction_at).timestamp() == pytest.approx(
            now - 10, abs=1e-3
        )
        assert db.get(Follower, "o2").subscribed is False  # seen, but never saw a follow
    assert flush_follower_touches(any_storage) == 0


def test_a_failed_flush_puts_the_touches_back(any_storage, monkeypatch):
    any_storage.redis.hset(TOUCH_KEY, "o1", 100.0)

    def broken_begin():
        raise RuntimeError("database is down")

    monkeypatch.setattr(any_storage.sessions, "begin", broken_begin)
    with pytest.raises(RuntimeError):
        flush_follower_touches(any_storage)
    any_storage.redis.hset(TOUCH_KEY, "o2", 200.0)  # a touch that arrived meanwhile
    assert any_storage.redis.hgetall(TOUCH_KEY) == {b"o1": b"100.0", b"o2": b"200.0"}


def test_a_touch_never_moves_the_time_backwards(any_storage):
    with any_storage.sessions.begin() as db:
        followers.record_subscribe(db, "o1", at(5))
    any_storage.redis.hset(TOUCH_KEY, "o1", at(4).timestamp())
    flush_follower_touches(any_storage)
    with any_storage.sessions() as db:
        assert aware(db.get(Follower, "o1").last_interaction_at) == at(5)
