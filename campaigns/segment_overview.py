"""The 客群 overview: every segment's count now and every WeChat tag's count per segment,
kept in Redis for a minute.

A pass over 100,000 customers takes seconds, and a manager reloading the page should not pay
it each time. 重新计算 and a tag sync drop it (`invalidate_overview`).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime

import redis as redis_lib
from sqlalchemy.orm import Session

from campaigns import tags
from campaigns.segments import (
    DEFAULT_THRESHOLDS,
    SEGMENTS,
    Segment,
    Thresholds,
    classify_all,
)
from core.clock import as_utc

#: How long the overview's counts are served from Redis before they are computed again.
OVERVIEW_TTL = 60
OVERVIEW_KEY = "campaigns:segments:overview"
#: Bumped to drop every cached overview at once, whatever thresholds it was made with.
OVERVIEW_GENERATION = "campaigns:segments:overview:generation"


@dataclass(frozen=True)
class TagCounts:
    """One WeChat tag and how many of its carriers each segment holds."""

    id: int
    name: str
    counts: dict[Segment, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Overview:
    """The counts now, per segment and per tag × segment, and when they were computed."""

    counts: dict[Segment, int]
    tags: tuple[TagCounts, ...]
    computed_at: datetime
    cached: bool = False  # served from Redis (computed earlier, at computed_at)


def overview(db: Session, now: datetime,
             thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Overview:
    """Every segment's count and every stored tag's count per segment, in one pass."""
    found = dict.fromkeys(SEGMENTS, 0)
    by_tag: dict[int, dict[Segment, int]] = {}
    for member in classify_all(db, now, thresholds):
        found[member.segment] += 1
        for tag_id in member.tag_ids:
            by_tag.setdefault(tag_id, dict.fromkeys(SEGMENTS, 0))[member.segment] += 1
    return Overview(found, tuple(
        TagCounts(tag.id, tag.name, by_tag.get(tag.id, dict.fromkeys(SEGMENTS, 0)))
        for tag in tags.all_tags(db)), as_utc(now))


def _overview_key(client: redis_lib.Redis, thresholds: Thresholds) -> str:
    generation = int(client.get(OVERVIEW_GENERATION) or 0)
    t = thresholds
    return (f"{OVERVIEW_KEY}:{generation}:"
            f"{t.active_orders_per_month}-{t.active_window_days}-{t.dormant_days}")


def _dump(found: Overview) -> str:
    return json.dumps({
        "at": found.computed_at.isoformat(),
        "counts": {s.value: n for s, n in found.counts.items()},
        "tags": [[t.id, t.name, {s.value: n for s, n in t.counts.items()}]
                 for t in found.tags]}, ensure_ascii=False)


def _parse(raw: bytes | str) -> Overview:
    data = json.loads(raw)
    return Overview(
        {Segment(k): int(n) for k, n in data["counts"].items()},
        tuple(TagCounts(int(i), str(name), {Segment(k): int(n) for k, n in counts.items()})
              for i, name, counts in data["tags"]),
        as_utc(datetime.fromisoformat(data["at"])), cached=True)


def cached_overview(db: Session, client: redis_lib.Redis, now: datetime,
                    thresholds: Thresholds = DEFAULT_THRESHOLDS, *,
                    ttl: int = OVERVIEW_TTL) -> Overview:
    """`overview` from Redis when one made with these thresholds is under `ttl` seconds old
    and nothing dropped it since; else computed now and kept. Redis trouble only costs the
    computation."""
    try:
        key = _overview_key(client, thresholds)
        raw = client.get(key)
    except redis_lib.RedisError:
        key, raw = "", None
    if raw:
        try:
            return _parse(raw)
        except (ValueError, KeyError, TypeError):  # unreadable: computed and stored afresh
            pass
    found = overview(db, now, thresholds)
    if key:
        with contextlib.suppress(redis_lib.RedisError):
            client.set(key, _dump(found), ex=ttl)
    return found


def invalidate_overview(client: redis_lib.Redis) -> None:
    """Drop every cached overview (重新计算, a tag sync): the next visit computes afresh. A
    computation already under way stores under the old generation, which nobody reads."""
    client.incr(OVERVIEW_GENERATION)
