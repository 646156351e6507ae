"""The data board: followers, messages, keywords and menu clicks over the last N days.

Everything is read from SQL (follower events, the flushed daily counts, orders and their
events), bucketed by the merchant's Asia/Shanghai day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.custom_menu import load_menu
from bot.message_stats import CLICK, FUNNEL, KEYWORD, KIND, DailyCount
from core.clock import SHANGHAI, local_day
from shop.followers import SUBSCRIBED, UNSUBSCRIBED, Follower, FollowerEvent
from shop.orders import Order, OrderEvent

#: MsgType → the label the board shows.
KIND_LABELS = {
    "text": "文字",
    "image": "图片",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "小视频",
    "location": "位置",
    "link": "链接",
    "file": "文件",
    "event": "事件",  # follows, unfollows, menu clicks, scans
}
TOP_KEYWORDS = 20
#: States an order has been paid in: leaving one of them for cancelled means money went back.
REFUNDABLE = ("paid", "shipped", "completed")


@dataclass
class Day:
    day: str  # YYYY-MM-DD
    new_followers: int = 0
    lost_followers: int = 0
    messages: int = 0
    orders: int = 0  # placed that day
    paid: int = 0  # orders paid for the first time that day
    gmv_fen: int = 0  # gross: what those orders paid
    refunds: int = 0  # paid orders refunded (or cancelled after payment) that day
    refunded_fen: int = 0

    @property
    def net_fen(self) -> int:
        """Sales less refunds, both counted on the day they happened."""
        return self.gmv_fen - self.refunded_fen

    @property
    def label(self) -> str:
        return self.day[5:].replace("-", "/")  # 11/22


@dataclass
class Board:
    days: list[Day]
    followers_total: int
    messages_by_kind: list[tuple[str, int]]
    keywords: list[tuple[str, int]]
    clicks: list[tuple[str, int]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> Day:
        return self.days[-1]

    def totals(self) -> dict[str, int]:
        return {
            "new_followers": sum(d.new_followers for d in self.days),
            "lost_followers": sum(d.lost_followers for d in self.days),
            "messages": sum(d.messages for d in self.days),
            "orders": sum(d.orders for d in self.days),
            "paid": sum(d.paid for d in self.days),
            "gmv_fen": sum(d.gmv_fen for d in self.days),
            "refunds": sum(d.refunds for d in self.days),
            "refunded_fen": sum(d.refunded_fen for d in self.days),
            "net_fen": sum(d.net_fen for d in self.days),
        }

    @property
    def funnel(self) -> list[tuple[str, int]]:
        """Product cards shown → orders placed → orders paid, over the span."""
        totals = self.totals()
        return [("浏览商品", self.extra.get("views", 0)), ("下单", totals["orders"]),
                ("支付", totals["paid"])]

    def as_json(self) -> dict[str, Any]:
        return {
            "followers_total": self.followers_total,
            "days": [
                {
                    "day": d.day,
                    "new_followers": d.new_followers,
                    "lost_followers": d.lost_followers,
                    "messages": d.messages,
                    "orders": d.orders,
                    "paid": d.paid,
                    "gmv_fen": d.gmv_fen,
                    "refunds": d.refunds,
                    "refunded_fen": d.refunded_fen,
                    "net_fen": d.net_fen,
                }
                for d in self.days
            ],
            "totals": self.totals(),
            "messages_by_kind": dict(self.messages_by_kind),
            "top_keywords": [{"word": w, "count": c} for w, c in self.keywords],
            "menu_clicks": [{"menu": m, "count": c} for m, c in self.clicks],
            "funnel": [{"step": step, "count": count} for step, count in self.funnel],
        }


def day_range(today: date, days: int) -> list[str]:
    return [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def menu_labels() -> dict[str, str]:
    """EventKey → the button's name, from bot/menu.json."""
    labels = {}
    for button in load_menu().get("button", []):
        for item in [button, *button.get("sub_button", [])]:
            if item.get("key"):
                labels[item["key"]] = item["name"]
    return labels


