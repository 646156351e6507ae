"""User tags (标签): the account's tag list and which followers carry which tag.

Limits from WECHAT_API.md §5E: 100 tags per account, names ≤30 bytes and unique, ids 0/1/2
reserved (tags/get lists id 2 "星标组"), ≤20 tags per user, ≤50 openids per batch, and a tag
with more than 100 000 fans cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from devtools.sandbox.errors import WxError
from devtools.sandbox.rules.followers import Followers, check_openid

RESERVED_IDS = (0, 1, 2)
MAX_TAGS = 100
MAX_NAME_BYTES = 30
MAX_TAGS_PER_USER = 20
MAX_BATCH = 50
UNDELETABLE_FANS = 100_000
FIRST_ID = 100


class TagBook:
    """Tag names by id; membership lives on each Follower's `tagids`."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {2: "星标组"}
        self._next_id = FIRST_ID

    def create(self, name: Any) -> int:
        if len(self._names) - 1 >= MAX_TAGS:
            raise WxError(45056)
        self._check_name(name)
        tagid, self._next_id = self._next_id, self._next_id + 1
        self._names[tagid] = name
        return tagid

    def rename(self, tagid: Any, name: Any) -> None:
        self.require(tagid, writable=True)
        if self._names[tagid] != name:
            self._check_name(name)
        self._names[tagid] = name

    def delete(self, tagid: Any, followers: Followers) -> None:
        self.require(tagid, writable=True)
        members = self.members(tagid, followers)
        if len(members) > UNDELETABLE_FANS:
            raise WxError(45057)
        for openid in members:
            followers.ensure(openid).tagids.remove(tagid)
        del self._names[tagid]

    def listing(self, followers: Followers) -> list[dict[str, Any]]:
        return [{"id": tagid, "name": name, "count": len(self.members(tagid, followers))}
                for tagid, name in self._names.items()]

    def members(self, tagid: int, followers: Followers) -> list[str]:
        return [o for o in followers.following_ids() if tagid in followers.ensure(o).tagids]

    def require(self, tagid: Any, writable: bool = False) -> int:
        """A known tag id; 45058 when a reserved one would be changed, 45159 when unknown."""
        if writable and tagid in RESERVED_IDS:
            raise WxError(45058)
        if not isinstance(tagid, int) or tagid not in self._names:
            raise WxError(45159)
        return tagid

    def tag(self, openids: Any, tagid: Any, followers: Followers, add: bool = True) -> None:
        """batchtagging / batchuntagging: all-or-nothing, as WeChat checks before it changes."""
        tagid = self.require(tagid)
        if not isinstance(openids, list) or not 0 < len(openids) <= MAX_BATCH:
            raise WxError(40032)
        users = []
        for openid in openids:
            if not followers.is_following(check_openid(openid)):
                raise WxError(40003)
            users.append(followers.ensure(openid))
        if add and any(tagid not in u.tagids and len(u.tagids) >= MAX_TAGS_PER_USER
                       for u in users):
            raise WxError(45059)
        for user in users:
            if add and tagid not in user.tagids:
                user.tagids.append(tagid)
            elif not add and tagid in user.tagids:
                user.tagids.remove(tagid)

    def _check_name(self, name: Any) -> None:
        if not isinstance(name, str) or not name or len(name.encode()) > MAX_NAME_BYTES:
            raise WxError(45158)
        if name in self._names.values():
            raise WxError(45157)
