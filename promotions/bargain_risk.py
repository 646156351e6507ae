"""Whose help waits for a reviewer: a risk score a reviewer can read, not a black box.

Bargains are farmed by rings of accounts that help each other's launches, and by fresh
accounts made for one cut. WeChat tells a shop nothing about an account's real age, so the
score uses what the shop saw itself:
- **new to the shop**: first seen less than a day ago (or never: a page visitor);
- **just followed**: the follow is less than a day old;
- **same starter again**: the helper already cut other launches of this starter;
- **ring**: another launch was cut by this helper *and* at least two of this launch's
  helpers — the same group going round each other's launches.
Each reason adds points; at BARGAIN_RISK_HOLD or more the help is held, not counted, until a
reviewer approves it in the console. A new customer alone is exactly who a bargain is for,
so that alone stays under the default threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.clock import as_utc
from promotions.bargains import BargainHelp, BargainLaunch
from shop.followers import Follower

NEW_TO_SHOP = 20
JUST_FOLLOWED = 10
SAME_STARTER = 25  # per earlier launch of this starter the helper cut, at most twice
RING = 50  # on its own enough to hold at the default threshold
LOOKBACK = timedelta(days=90)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Risk:
    score: int
    reasons: tuple[str, ...]  # Chinese, shown to the reviewer
    new_customer: bool  # never seen by the shop before this help

    def text(self) -> str:
        return "；".join(self.reasons)


def score(db: Session, launch: BargainLaunch, helper: str, now: datetime) -> Risk:
    """The risk of `helper` cutting `launch` now (read-only)."""
    points, reasons = 0, []
    follower = db.get(Follower, helper)
    new_customer = follower is None or as_utc(follower.first_seen_at) > now - DAY
    if new_customer:
        points += NEW_TO_SHOP
        reasons.append("新访客（首次出现不到1天）")
    if follower is not None and follower.subscribed and follower.subscribed_at is not None \
            and as_utc(follower.subscribed_at) > now - DAY:
        points += JUST_FOLLOWED
        reasons.append("关注不到1天")
    since = now - LOOKBACK
    helped_before = db.scalar(select(BargainHelp.id).where(
        BargainHelp.openid == helper, BargainHelp.launch_id != launch.id,
        BargainHelp.created_at >= since).limit(1))
    if helped_before is None:  # most helpers: nothing else to look at
        return Risk(min(100, points), tuple(reasons), new_customer)
    same_starter = db.scalar(
        select(func.count()).select_from(BargainHelp)
        .join(BargainLaunch, BargainLaunch.id == BargainHelp.launch_id)
        .where(BargainHelp.openid == helper, BargainHelp.state == "counted",
               BargainLaunch.openid == launch.openid, BargainLaunch.id != launch.id,
               BargainHelp.created_at >= since)) or 0
    if same_starter:
        points += SAME_STARTER * min(2, same_starter)
        reasons.append(f"已帮同一发起人砍过{same_starter}次")
    if _in_ring(db, launch.id, helper, since):
        points += RING
        reasons.append("与本单其他帮砍人在别的砍价中反复同时出现")
    return Risk(min(100, points), tuple(reasons), new_customer)


def _in_ring(db: Session, launch_id: int, helper: str, since: datetime) -> bool:
    """Another launch cut by `helper` and by two or more of this launch's helpers."""
    here = select(BargainHelp.openid).where(BargainHelp.launch_id == launch_id,
                                           BargainHelp.openid != helper)
    mine = aliased(BargainHelp)
    theirs = aliased(BargainHelp)
    shared = (select(mine.launch_id)
              .join(theirs, theirs.launch_id == mine.launch_id)
              .where(mine.openid == helper, mine.launch_id != launch_id,
                     mine.created_at >= since, theirs.openid.in_(here))
              .group_by(mine.launch_id)
              .having(func.count(func.distinct(theirs.openid)) >= 2)
              .limit(1))
    return db.scalar(shared) is not None
