"""Customer segments: who is a 潜在/首单/活跃/沉睡/流失 customer right now, and why.

The lifecycle is the shop owner's playbook (四大层级) with its thresholds as data
(`Thresholds`), checked in this order, the first rule that holds deciding:

1. 流失 — unfollowed (Follower.subscribed false, unsubscribed_at set). First, because nothing
   may be pushed to them whatever else they did (WECHAT_API.md §5: 43004/45015).
2. 沉睡 — no interaction (the latest of the last interaction, the last message and the last
   payment) for more than `dormant_days` (180, the playbook's 6 months).
3. 活跃 — on average at least `active_orders_per_month` paid orders a month over the last
   `active_window_days` (3 × 90/30 = 9 orders paid in the window, still paid/shipped/completed).
4. 首单 — exactly one paid order, net of refunds (Customer.paid_orders == 1).
5. 潜在 — follows or has browsed (a Follower or Customer row) and has no paid order left.
6. 复购 — everyone else: two or more paid orders, not active enough. The playbook's table has
   no row for them; they are kept apart rather than forced into 首单 or 活跃.

Every classification carries its reason in Chinese with the numbers that decided it, so a
manager can see why a customer is where they are before a push reaches them.

Classifying is set-based (`_load`: six grouped queries for everyone, not one per person) so
100,000 followers take seconds; `explain` runs the same queries limited to one openid, so the
console's explanation and the nightly counts can never disagree.

Counts are snapshotted once per Shanghai day (`snapshot_job`, registered hourly) and on demand
from the console (`write_snapshot`), into `campaign_segment_counts`, for the trend. The console's
overview of the counts now is campaigns/segment_overview.py (cached in Redis for a minute).

WeChat user tags (campaigns/tags.py, synced from WeChat) are one more fact: a customer's tag
names show in their explanation, and a segment's members can be narrowed to one tag.

The console addresses a customer by an opaque reference (campaigns/member_refs.py), never by
the openid itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from campaigns import tags
from campaigns.tags import TagMember, WeChatTag
from core.clock import as_utc, local_day, shanghai_text
from core.db import Base, upsert
from core.money import yuan
from promotions.bargains import BargainHelp
from shop import tiers as shop_tiers
from shop.followers import Follower
from shop.members import Customer
from shop.notices import WINDOW, NoticeOptIn
from shop.orders import COUNTED_SOLD, Order

#: WeChat's cap on mass sends a user receives per calendar month (WECHAT_API.md §5D).
MASS_PER_MONTH = 4
#: WeChat's customer-service quota per 48-hour window (WECHAT_API.md §5A).
CUSTOM_PER_WINDOW = 5


class Segment(StrEnum):
    """A lifecycle segment; the value is the stable key stored and used in addresses, the
    label the Chinese name the console shows (so renaming a label keeps the history)."""

    PROSPECT = "prospect"
    FIRST_ORDER = "first_order"
    REPEAT = "repeat"
    ACTIVE = "active"
    DORMANT = "dormant"
    LOST = "lost"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[Segment, str] = {
    Segment.PROSPECT: "潜在客户",
    Segment.FIRST_ORDER: "首单客户",
    Segment.REPEAT: "复购客户",
    Segment.ACTIVE: "活跃客户",
    Segment.DORMANT: "沉睡客户",
    Segment.LOST: "流失",
}
#: Display order: along the lifecycle.
SEGMENTS: tuple[Segment, ...] = tuple(LABELS)


@dataclass(frozen=True)
class Thresholds:
    """The playbook's numbers; a shop may tune them, the rules stay the same."""

    active_orders_per_month: int = 3
    active_window_days: int = 90
    dormant_days: int = 180

    def __post_init__(self) -> None:
        if min(self.active_orders_per_month, self.active_window_days, self.dormant_days) <= 0:
            raise ValueError("segment thresholds must be positive")

    @property
    def active_orders(self) -> int:
        """Orders paid in the window that make "on average N a month" (3 a month over 90
        days = 9), rounded up so the average is never below the bar."""
        return -(-self.active_orders_per_month * self.active_window_days // 30)


DEFAULT_THRESHOLDS = Thresholds()


def thresholds_from(settings: dict[str, Any] | None) -> Thresholds:
    """The shop's thresholds (a `Thresholds` under SEGMENT_THRESHOLDS), else the playbook's."""
    value = (settings or {}).get("SEGMENT_THRESHOLDS")
    return value if isinstance(value, Thresholds) else DEFAULT_THRESHOLDS


# --- the playbook's default strategy per segment ------------------------------------------


@dataclass(frozen=True)
class Strategy:
    """What the playbook suggests for a segment, with a starting copy a push can begin from
    (plain words: no superlatives, nothing asking customers to share; the content gate still
    screens it when it becomes a push)."""

    offers: tuple[str, ...]
    goal: str
    copy: str


#: 沉睡's wake-up coupon is a batch the push carries (campaigns/push_coupons.py; the form offers
#: it), so its copy promises none: it reads the same with a coupon or without one.
STRATEGIES: dict[Segment, Strategy] = {
    Segment.PROSPECT: Strategy(
        ("新人礼包", "限时折扣"), "提升首单转化",
        "欢迎关注！新人礼包已为您准备好，首次下单即可使用，7天内有效。回复「新人礼包」查看详情。"),
    Segment.FIRST_ORDER: Strategy(
        ("关联推荐", "满减"), "30天内复购",
        "感谢您的首次购买！我们根据您买过的商品挑选了几款搭配商品，本周下单满额还有立减。"
        "回复「推荐」看看。"),
    Segment.ACTIVE: Strategy(
        ("会员升级", "专属客服"), "提升客单价",
        "感谢您一直以来的支持！您离下一会员等级已经不远，升级后可享更多会员权益；"
        "有任何问题直接回复本消息，专属客服为您处理。"),
    Segment.DORMANT: Strategy(
        ("唤醒优惠券",), "唤醒沉睡客户",
        "好久不见！店里最近上新了不少商品，欢迎回来看看。回复「我的优惠券」可以查看您能用的优惠券。"),
}


# --- RFM ------------------------------------------------------------------------------------

#: Fixed bands, so a score means the same thing every day and in every shop's report.
#: Recency: days since the last payment, at most this many days → score (never paid: 1).
RECENCY_BANDS: tuple[tuple[int, int], ...] = ((30, 5), (60, 4), (90, 3), (180, 2))
#: Frequency: paid orders net of refunds, at least this many → score (below 2: 1).
FREQUENCY_BANDS: tuple[tuple[int, int], ...] = ((10, 5), (5, 4), (3, 3), (2, 2))
#: Monetary: spend net of refunds in fen, at least this much → score (below ¥100: 1).
MONETARY_BANDS: tuple[tuple[int, int], ...] = ((300_000, 5), (100_000, 4), (30_000, 3),
                                               (10_000, 2))


@dataclass(frozen=True)
class Rfm:
    recency: int
    frequency: int
    monetary: int
    days_since_paid: int | None  # None: never paid
    paid_orders: int
    spend_fen: int

    @property
    def text(self) -> str:
        return f"R{self.recency} F{self.frequency} M{self.monetary}"

    def lines(self) -> list[str]:
        recency = ("从未付款" if self.days_since_paid is None
                   else f"距上次付款{self.days_since_paid}天")
        return [f"R{self.recency}：{recency}",
                f"F{self.frequency}：付款订单{self.paid_orders}笔（扣除退款）",
                f"M{self.monetary}：累计消费{yuan(self.spend_fen)}（扣除退款）"]


def rfm_of(last_paid_at: datetime | None, paid_orders: int, spend_fen: int,
           now: datetime) -> Rfm:
    days = None if last_paid_at is None else max((now - as_utc(last_paid_at)).days, 0)
    recency = 1 if days is None else next((s for limit, s in RECENCY_BANDS if days <= limit), 1)
    frequency = next((s for least, s in FREQUENCY_BANDS if paid_orders >= least), 1)
    monetary = next((s for least, s in MONETARY_BANDS if spend_fen >= least), 1)
    return Rfm(recency, frequency, monetary, days, paid_orders, spend_fen)


# --- facts and classification ---------------------------------------------------------------

FLAG_HELPED_NOT_BOUGHT = "帮砍未购买"


@dataclass(frozen=True)
class Facts:
    """Everything the rules read about one customer, loaded in bulk."""

    openid: str
    has_follower: bool = False
    subscribed: bool = False
    subscribed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    first_seen_at: datetime | None = None
    last_interaction_at: datetime | None = None
    last_message_at: datetime | None = None
    first_order_at: datetime | None = None
    last_paid_at: datetime | None = None
    paid_orders: int = 0
    spend_fen: int = 0
    tier_level: int = 0
    paid_in_window: int = 0
    helped_bargain: bool = False
    opt_ins: int = 0
    #: WeChat tags carried at the last sync (campaigns/tags.py): ids and names, by name.
    tag_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def unfollowed(self) -> bool:
        return self.has_follower and not self.subscribed and self.unsubscribed_at is not None

    @property
    def last_touch(self) -> datetime | None:
        """The latest interaction: any event, a message, or a payment; when none was ever
        recorded, the first time we saw them (a follow, a page, an order) stands in."""
        moments = [m for m in (self.last_interaction_at, self.last_message_at,
                               self.last_paid_at) if m]
        if moments:
            return max(moments)
        return self.first_seen_at or self.first_order_at


@dataclass(frozen=True)
class Channel:
    """How a message could reach the customer now; kind None: it cannot."""

    kind: str | None  # custom | subscribe | mass | None
    text: str


@dataclass(frozen=True)
class Member:
    openid: str
    segment: Segment
    reason: str
    rfm: Rfm
    tier: str
    flags: tuple[str, ...]
    channel: Channel
    #: WeChat tag names and ids (campaigns/tags.py), by name.
    tags: tuple[str, ...] = ()
    tag_ids: tuple[int, ...] = ()

    @property
    def masked(self) -> str:
        return mask(self.openid)


@dataclass(frozen=True)
class Explanation:
    """Why a customer is in their segment, and what the rules saw."""

    openid: str
    segment: Segment
    reason: str
    facts: tuple[str, ...]
    rfm: Rfm
    tier: str
    flags: tuple[str, ...]
    channels: tuple[Channel, ...]
    strategy: Strategy | None = field(default=None)
    #: WeChat tag names and ids (campaigns/tags.py), by name.
    tags: tuple[str, ...] = ()
    tag_ids: tuple[int, ...] = ()

    @property
    def channel(self) -> Channel:
        return self.channels[0]


def mask(openid: str) -> str:
    """The console shows openids cut to their first 6 characters."""
    return openid[:6] + "…"


def _day(at: datetime | None) -> str:
    return shanghai_text(at, "%Y-%m-%d") if at else "—"


def _per_month(orders: int, window_days: int) -> str:
    average = orders * 30 / window_days
    return str(round(average)) if abs(average - round(average)) < 0.05 else f"{average:.1f}"


def classify(facts: Facts, now: datetime,
             thresholds: Thresholds = DEFAULT_THRESHOLDS) -> tuple[Segment, str]:
    """The first playbook rule that holds, and its reason with the numbers."""
    t = thresholds
    if facts.unfollowed:
        return Segment.LOST, f"已于{_day(facts.unsubscribed_at)}取消关注"
    touch = facts.last_touch
    if touch is not None and touch < now - timedelta(days=t.dormant_days):
        days = (now - touch).days
        return (Segment.DORMANT,
                f"最近一次互动在{_day(touch)}，已超过{t.dormant_days}天（{days}天前）")
    window, average = t.active_window_days, _per_month(facts.paid_in_window, t.active_window_days)
    if facts.paid_in_window >= t.active_orders:
        return (Segment.ACTIVE,
                f"近{window}天付款订单{facts.paid_in_window}笔，平均每月{average}笔"
                f"（≥{t.active_orders_per_month}笔）")
    if facts.paid_orders == 1:
        return Segment.FIRST_ORDER, "已付款订单1笔（扣除退款）"
    if facts.paid_orders <= 0:
        how = "已关注公众号" if facts.subscribed else "浏览过商城，未关注公众号"
        if facts.last_paid_at is not None:
            return Segment.PROSPECT, f"{how}，付款的订单已全部退款（净付款订单0笔）"
        return Segment.PROSPECT, f"{how}，从未付款"
    return (Segment.REPEAT,
            f"已付款订单{facts.paid_orders}笔（扣除退款），近{window}天{facts.paid_in_window}笔，"
            f"平均每月{average}笔，未达活跃标准（每月≥{t.active_orders_per_month}笔）；"
            "玩法分层表没有这一层，单列为复购客户")


def channels_of(facts: Facts, now: datetime, counts: Any = None) -> tuple[Channel, ...]:
    """Every channel WeChat allows for a message to this customer now, best first
    (WECHAT_API.md §5): customer-service messages inside the 48-hour window opened by their
    message or payment (shop.notices.WINDOW, in_window's rule), a subscription notice per
    recorded opt-in, then mass send (4 a month).

    `counts`: the planner's quotas for this openid (campaigns.planner.reach_counts — the one
    definition the planner decides by): with them the window's sends and this month's mass
    messages are shown, and a channel whose quota is spent is not offered. Without them (the
    bulk classification) the quotas are not counted."""
    if facts.unfollowed:
        return (Channel(None, "无法触达（已取消关注）"),)
    found = []
    if counts is not None:
        window = counts.window_open(now)
    else:
        opened = [m for m in (facts.last_message_at, facts.last_paid_at) if m]
        window = bool(opened) and max(opened) + WINDOW > now
    if facts.subscribed and window:
        if counts is None:
            found.append(Channel("custom", "客服消息（48小时内互动过）"))
        elif counts.custom_in_window < CUSTOM_PER_WINDOW:
            found.append(Channel("custom", f"客服消息（48小时内互动过，本窗口已发"
                                           f"{counts.custom_in_window}条，上限{CUSTOM_PER_WINDOW}条）"))
    if facts.opt_ins > 0:
        found.append(Channel("subscribe", f"订阅通知（已授权{facts.opt_ins}次）"))
    if facts.subscribed:
        if counts is None:
            found.append(Channel("mass", f"群发（每月{MASS_PER_MONTH}次上限）"))
        elif counts.mass_this_month < MASS_PER_MONTH:
            found.append(Channel("mass", f"群发（本月已收到{counts.mass_this_month}次，"
                                         f"每月{MASS_PER_MONTH}次上限）"))
    if not found and facts.subscribed and counts is not None:
        return (Channel(None, f"暂时无法触达（48小时窗口内客服消息已发满{CUSTOM_PER_WINDOW}条"
                              f"或不在窗口内，本月群发已满{MASS_PER_MONTH}次）"),)
    return tuple(found) or (Channel(None, "无法触达（未关注公众号，也没有订阅授权）"),)


def flags_of(facts: Facts) -> tuple[str, ...]:
    """帮砍未购买: helped a friend's bargain (a counted cut) and never paid for anything."""
    never_paid = facts.paid_orders <= 0 and facts.last_paid_at is None
    return (FLAG_HELPED_NOT_BOUGHT,) if facts.helped_bargain and never_paid else ()


def _member(facts: Facts, now: datetime, thresholds: Thresholds,
            tiers: shop_tiers.Tiers) -> Member:
    segment, reason = classify(facts, now, thresholds)
    return Member(facts.openid, segment, reason,
                  rfm_of(facts.last_paid_at, facts.paid_orders, facts.spend_fen, now),
                  tiers.name(facts.tier_level), flags_of(facts), channels_of(facts, now)[0],
                  facts.tags, facts.tag_ids)


def _utc(at: datetime | None) -> datetime | None:
    return as_utc(at) if at is not None else None


def _load(db: Session, now: datetime, thresholds: Thresholds,
          openids: Sequence[str] | None = None) -> Iterator[Facts]:
    """Facts for everyone we know (a follower or a customer row), ordered by openid, from
    six set-based queries; `openids` narrows them (explain, one tag's members)."""

    def only(query: Any, column: Any) -> Any:
        return query if openids is None else query.where(column.in_(list(openids)))

    followers = {row[0]: row for row in db.execute(only(select(
        Follower.openid, Follower.subscribed, Follower.subscribed_at, Follower.unsubscribed_at,
        Follower.first_seen_at, Follower.last_interaction_at, Follower.last_message_at),
        Follower.openid))}
    customers = {row[0]: row for row in db.execute(only(select(
        Customer.openid, Customer.first_order_at, Customer.last_paid_at, Customer.paid_orders,
        Customer.spend_fen, Customer.tier_level), Customer.openid))}
    since = now - timedelta(days=thresholds.active_window_days)
    recent = dict(db.execute(only(
        select(Order.openid, func.count()).where(
            Order.state.in_(COUNTED_SOLD), Order.paid_at >= since, Order.paid_at <= now)
        .group_by(Order.openid), Order.openid)).all())
    helpers = set(db.scalars(only(
        select(BargainHelp.openid).where(BargainHelp.state == "counted").distinct(),
        BargainHelp.openid)))
    opt_ins = dict(db.execute(only(
        select(NoticeOptIn.openid, func.sum(NoticeOptIn.remaining))
        .where(NoticeOptIn.remaining > 0).group_by(NoticeOptIn.openid),
        NoticeOptIn.openid)).all())
    tagged: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for openid, tag_id, name in db.execute(only(
            select(TagMember.openid, TagMember.tag_id, WeChatTag.name)
            .join(WeChatTag, WeChatTag.id == TagMember.tag_id)
            .order_by(WeChatTag.name, TagMember.tag_id), TagMember.openid)):
        tagged[openid].append((tag_id, name))
    for openid in sorted(followers.keys() | customers.keys()):
        f, c = followers.get(openid), customers.get(openid)
        values: dict[str, Any] = {"openid": openid}
        if f is not None:
            values.update(has_follower=True, subscribed=bool(f[1]), subscribed_at=_utc(f[2]),
                          unsubscribed_at=_utc(f[3]), first_seen_at=_utc(f[4]),
                          last_interaction_at=_utc(f[5]), last_message_at=_utc(f[6]))
        if c is not None:
            values.update(first_order_at=_utc(c[1]), last_paid_at=_utc(c[2]),
                          paid_orders=c[3] or 0, spend_fen=c[4] or 0, tier_level=c[5] or 0)
        carried = tagged.get(openid, [])
        yield Facts(**values, paid_in_window=recent.get(openid, 0),
                    helped_bargain=openid in helpers, opt_ins=int(opt_ins.get(openid) or 0),
                    tag_ids=tuple(i for i, _ in carried), tags=tuple(n for _, n in carried))


def classify_all(db: Session, now: datetime, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 *, tiers: shop_tiers.Tiers | None = None) -> Iterator[Member]:
    """Every known customer with their segment, reason, RFM, tier, flags and best channel,
    ordered by openid."""
    tiers = tiers or shop_tiers.configured()
    for facts in _load(db, as_utc(now), thresholds):
        yield _member(facts, as_utc(now), thresholds, tiers)


#: Openids per query when classifying a given set (one tag's members): bound parameters stay
#: well under every database's limit.
CHUNK = 1000


def classify_openids(db: Session, openids: Iterable[str], now: datetime,
                     thresholds: Thresholds = DEFAULT_THRESHOLDS, *,
                     tiers: shop_tiers.Tiers | None = None) -> Iterator[Member]:
    """The customers among `openids` we know, classified as `classify_all` would (each
    customer's rules read only their own facts), by openid: a tag's members cost a pass
    over the tag, not over everyone."""
    tiers = tiers or shop_tiers.configured()
    now = as_utc(now)
    ordered = sorted(set(openids))
    for start in range(0, len(ordered), CHUNK):
        for facts in _load(db, now, thresholds, ordered[start:start + CHUNK]):
            yield _member(facts, now, thresholds, tiers)


def members(db: Session, segment: Segment, now: datetime, *, limit: int = 50, offset: int = 0,
            thresholds: Thresholds = DEFAULT_THRESHOLDS,
            tag_id: int | None = None) -> list[Member]:
    """One page of a segment, by openid; `tag_id`: only its members carrying that WeChat tag.
    The rules run in Python over the bulk facts (so every page agrees with `counts`); a page
    costs one classification pass (over the tag's members only, when narrowed by one)."""
    found: list[Member] = []
    skipped = 0
    everyone = (classify_all(db, now, thresholds) if tag_id is None
                else classify_openids(db, tags.members_of(db, tag_id), now, thresholds))
    for member in everyone:
        if member.segment != segment:
            continue
        if skipped < offset:
            skipped += 1
            continue
        found.append(member)
        if len(found) >= limit:
            break
    return found


def counts(db: Session, now: datetime,
           thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[Segment, int]:
    """How many customers each segment holds now (every segment present, 0 when empty)."""
    result = dict.fromkeys(SEGMENTS, 0)
    for member in classify_all(db, now, thresholds):
        result[member.segment] += 1
    return result


def count_tagged(db: Session, segment: Segment, tag_id: int, now: datetime,
                 thresholds: Thresholds = DEFAULT_THRESHOLDS) -> int:
    """How many of `segment`'s customers carry WeChat tag `tag_id` now (a pass over the tag's
    members only): what a push narrowed by the tag would reach before WeChat's rules."""
    return sum(member.segment is segment for member in
               classify_openids(db, tags.members_of(db, tag_id), now, thresholds))


def explain(db: Session, openid: str, now: datetime,
            thresholds: Thresholds = DEFAULT_THRESHOLDS, *,
            tiers: shop_tiers.Tiers | None = None) -> Explanation | None:
    """Why `openid` is in their segment, with the facts the rules read, RFM, tier, flags and
    every channel that can reach them now; None for an openid the shop has never seen."""
    now = as_utc(now)
    facts = next(_load(db, now, thresholds, [openid]), None)
    if facts is None:
        return None
    tiers = tiers or shop_tiers.configured()
    segment, reason = classify(facts, now, thresholds)
    # the planner's own count of WeChat's quotas (imported here: the planner imports this
    # module), so the explanation and the planner's decision cannot disagree
    from campaigns import planner

    counts = planner.reach_counts(db, [openid], now)[openid]
    return Explanation(
        openid, segment, reason, tuple(_fact_lines(facts, now, thresholds)),
        rfm_of(facts.last_paid_at, facts.paid_orders, facts.spend_fen, now),
        tiers.name(facts.tier_level), flags_of(facts), channels_of(facts, now, counts),
        STRATEGIES.get(segment), facts.tags, facts.tag_ids)


def _fact_lines(facts: Facts, now: datetime, thresholds: Thresholds) -> list[str]:
    """What each rule looked at, so "why not 沉睡" is answered too."""
    if facts.unfollowed:
        follow = f"已取消关注（{_day(facts.unsubscribed_at)}）"
    elif facts.subscribed:
        follow = f"已关注（{_day(facts.subscribed_at)}关注）" if facts.subscribed_at else "已关注"
    else:
        follow = "未关注公众号"
    touch = facts.last_touch
    lines = [f"关注状态：{follow}",
             f"最近一次互动：{_day(touch)}（{(now - touch).days}天前）" if touch
             else "最近一次互动：没有记录",
             f"近{thresholds.active_window_days}天付款订单：{facts.paid_in_window}笔"
             f"（活跃标准：{thresholds.active_orders}笔，即平均每月"
             f"{thresholds.active_orders_per_month}笔）",
             f"付款订单：{facts.paid_orders}笔（扣除退款），累计消费{yuan(facts.spend_fen)}",
             f"最近一次付款：{_day(facts.last_paid_at)}"]
    if facts.helped_bargain:
        lines.append("帮好友砍过价")
    if facts.tags:
        lines.append(f"微信标签：{'、'.join(facts.tags)}")
    return lines


# --- daily snapshot and trend ---------------------------------------------------------------


class SegmentCount(Base):
    """How many customers each segment held on a Shanghai day, for the console's trend."""

    __tablename__ = "campaign_segment_counts"
    __table_args__ = (UniqueConstraint("day", "segment",
                                       name="uq_campaign_segment_counts_day_segment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # Asia/Shanghai YYYY-MM-DD
    segment: Mapped[str] = mapped_column(String(16))  # a Segment value
    count: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def write_snapshot(db: Session, now: datetime,
                   thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[Segment, int]:
    """Today's (Shanghai) counts, recomputed now; a second write the same day replaces the
    first (an upsert, so two writers racing leave one row per segment)."""
    found = counts(db, now, thresholds)
    statement = upsert(db, SegmentCount.__table__)
    db.execute(statement.values([
        {"day": local_day(now), "segment": segment.value, "count": count, "computed_at": now}
        for segment, count in found.items()
    ]).on_conflict_do_update(index_elements=["day", "segment"],
                             set_={"count": statement.excluded["count"],
                                   "computed_at": statement.excluded.computed_at}))
    return found


def snapshot(sessions: sessionmaker, now: datetime,
             thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[Segment, int]:
    """Recompute and store today's counts in a transaction of their own."""
    with sessions.begin() as db:
        return write_snapshot(db, now, thresholds)


def snapshot_job(storage: Any, now: datetime | None = None) -> dict[Segment, int] | None:
    """The nightly snapshot: run hourly, it writes only when the Shanghai day has none yet
    (the first run after midnight), so restarts and a second scheduler do not recount all
    day. Returns the counts written, or None when today was already done."""
    now = now or datetime.now(UTC)
    with storage.sessions() as db:
        done = db.scalar(select(func.count()).select_from(SegmentCount)
                         .where(SegmentCount.day == local_day(now)))
    if done:
        return None
    return snapshot(storage.sessions, now, thresholds_from(getattr(storage, "settings", None)))


def last_snapshot_at(db: Session) -> datetime | None:
    latest = db.scalar(select(func.max(SegmentCount.computed_at)))
    return as_utc(latest) if latest else None


def trend(db: Session, days: int = 30) -> dict[Segment, list[tuple[str, int]]]:
    """Each segment's count on the latest `days` snapshot days, oldest first (0 for a segment
    missing on a day)."""
    shown = sorted(db.scalars(select(SegmentCount.day).distinct()
                              .order_by(SegmentCount.day.desc()).limit(days)))
    stored: dict[tuple[str, str], int] = {}
    if shown:
        stored = {(day, segment): count for day, segment, count in db.execute(
            select(SegmentCount.day, SegmentCount.segment, SegmentCount.count)
            .where(SegmentCount.day.in_(shown)))}
    return {segment: [(day, stored.get((day, segment.value), 0)) for day in shown]
            for segment in SEGMENTS}
