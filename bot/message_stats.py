"""Daily counts of what customers sent: messages by type, menu clicks and the words they typed.

The dashboard needs these per day, but the webhook must not pay a SQL write per message. So
the claim script the webhook already runs (bot/dedup.py) also bumps a Redis hash and, for
text, appends the words to a capped list; `flush` moves both into the `daily_counts` table
in batches, segmenting the texts with jieba there, off the hot path. Only first deliveries
count: a WeChat retry is not a second message.

Days are Asia/Shanghai calendar days, the merchant's day, fixed when the message arrives.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter

import redis
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from bot.inbound import Inbound
from core.clock import local_day
from core.db import Base, upsert
from core.storage import Storage
from core.text import stopwords

log = logging.getLogger(__name__)

__all__ = ["DailyCount", "counted_fields", "flush", "keywords", "local_day"]

#: Redis hash "<day>|<metric>|<key>" → count, waiting to be flushed to SQL.
COUNTS_KEY = "stats:pending"
#: Redis list of "<day>\t<text>" for keyword counting, capped at TEXTS_CAP entries.
TEXTS_KEY = "stats:texts"
TEXTS_CAP = 20_000
TEXT_CHARS = 200  # a keyword chart needs no more of a long message
#: Conversation states in which a customer's text is still their own words (a category
#: name while browsing). In every other state it answers a flow step (an address, a phone
#: number, a quantity, 确认) and is not counted: a keyword chart once listed customers'
#: names, streets and districts.
FREE_TEXT_STATES = ("browse:",)
#: A text holding a mobile number or an address is contact data, whatever the state.
_CONTACT = re.compile(
    r"(?<!\d)1[3-9]\d{9}(?!\d)"
    r"|[省市区县旗].{0,12}?[路街道巷弄里村镇乡]"
    r"|[路街道巷弄里村].{0,6}?\d+\s*[号栋幢室楼]"
)

# The metrics a day is counted under.
KIND = "kind"  # MsgType: text, image, voice, location, event…
CLICK = "click"  # menu click EventKey
KEYWORD = "keyword"  # a word customers typed
FUNNEL = "funnel"  # steps of the browse → order → pay funnel counted outside SQL (views)


class DailyCount(Base):
    __tablename__ = "daily_counts"
    __table_args__ = (UniqueConstraint("day", "metric", "key", name="uq_daily_counts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD, Asia/Shanghai
    metric: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=0)


def counted_fields(msg: Inbound, day: str) -> tuple[str, str, str]:
    """What one message adds: its kind field, its click field ('' if none), its text entry."""
    kind_field = f"{day}|{KIND}|{msg.kind[:32]}"
    click_field = ""
    if msg.kind == "event" and msg.event == "click" and msg.event_key:
        click_field = f"{day}|{CLICK}|{msg.event_key[:64]}"
    text = ""
    if msg.kind in ("text", "voice") and msg.text.strip():
        text = f"{day}\t{msg.text.strip()[:TEXT_CHARS]}"
    return kind_field, click_field, text


def bump(client: redis.Redis, metric: str, key: str, at: float) -> None:
    """Count one event for the dashboard (a product card shown), flushed with the rest."""
    client.hincrby(COUNTS_KEY, f"{local_day(at)}|{metric}|{key[:64]}", 1)


# --- keywords -------------------------------------------------------------------------------

_WORDLIKE = re.compile(r"^[\w\u4e00-\u9fff]+$")


def keywords(text: str) -> list[str]:
    """The words of `text` worth charting: jieba tokens without stop-words, digits, one-letter
    tokens and punctuation, lower-cased."""
    from bot.router import segment  # jieba, with the handlers' intent words kept whole

    stop = stopwords()
    words = []
    for token in segment(text):
        word = token.strip().casefold()
        if len(word) < 2 or word.isdigit() or not _WORDLIKE.match(word) or word in stop:
            continue
        words.append(word[:64])
    return words


# --- flushing to SQL ------------------------------------------------------------------------

# Take the whole hash and list in one step, so counts that land meanwhile wait for next time.
_TAKE_LUA = """
local out = {{}, {}}
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  out[1] = redis.call('HGETALL', KEYS[3])
  redis.call('DEL', KEYS[3])
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('RENAME', KEYS[2], KEYS[4])
  out[2] = redis.call('LRANGE', KEYS[4], 0, -1)
  redis.call('DEL', KEYS[4])
end
return out
"""


def flush(client: redis.Redis, sessions: sessionmaker) -> int:
    """Move pending counts from Redis into `daily_counts`; returns how many rows changed.

    If the SQL write fails the counts go back into Redis, so a database hiccup delays the
    dashboard instead of losing messages from it.
    """
    suffix = uuid.uuid4().hex
    raw_counts, raw_texts = client.eval(
        _TAKE_LUA, 4, COUNTS_KEY, TEXTS_KEY, f"{COUNTS_KEY}:{suffix}", f"{TEXTS_KEY}:{suffix}"
    )
    counts: Counter[tuple[str, str, str]] = Counter()
    for i in range(0, len(raw_counts), 2):
        day, metric, key = raw_counts[i].decode().split("|", 2)
        counts[(day, metric, key)] += int(raw_counts[i + 1])
    for entry in raw_texts:
        day, _, text = entry.decode().partition("\t")
        if _CONTACT.search(text):
            continue
        for word in set(keywords(text)):  # 好看 ×38 in one message is one mention
            counts[(day, KEYWORD, word)] += 1
    if not counts:
        return 0
    try:
        add_counts(sessions, counts)
    except Exception:
        _put_back(client, raw_counts, raw_texts)
        raise
    return len(counts)


def add_counts(sessions: sessionmaker, counts: Counter[tuple[str, str, str]]) -> None:
    """Add to the daily rows in one statement per row (insert, or add on conflict)."""
    table = DailyCount.__table__
    with sessions.begin() as db:
        for (day, metric, key), count in counts.items():
            insert = upsert(db, table).values(day=day, metric=metric, key=key, count=count)
            db.execute(
                insert.on_conflict_do_update(
                    index_elements=["day", "metric", "key"],
                    set_={"count": table.c.count + insert.excluded.count},
                )
            )


def _put_back(client: redis.Redis, raw_counts: list[bytes], raw_texts: list[bytes]) -> None:
    pipe = client.pipeline(transaction=True)
    for i in range(0, len(raw_counts), 2):
        pipe.hincrby(COUNTS_KEY, raw_counts[i], int(raw_counts[i + 1]))
    if raw_texts:
        pipe.rpush(TEXTS_KEY, *raw_texts)
    pipe.execute()


def flush_message_stats(storage: Storage) -> int:
    """The recurring job: the webhook's counts and typed words into the dashboard's table."""
    count = flush(storage.redis, storage.sessions)
    if count:
        log.debug("flushed %d daily message counts", count)
    return count
