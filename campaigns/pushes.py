"""Re-engagement pushes: what a push *is* — its tables and their states.

A manager writes a push (copy, A/B variants, a segment, the channels it may use, a trigger, a
frequency cap, quiet hours, a holdout); the scheduler only *plans* runs; senders deliver them.
Exactly once comes from two unique keys and a claim:
- a run is (push, fire time, kind): planned twice, it exists once;
- a delivery is (run, openid): planned twice, it exists once;
- a sender claims a delivery (planned → sending, with a lease) before calling WeChat and records
  the outcome after; what happens when a sender dies in between is the sender's module's story
  (campaigns/sender.py).

What is done with these tables lives beside this module: the rules and validation of a push
(campaigns/push_rules.py), choosing a channel per recipient and planning a run
(campaigns/planner.py), sending (campaigns/sender.py), the coupon a push may carry
(campaigns/push_coupons.py), the console (campaigns/push_views.py).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

#: Channels a push may use, in the console's words. Template messages are for service notices
#: only (WECHAT_API.md §5B): a marketing push never uses them, so they are not offered.
CHANNELS = {"custom": "客服消息（48小时内互动过的顾客）",
            "subscribe": "订阅通知（顾客授权过的）",
            "mass": "群发（每人每月最多4次）"}
TRIGGERS = {"once": "定时一次", "cron": "周期（cron）",
            "after_first_order": "首单后N天仍未复购", "inactive": "N天没有互动"}
PUSH_STATES = {"draft": "草稿", "scheduled": "已排期", "paused": "已暂停",
               "cancelled": "已取消", "done": "已完成"}
DELIVERY_STATES = {"planned": "待发送", "holdout": "对照组（不发送）", "skipped": "跳过",
                   "sending": "发送中", "calling": "发送中（已调用微信）",
                   "sent": "已发送", "failed": "发送失败",
                   "unknown": "结果未知（发送中断）"}


class Push(Base):
    __tablename__ = "campaign_pushes"
    __table_args__ = (
        CheckConstraint("holdout_percent >= 0 AND holdout_percent < 100",
                        name="ck_push_holdout"),
        CheckConstraint("frequency_cap >= 1", name="ck_push_frequency_cap"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    #: A segment key (campaigns.segments.Segment value).
    segment: Mapped[str] = mapped_column(String(16))
    #: A WeChat tag id (campaigns.tags.WeChatTag) narrowing the segment to its carriers; None:
    #: the whole segment. Not a foreign key: a tag deleted at WeChat disappears at the next
    #: sync, and the push then reaches nobody rather than the whole segment.
    tag_id: Mapped[int | None] = mapped_column(Integer, default=None)
    #: A coupon batch (promotions.coupons.CouponBatch) each recipient of a main run is given
    #: one copy of, right before their message goes (campaigns/push_coupons.py); None: copy
    #: only. Not a foreign key, as shop_orders.coupon_id is not: the batch is another domain's
    #: row, read through its own module.
    coupon_batch_id: Mapped[int | None] = mapped_column(Integer, default=None)
    #: JSON list of {"key": "A", "text": "..."}: one entry, or A/B variants split evenly.
    variants: Mapped[str] = mapped_column(Text)
    #: The channels it may use, in the order tried: "custom,subscribe,mass".
    channels: Mapped[str] = mapped_column(String(60), default="custom,subscribe,mass")
    trigger: Mapped[str] = mapped_column(String(20), default="once")
    trigger_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    cron: Mapped[str] = mapped_column(String(60), default="")
    #: after_first_order / inactive: this many days.
    trigger_days: Mapped[int] = mapped_column(Integer, default=0)
    #: An announcement this many days before each run (0: none), with its own copy.
    announce_days: Mapped[int] = mapped_column(Integer, default=0)
    announce_text: Mapped[str] = mapped_column(Text, default="")
    #: At most this many pushes reach one customer in any 7 days (all pushes together).
    frequency_cap: Mapped[int] = mapped_column(Integer, default=2)
    #: No sending between these Shanghai times ("22:00"–"08:00" runs past midnight).
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    holdout_percent: Mapped[int] = mapped_column(Integer, default=10)
    #: Deliveries per minute at most (0: as fast as WeChat allows).
    throttle_per_minute: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    #: The content gate's word on the copy: send | queued | rejected | blocked.
    review: Mapped[str] = mapped_column(String(16), default="queued")
    review_note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def variant_list(self) -> list[dict[str, str]]:
        return [dict(item) for item in json.loads(self.variants or "[]")]

    def channel_list(self) -> list[str]:
        return [c for c in (self.channels or "").split(",") if c in CHANNELS]


class PushRun(Base):
    """One firing of a push (or its announcement): (push, fire time, kind) is unique, so the
    scheduler may plan it any number of times."""

    __tablename__ = "campaign_push_runs"
    __table_args__ = (UniqueConstraint("push_id", "fire_at", "kind", name="uq_push_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("campaign_pushes.id"), index=True)
    fire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="main")  # main | announce
    #: planning → planned → sending → done; or held (copy not approved in time), cancelled.
    state: Mapped[str] = mapped_column(String(16), default="planning", index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    planned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class PushDelivery(Base):
    """One recipient of one run: (run, openid) is unique, so a customer is planned once."""

    __tablename__ = "campaign_push_deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "openid", name="uq_push_delivery"),
        Index("ix_push_delivery_state_lease", "state", "lease_until"),
        Index("ix_push_delivery_openid_sent", "openid", "sent_at"),
        Index("ix_push_delivery_run_state", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_push_runs.id"))
    openid: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str] = mapped_column(String(4), default="A")
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    #: custom | subscribe | mass, or "" when skipped.
    channel: Mapped[str] = mapped_column(String(16), default="")
    state: Mapped[str] = mapped_column(String(16), default="planned")
    #: Why a recipient is skipped (Chinese, shown in the report).
    reason: Mapped[str] = mapped_column(String(120), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(String(200), default="")
    #: A mass send's id, recorded before the call: a retry sends the same openid list under it,
    #: and WeChat delivers the first submission of an id only (campaigns/sender.py).
    clientmsgid: Mapped[str] = mapped_column(String(64), default="")
    #: The customer-service agent (`prefix@account`) the last call sent as: it files the
    #: message in WeChat's chat log, which is how a call whose answer was lost is settled.
    kf_account: Mapped[str] = mapped_column(String(64), default="")
    #: The coupon (promotions.coupons.Coupon) issued to this recipient with the push
    #: (campaigns/push_coupons.py): set, a retried or resent delivery is never given another.
    coupon_id: Mapped[int | None] = mapped_column(Integer, default=None)
    #: When the last call started by the wall clock (WeChat's clock, which the chat log's times
    #: are in), whatever `now` the sender was given.
    called_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Suppression(Base):
    """Customers WeChat said can never be reached (43004 unfollowed, 40003 invalid openid,
    43101 refused …): no push plans them again."""

    __tablename__ = "campaign_suppressions"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
