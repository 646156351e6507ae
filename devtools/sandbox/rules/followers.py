"""Followers: who follows the account, since when, from which QR scene, with which tags.

WeChat learns all of this from the user's own actions (follow, unfollow, scan); the sandbox
learns it from `/sandbox/inbound` and `/sandbox/users`, never from the shop's API calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from devtools.sandbox.errors import WxError

OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAGE_SIZE = 10_000  # user/get and user/tag/get return at most this many openids per call


def check_openid(openid: Any) -> str:
    """The openid if it is shaped like one; 40003 otherwise (WeChat's answer to garbage ids)."""
    if not isinstance(openid, str) or not OPENID_RE.match(openid):
        raise WxError(40003)
    return openid


def paginate(openids: list[str], next_openid: str, size: int) -> tuple[list[str], str]:
    """One page after `next_openid` and the cursor for the next; "" once the end is reached."""
    start = 0
    if next_openid:
        if next_openid not in openids:
            raise WxError(40003, "(next_openid)")
        start = openids.index(next_openid) + 1
    page = openids[start:start + size]
    more = start + size < len(openids)
    return page, (page[-1] if more and page else "")


@dataclass
class Follower:
    openid: str
    following: bool = False
    subscribe_time: int = 0
    subscribe_scene: str = "ADD_SCENE_OTHERS"
    qr_scene: int = 0
    qr_scene_str: str = ""
    tagids: list[int] = field(default_factory=list)
    last_interaction: float | None = None
    order: int = 0  # follow order; user/get lists followers oldest first

    def info(self) -> dict[str, Any]:
        """`user/info` as WeChat shapes it; nickname/avatar are gone since 2021-12-27."""
        if not self.following:
            return {"subscribe": 0, "openid": self.openid}
        return {
            "subscribe": 1, "openid": self.openid, "language": "zh_CN",
            "subscribe_time": self.subscribe_time, "remark": "", "groupid": 0,
            "tagid_list": list(self.tagids), "subscribe_scene": self.subscribe_scene,
            "qr_scene": self.qr_scene, "qr_scene_str": self.qr_scene_str,
        }


class Followers:
    """Every openid the sandbox has heard of, following or not."""

    def __init__(self) -> None:
        self._users: dict[str, Follower] = {}
        self._order = 0

    def get(self, openid: str) -> Follower | None:
        return self._users.get(openid)

    def ensure(self, openid: str) -> Follower:
        user = self._users.get(openid)
        if user is None:
            user = self._users[openid] = Follower(openid)
        return user

    def is_following(self, openid: str) -> bool:
        user = self._users.get(openid)
        return bool(user and user.following)

    def follow(self, openid: str, at: float, scene: int | str | None = None) -> Follower:
        """A (re-)follow: new subscribe_time; a QR scene marks it ADD_SCENE_QR_CODE."""
        user = self.ensure(openid)
        self._order += 1
        user.following, user.subscribe_time, user.order = True, int(at), self._order
        if scene is not None:
            user.subscribe_scene = "ADD_SCENE_QR_CODE"
            user.qr_scene, user.qr_scene_str = (scene, "") if isinstance(scene, int) else (0, scene)
        return user

    def unfollow(self, openid: str) -> None:
        self.ensure(openid).following = False

    def following_ids(self) -> list[str]:
        users = sorted((u for u in self._users.values() if u.following), key=lambda u: u.order)
        return [u.openid for u in users]