def build(db: Session, today: date, days: int = 7) -> Board:
    """The board for the `days` days ending `today` (an Asia/Shanghai date)."""
    span = day_range(today, days)
    by_day = {d: Day(d) for d in span}
    events = db.execute(
        select(FollowerEvent.day, FollowerEvent.kind, func.count())
        .where(FollowerEvent.day >= span[0], FollowerEvent.day <= span[-1])
        .group_by(FollowerEvent.day, FollowerEvent.kind)
    )
    for day, kind, count in events:
        if kind == SUBSCRIBED:
            by_day[day].new_followers += count
        elif kind == UNSUBSCRIBED:
            by_day[day].lost_followers += count

    in_span = (DailyCount.day >= span[0], DailyCount.day <= span[-1])
    per_day = db.execute(
        select(DailyCount.day, func.sum(DailyCount.count))
        .where(*in_span, DailyCount.metric == KIND)
        .group_by(DailyCount.day)
    )
    for day, count in per_day:
        by_day[day].messages += int(count)

    def top(metric: str, limit: int | None = None) -> list[tuple[str, int]]:
        """Summed over the span in SQL: a month of keywords is many thousands of rows."""
        total = func.sum(DailyCount.count)
        query = (
            select(DailyCount.key, total)
            .where(*in_span, DailyCount.metric == metric)
            .group_by(DailyCount.key)
            .order_by(total.desc(), DailyCount.key)
        )
        if limit:
            query = query.limit(limit)
        return [(key, int(count)) for key, count in db.execute(query)]

    _add_orders(db, by_day, span)
    labels = menu_labels()
    followers_total = db.scalar(
        select(func.count()).select_from(Follower).where(Follower.subscribed.is_(True))
    )
    return Board(
        days=[by_day[d] for d in span],
        followers_total=followers_total or 0,
        messages_by_kind=[(KIND_LABELS.get(kind, kind), count) for kind, count in top(KIND)],
        keywords=top(KEYWORD, TOP_KEYWORDS),
        clicks=[(labels.get(key, key), count) for key, count in top(CLICK)],
        extra={"views": dict(top(FUNNEL)).get("view", 0)},
    )


def _add_orders(db: Session, by_day: dict[str, Day], span: list[str]) -> None:
    """Orders placed, paid and refunded per Shanghai day, with gross and refunded amounts.

    A payment counts once per order, on the day the order was first paid: an address change
    on a paid order writes a paid → paid event, which once counted as a second payment. A
    refund counts once per paid order, on the day it left for refunded (or cancelled).
    """
    start = datetime.combine(date.fromisoformat(span[0]), time(0), SHANGHAI)
    placed = db.scalars(select(Order.created_at).where(Order.created_at >= start))
    for created in placed:
        day = local_day(created)
        if day in by_day:
            by_day[day].orders += 1
    first_paid = (
        select(OrderEvent.order_id, func.min(OrderEvent.at).label("at"))
        .where(OrderEvent.to_state == "paid")
        .group_by(OrderEvent.order_id)
        .subquery()
    )
    paid = db.execute(
        select(first_paid.c.at, Order.total_fen)
        .join(Order, Order.id == first_paid.c.order_id)
        .where(first_paid.c.at >= start)
    )
    for at, total in paid:
        day = local_day(at)
        if day in by_day:
            by_day[day].paid += 1
            by_day[day].gmv_fen += total
    refunded = db.execute(
        select(func.min(OrderEvent.at), Order.total_fen)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(
            OrderEvent.at >= start,
            (OrderEvent.to_state == "refunded")
            | ((OrderEvent.to_state == "cancelled") & OrderEvent.from_state.in_(REFUNDABLE)),
        )
        .group_by(OrderEvent.order_id, Order.total_fen)
    )
    for at, total in refunded:
        day = local_day(at)
        if day in by_day:
            by_day[day].refunds += 1
            by_day[day].refunded_fen += total
