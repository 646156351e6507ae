"""WeChat user tags (用户标签) mirrored in SQL, so segments and pushes can use them.

Managers tag followers in the WeChat back office (or the shop does, through batchtagging); the
segments read who carries which tag as one more fact, and a push may be narrowed to the
segment's members carrying one tag. WeChat is the source of truth: `sync` pulls `tags/get` and
every tag's members through `user/tag/get` (paged by next_openid, WECHAT_API.md §E, rows 13–15)
and replaces what is stored.

Never half a tag: each tag's members are read in full first, then written in one transaction
(its row and all its members together). A WeChat error while reading a tag leaves that tag as
the last sync left it and the sync goes on with the others; the result names what failed. A
tag deleted at WeChat disappears here with its members. Two syncs at once (the nightly job on
two schedulers, a manager's button) are kept apart by a Redis lock.

No Flask, no bot/: the WeChat client comes in as `storage.wechat` (bot.wechat_api.WeChatAPI:
`list_tags()`, `tag_members(tagid, next_openid)`), its errors read by their `errcode`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import as_utc, local_day
from core.db import Base

log = logging.getLogger(__name__)

#: user/tag/get answers at most 10 000 openids a page: this many pages is 10 million members,
#: far beyond any account; a cursor that never ends is a WeChat fault, not a loop.
MAX_PAGES = 1000
#: Members written per INSERT statement.
BATCH = 1000
LOCK_KEY = "campaigns:tags:sync:lock"
#: A sync reads every tag's members: give it time, but not forever (a crashed holder).
LOCK_SECONDS = 600
OPENID_MAX = 64
NAME_MAX = 64


class WeChatTag(Base):
    """A tag as WeChat last listed it; `id` is WeChat's tag id (not ours to number)."""

    __tablename__ = "campaign_wechat_tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    #: Members stored for it at the last sync (what the segments see, not WeChat's figure).
    count: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TagMember(Base):
    """A follower carrying a tag at the last sync; (openid, tag) is unique."""

    __tablename__ = "campaign_tag_members"
    __table_args__ = (
        UniqueConstraint("openid", "tag_id", name="uq_campaign_tag_member"),
        Index("ix_campaign_tag_members_tag", "tag_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(OPENID_MAX))
    tag_id: Mapped[int] = mapped_column(ForeignKey("campaign_wechat_tags.id"))


# --- reading what is stored ------------------------------------------------------------------


def all_tags(db: Session) -> list[WeChatTag]:
    """Every stored tag, by name (the console's select and overview list)."""
    return list(db.scalars(select(WeChatTag).order_by(WeChatTag.name, WeChatTag.id)))


def get(db: Session, tag_id: int | None) -> WeChatTag | None:
    return db.get(WeChatTag, tag_id) if tag_id is not None else None


def members_of(db: Session, tag_id: int) -> list[str]:
    """The openids carrying `tag_id` (sorted; empty for an unknown tag)."""
    return list(db.scalars(select(TagMember.openid).where(TagMember.tag_id == tag_id)
                           .order_by(TagMember.openid)))


def last_synced_at(db: Session) -> datetime | None:
    latest = db.scalar(select(func.max(WeChatTag.synced_at)))
    return as_utc(latest) if latest else None


def oldest_synced_at(db: Session) -> datetime | None:
    """When the tag synced longest ago was: a tag a failed sync left behind keeps it old."""
    oldest = db.scalar(select(func.min(WeChatTag.synced_at)))
    return as_utc(oldest) if oldest else None


def label(db: Session, tag_id: int | None) -> str:
    """A push's tag as the console shows it: its name, or that it is gone at WeChat."""
    if tag_id is None:
        return ""
    tag = db.get(WeChatTag, tag_id)
    return tag.name if tag is not None else f"标签{tag_id}（微信上已删除）"


# --- syncing ---------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What a sync did, with one Chinese sentence for the console (`message`)."""

    ok: bool
    tags: int = 0  # tags synced in full this time
    members: int = 0  # memberships written
    removed: int = 0  # tags gone at WeChat, removed here
    failed: list[str] = field(default_factory=list)  # tags kept as the last sync left them
    error: str = ""  # why (Chinese), when something failed

    @property
    def message(self) -> str:
        if not self.ok and not self.tags and not self.failed:
            return f"同步微信标签失败：{self.error}"
        done = f"已同步{self.tags}个微信标签，共{self.members}人次"
        if self.removed:
            done += f"，移除了微信上已删除的{self.removed}个标签"
        if self.failed:
            return (f"{done}；标签「{'、'.join(self.failed)}」未能同步（{self.error}），"
                    "保持上次同步的结果")
        return done

    def audit(self) -> dict[str, Any]:
        return {"ok": self.ok, "tags": self.tags, "members": self.members,
                "removed": self.removed, "failed": len(self.failed), "error": self.error}


class _WeChatFailed(Exception):
    """A call WeChat refused or never answered; `text` says so in Chinese."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _ask(call: Any, *args: Any) -> Any:
    """One client call; any failure becomes _WeChatFailed with a Chinese reason."""
    try:
        return call(*args)
    except requests.RequestException as error:
        raise _WeChatFailed(f"微信接口没有响应（{type(error).__name__}）") from None
    except Exception as error:  # bot.wechat_api.WeChatAPIError, read by its errcode
        code = getattr(error, "errcode", None)
        if not isinstance(code, int):
            raise
        log.warning("wechat tag sync: errcode %s (%s)", code, getattr(error, "errmsg", ""))
        raise _WeChatFailed(f"微信返回错误码{code}") from None


def _listing(api: Any) -> dict[int, str]:
    tags = _ask(api.list_tags)
    if not isinstance(tags, list):
        raise _WeChatFailed("微信返回的标签列表格式不对")
    found: dict[int, str] = {}
    for tag in tags:
        tag_id = tag.get("id") if isinstance(tag, dict) else None
        if not isinstance(tag_id, int) or isinstance(tag_id, bool) \
                or not isinstance(tag.get("name"), str):
            raise _WeChatFailed("微信返回的标签列表格式不对")
        found[tag_id] = tag["name"][:NAME_MAX]
    return found


def _members(api: Any, tag_id: int) -> list[str]:
    """Every openid carrying the tag, page after page; _WeChatFailed on any trouble."""
    found: list[str] = []
    seen: set[str] = set()
    cursor = ""
    for _ in range(MAX_PAGES):
        answer = _ask(api.tag_members, tag_id, cursor)
        if not isinstance(answer, dict):
            raise _WeChatFailed("微信返回的标签成员格式不对")
        data = answer.get("data") or {}  # an empty tag may come without "data"
        page = (data.get("openid") or []) if isinstance(data, dict) else None
        if not isinstance(page, list) or not all(
                isinstance(o, str) and 0 < len(o) <= OPENID_MAX for o in page):
            raise _WeChatFailed("微信返回的标签成员格式不对")
        for openid in page:
            if openid not in seen:
                seen.add(openid)
                found.append(openid)
        following = answer.get("next_openid") or ""
        if not page or not isinstance(following, str) or not following or following == cursor:
            return found
        cursor = following
    raise _WeChatFailed(f"标签成员超过{MAX_PAGES}页，没有读完")


def _store(db: Session, tag_id: int, name: str, openids: Sequence[str],
           now: datetime) -> None:
    """Replace the tag's row and members (the caller's transaction holds them together)."""
    tag = db.get(WeChatTag, tag_id)
    if tag is None:
        tag = WeChatTag(id=tag_id)
        db.add(tag)
    tag.name, tag.count, tag.synced_at = name, len(openids), now
    db.flush()  # the row exists before its members point at it
    db.execute(delete(TagMember).where(TagMember.tag_id == tag_id))
    for start in range(0, len(openids), BATCH):
        db.execute(insert(TagMember), [{"openid": openid, "tag_id": tag_id}
                                       for openid in openids[start:start + BATCH]])


def _remove_gone(db: Session, kept: Sequence[int]) -> int:
    gone = list(db.scalars(select(WeChatTag.id).where(WeChatTag.id.not_in(list(kept)))))
    if gone:
        db.execute(delete(TagMember).where(TagMember.tag_id.in_(gone)))
        db.execute(delete(WeChatTag).where(WeChatTag.id.in_(gone)))
    return len(gone)


def sync(storage: Any, now: datetime | None = None) -> SyncResult:
    """Pull the account's tags and every tag's members from WeChat and replace what is stored
    (see the module's docstring); then the segment counts' cache is dropped. Never raises for
    WeChat's sake: a refused or unanswered call is in the result."""
    now = as_utc(now or datetime.now(UTC))
    api = getattr(storage, "wechat", None)
    if api is None:
        return SyncResult(False, error="没有配置微信接口")
    me = uuid.uuid4().hex
    if not storage.redis.set(LOCK_KEY, me, nx=True, ex=LOCK_SECONDS):
        return SyncResult(False, error="另一次同步正在进行，请稍后刷新页面查看")
    try:
        result = _sync(storage, api, now)
    finally:
        storage.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then "
                           "redis.call('DEL', KEYS[1]) end", 1, LOCK_KEY, me)
    # imported here: segment_overview imports this module (through segments too)
    from campaigns import segment_overview

    segment_overview.invalidate_overview(storage.redis)
    log.info("wechat tag sync: %s", result.audit())
    return result


def _sync(storage: Any, api: Any, now: datetime) -> SyncResult:
    try:
        listed = _listing(api)
    except _WeChatFailed as failed:
        return SyncResult(False, error=f"读取标签列表时{failed.text}，已保存的标签未改动")
    result = SyncResult(True)
    with storage.sessions.begin() as db:
        result.removed = _remove_gone(db, list(listed))
    for tag_id, name in listed.items():
        try:
            openids = _members(api, tag_id)
        except _WeChatFailed as failed:
            result.ok = False
            result.failed.append(name)
            result.error = result.error or f"读取成员时{failed.text}"
            continue
        try:
            with storage.sessions.begin() as db:
                _store(db, tag_id, name, openids, now)
        except IntegrityError:  # another sync wrote this tag meanwhile: its result stands
            log.warning("wechat tag %s written by another sync meanwhile", tag_id)
            result.ok = False
            result.failed.append(name)
            result.error = result.error or "另一次同步同时写入了这个标签"
            continue
        result.tags += 1
        result.members += len(openids)
    return result


def sync_job(storage: Any, now: datetime | None = None) -> SyncResult | None:
    """The nightly sync: run hourly, it syncs while some tag was not synced yet this Shanghai
    day (the first run after midnight; a tag a failed sync left behind is retried the next
    hour). Does nothing where no WeChat client is configured."""
    now = as_utc(now or datetime.now(UTC))
    if getattr(storage, "wechat", None) is None:
        return None
    with storage.sessions() as db:
        oldest = oldest_synced_at(db)
    if oldest is not None and local_day(oldest) == local_day(now):
        return None
    return sync(storage, now)
