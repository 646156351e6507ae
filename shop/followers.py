"""Who follows the account, since when, from which QR scene, and when they last spoke to us.

The last-interaction time (any message, click, follow or scan) says which customers count as
dormant; the last-message time decides WeChat's 48-hour window for customer-service messages
sent later (shop/notices.py). Writing them to SQL on every message would put a write on the
webhook's hot path, so the webhook only records them in a Redis hash (inside the one script it
already runs per message) and `flush_touches` moves the hash into SQL in batches.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import redis
from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from bot.dedup import MESSAGED, TOUCH_KEY  # the webhook records touches as it claims
from core.clock import local_day
from core.db import Base


class Follower(Base):
    __tablename__ = "followers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(default=False)
    subscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_interaction_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), index=True
    )
    #: The latest message the customer sent: only that (or a payment) opens the 48-hour
    #: window for customer-service messages sent later; a menu click opens one minute.
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    source_scene: Mapped[str | None] = mapped_column(String(64))


class FollowerEvent(Base):
    """One follow or unfollow, kept so the dashboard can chart new and lost followers per day
    (a Follower row only remembers the latest of each)."""

    __tablename__ = "follower_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # SUBSCRIBED or UNSUBSCRIBED
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[str] = mapped_column(String(10), index=True)  # Asia/Shanghai YYYY-MM-DD


SUBSCRIBED = "subscribe"
UNSUBSCRIBED = "unsubscribe"


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _get_or_create(db: Session, openid: str, at: datetime) -> Follower:
    follower = db.get(Follower, openid)
    if follower is None:
        follower = Follower(openid=openid, first_seen_at=at)
        db.add(follower)
    return follower


def record_subscribe(db: Session, openid: str, at: datetime, scene: str | None = None) -> Follower:
    """A follow (or re-follow). The first scene that brought a customer is kept."""
    follower = _get_or_create(db, openid, at)
    follower.subscribed = True
    follower.subscribed_at = at
    follower.last_interaction_at = max_time(follower.last_interaction_at, at)
    if scene and not follower.source_scene:
        follower.source_scene = scene[:64]
    db.add(FollowerEvent(openid=openid, kind=SUBSCRIBED, at=at, day=local_day(at)))
    return follower


def record_unsubscribe(db: Session, openid: str, at: datetime) -> Follower:
    """An unfollow: pushes must stop for this openid."""
    follower = _get_or_create(db, openid, at)
    follower.subscribed = False
    follower.unsubscribed_at = at
    db.add(FollowerEvent(openid=openid, kind=UNSUBSCRIBED, at=at, day=local_day(at)))
    return follower


def max_time(current: datetime | None, new: datetime) -> datetime:
    if current is None:
        return new
    if current.tzinfo is None:  # SQLite hands back naive datetimes; they are stored as UTC
        current = current.replace(tzinfo=UTC)
    return max(current, new)


# Atomically take the whole hash so a touch that lands during the flush is kept for next time.
_TAKE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('RENAME', KEYS[1], KEYS[2])
local all = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[2])
return all
"""


def flush_touches(client: redis.Redis, sessions: sessionmaker) -> int:
    """Move pending last-interaction times from Redis into SQL; returns how many followers.

    If the SQL write fails, the times go back into the hash (keeping the newest per openid),
    so a database hiccup delays them instead of losing them.
    """
    raw = client.eval(_TAKE_LUA, 2, TOUCH_KEY, f"{TOUCH_KEY}:flushing:{uuid.uuid4().hex}")
    if not raw:
        return 0
    touches = {raw[i].decode(): float(raw[i + 1]) for i in range(0, len(raw), 2)}
    try:
        with sessions.begin() as db:
            openids = {field.removeprefix(MESSAGED) for field in touches}
            known = {
                f.openid: f
                for f in db.scalars(select(Follower).where(Follower.openid.in_(list(openids))))
            }
            for field, stamp in sorted(touches.items(), key=lambda item: item[0]):
                at = utc(stamp)
                openid = field.removeprefix(MESSAGED)
                follower = known.get(openid) or _get_or_create(db, openid, at)
                known[openid] = follower
                if field.startswith(MESSAGED):
                    follower.last_message_at = max_time(follower.last_message_at, at)
                else:
                    follower.last_interaction_at = max_time(follower.last_interaction_at, at)
    except Exception:
        _put_back(client, touches)
        raise
    return len(openids)


_PUT_BACK_LUA = """
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > current then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1
"""


def _put_back(client: redis.Redis, touches: dict[str, float]) -> None:
    args = [item for pair in touches.items() for item in pair]
    client.eval(_PUT_BACK_LUA, 1, TOUCH_KEY, *args)
