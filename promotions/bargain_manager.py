"""The merchant's side of 砍价: creating a campaign (and why a form is refused), pausing,
resuming and ending it, what it brought (figures), the per-launch ledger and the review queue.

Its own module because these are the only writes to a campaign outside the hot path: the
console (bargain_views.py) and its API call them. Launches and cuts are bargain_ledger.py's;
deciding a held help is too (the console calls it), since a help's cut must move the launch's
counter in the same conditional UPDATE as every other cut.

A campaign's terms are set once, here, and never edited: launches already started carry
their own price, floor and schedule, and a change under them would make two customers of one
campaign see different rules. The console only moves its state (on ⇄ paused → ended).

Domain code: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, func, literal, select, update
from sqlalchemy.orm import Session

from content_audit import gate
from content_audit.screener import Screener
from core.clock import as_utc
from core.money import yuan
from promotions.bargains import (
    MAX_FRONT_LOADING,
    SCENE_PREFIX,
    BargainCampaign,
    BargainError,
    BargainHelp,
    BargainLaunch,
)
from shop.catalog import Product, Sku
from shop.followers import Follower
from shop.orders import COUNTED_SOLD, Order

TITLE_MAX = 40
MAX_HELPERS = 50
MAX_HOURS = 168
#: Upper bounds that only catch typos (and keep the int4 columns far from their limit).
MAX_QUOTA = 100_000
MAX_LIMIT = 1_000
#: The content gate's source for what customers see of a bargain (its invitation).
GATE_SOURCE = "bargain"

STATES = {"on": "进行中", "paused": "已暂停", "ended": "已结束"}
#: A launch's states as the console shows them.
LAUNCH_STATES = {"open": "砍价中", "completed": "已砍到底价", "ordered": "已下单",
                 "expired": "已过期"}
HELP_STATES = {"counted": "已计入", "held": "待审核", "counting": "处理中",
               "rejected": "已拒绝"}
HELP_SOURCES = {"scan": "扫码", "code": "口令", "page": "网页", "starter": "发起人",
                "review": "审核通过"}


class TitleHeld(BargainError):
    """The title waits for the compliance reviewer: nothing is created, but the review item
    the gate queued must be kept (the caller commits), so the reviewer sees it."""


def state_text(campaign: BargainCampaign, now: datetime) -> str:
    """进行中 / 未开始 / 已暂停 / 已结束: a campaign past its end is over whatever its state."""
    if campaign.state == "on" and as_utc(campaign.ends_at) <= now:
        return "已结束"
    if campaign.state == "on" and now < as_utc(campaign.starts_at):
        return "未开始"
    return STATES.get(campaign.state, campaign.state)


# ---- creating ----------------------------------------------------------------------------


def campaign_problem(db: Session, *, title: str, sku_id: int, floor_fen: int,
                     helpers_needed: int, hours_per_launch: int, starts_at: datetime,
                     ends_at: datetime, stock_quota: int, launches_per_customer: int,
                     helps_per_day: int, helps_per_campaign: int, starter_cuts: bool,
                     reserve_at_launch: bool, front_loading: int, unit_cost_fen: int | None,
                     now: datetime, **_ignored: object) -> str | None:
    """Why these terms cannot make a campaign (Chinese, the first problem), or None.

    Separate from create_campaign so the console's 预览 can say what 创建 would refuse
    without screening the title (screening queues review items) or writing anything.
    """
    name = (title or "").strip()
    if not name:
        return "请填写活动标题"
    if len(name) > TITLE_MAX:
        return f"活动标题最多{TITLE_MAX}个字"
    row = db.execute(select(Sku, Product.on_shelf).join(Product)
                     .where(Sku.id == sku_id)).first() if sku_id else None
    if row is None:
        return "没有这个规格，请重新选择商品"
    sku, on_shelf = row
    if not on_shelf:
        return "该商品已下架，不能做砍价"
    if floor_fen < 1:
        return "底价至少 0.01 元"
    if floor_fen >= sku.price_fen:
        return f"底价需低于该规格现价{yuan(sku.price_fen)}"
    if not 1 <= helpers_needed <= MAX_HELPERS:
        return f"需要助力的人数需在 1–{MAX_HELPERS} 人之间"
    cuts = helpers_needed + (1 if starter_cuts else 0)
    if sku.price_fen - floor_fen < cuts:
        return (f"底价太接近原价：{cuts} 刀每刀至少 1 分"
                f"（现价{yuan(sku.price_fen)}，底价{yuan(floor_fen)}）")
    if not 1 <= hours_per_launch <= MAX_HOURS:
        return f"每次砍价的有效时长需在 1–{MAX_HOURS} 小时之间"
    if as_utc(ends_at) <= as_utc(starts_at):
        return "活动结束时间需晚于开始时间"
    if as_utc(ends_at) <= as_utc(now):
        return "活动结束时间已经过去"
    if not 1 <= stock_quota <= MAX_QUOTA:
        return f"砍价库存需在 1–{MAX_QUOTA} 件之间"
    if reserve_at_launch and stock_quota > sku.stock:
        return (f"发起时预留库存：砍价库存{stock_quota}件超过该规格现有库存{sku.stock}件，"
                "请减少砍价库存，或改为下单时扣库存")
    limits = (("每人可发起次数", launches_per_customer), ("每人每天可助力次数", helps_per_day),
              ("每人本活动可助力次数", helps_per_campaign))
    for label, value in limits:
        if not 1 <= value <= MAX_LIMIT:
            return f"{label}需在 1–{MAX_LIMIT} 之间"
    if helps_per_campaign < helps_per_day:
        return "每人本活动可助力次数不能少于每天可助力次数"
    if not 0 <= front_loading <= MAX_FRONT_LOADING:
        return f"前几刀力度需在 0–{MAX_FRONT_LOADING} 之间"
    if unit_cost_fen is not None and not 0 <= unit_cost_fen <= sku.price_fen * 10:
        return "单件成本不合理，请检查（可不填）"
    return None


def create_campaign(db: Session, *, title: str, sku_id: int, floor_fen: int,
                    helpers_needed: int, hours_per_launch: int, starts_at: datetime,
                    ends_at: datetime, stock_quota: int, launches_per_customer: int,
                    helps_per_day: int, helps_per_campaign: int, starter_cuts: bool,
                    buy_before_floor: bool, new_customers_only: bool, reserve_at_launch: bool,
                    front_loading: int, unit_cost_fen: int | None, now: datetime,
                    screener: Screener, author: str = "") -> BargainCampaign:
    """A new campaign (state on); raises BargainError with the first problem of the terms.

    The title is what every invitation carries, so it passes the content gate like any copy
    sent to customers (source 砍价邀请), after the other checks so a form with a typo queues
    nothing. Blocked or rejected: BargainError with the gate's reason. Waiting for review:
    TitleHeld, and nothing is created (a campaign cannot run with unreviewed words); the
    caller commits so the review item stays, and creates again once it is approved.
    """
    if problem := campaign_problem(
            db, title=title, sku_id=sku_id, floor_fen=floor_fen, helpers_needed=helpers_needed,
            hours_per_launch=hours_per_launch, starts_at=starts_at, ends_at=ends_at,
            stock_quota=stock_quota, launches_per_customer=launches_per_customer,
            helps_per_day=helps_per_day, helps_per_campaign=helps_per_campaign,
            starter_cuts=starter_cuts, reserve_at_launch=reserve_at_launch,
            front_loading=front_loading, unit_cost_fen=unit_cost_fen, now=now):
        raise BargainError(problem)
    name = title.strip()
    outcome = gate.check(db, name, source=GATE_SOURCE, author=author or "console",
                         screener=screener)
    if outcome.refused:
        raise BargainError(f"活动标题{outcome.message}")
    if outcome.held:
        raise TitleHeld("活动标题已提交合规审核，审核通过后再点「创建」（本次未创建）")
    campaign = BargainCampaign(
        title=name, sku_id=sku_id, floor_fen=floor_fen, helpers_needed=helpers_needed,
        hours_per_launch=hours_per_launch, starts_at=as_utc(starts_at), ends_at=as_utc(ends_at),
        stock_quota=stock_quota, units_used=0, launches_per_customer=launches_per_customer,
        helps_per_day=helps_per_day, helps_per_campaign=helps_per_campaign,
        starter_cuts=starter_cuts, buy_before_floor=buy_before_floor,
        new_customers_only=new_customers_only, reserve_at_launch=reserve_at_launch,
        front_loading=front_loading, unit_cost_fen=unit_cost_fen, state="on",
        created_at=as_utc(now))
    db.add(campaign)
    db.flush()
    return campaign


# ---- moving its state ---------------------------------------------------------------------

#: move → (from states, to state, the verb). Ended is final.
MOVES = {"pause": (("on",), "paused", "暂停"), "resume": (("paused",), "on", "恢复"),
         "end": (("on", "paused"), "ended", "结束")}


def audit_fields(campaign: BargainCampaign) -> dict[str, object]:
    """What the audit log keeps of a campaign as created (the console and the API record the
    same)."""
    return {"title": campaign.title, "sku_id": campaign.sku_id, "floor_fen": campaign.floor_fen,
            "helpers_needed": campaign.helpers_needed,
            "hours_per_launch": campaign.hours_per_launch,
            "starts_at": as_utc(campaign.starts_at).isoformat(),
            "ends_at": as_utc(campaign.ends_at).isoformat(),
            "stock_quota": campaign.stock_quota,
            "reserve_at_launch": campaign.reserve_at_launch,
            "new_customers_only": campaign.new_customers_only}


def _move(db: Session, campaign_id: int, move: str, now: datetime) -> BargainCampaign:
    """One conditional UPDATE, so two managers clicking at once cannot both move it.

    Pausing stops new launches and new helps (the ledger reads campaign.state); launches
    already open keep their expiry. Ending does not expire launches either: the ledger's job
    does, with the unit and Redis bookkeeping that belongs to it.
    """
    froms, to, verb = MOVES[move]
    campaign = db.get(BargainCampaign, campaign_id)
    if campaign is None:
        raise BargainError("没有这个砍价活动")
    if move != "end" and as_utc(campaign.ends_at) <= as_utc(now):
        raise BargainError(f"活动已过结束时间，不能{verb}")
    moved = db.execute(update(BargainCampaign)
                       .where(BargainCampaign.id == campaign_id,
                              BargainCampaign.state.in_(froms))
                       .values(state=to).execution_options(synchronize_session=False)).rowcount
    db.refresh(campaign)
    if moved != 1:
        raise BargainError(f"活动{STATES.get(campaign.state, campaign.state)}，不能{verb}")
    return campaign


def pause(db: Session, campaign_id: int, now: datetime) -> BargainCampaign:
    """No new launches or helps until resumed; raises BargainError unless it is on."""
    return _move(db, campaign_id, "pause", now)


def resume(db: Session, campaign_id: int, now: datetime) -> BargainCampaign:
    """Back on; raises BargainError unless it is paused (and not past its end)."""
    return _move(db, campaign_id, "resume", now)


def end(db: Session, campaign_id: int, now: datetime) -> BargainCampaign:
    """Ended for good; raises BargainError when it already is."""
    return _move(db, campaign_id, "end", now)


# ---- figures ------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one campaign brought and cost.

    Helps and helpers are friends' helps: the starter's own cut (source starter) is not a
    help by anyone new. A completion is a launch that reached the floor. A paid order is an
    order linked to a launch whose state counts as sold (paid, shipped, completed: not
    pending, cancelled or refunded). The discount given is, over those paid launches, what
    was cut off the start price (launch.cut_fen). New customers are people counted once
    each: those who first followed through a launch's QR code (Follower.source_scene
    bargain:<launch id>) since the campaign was created, plus helpers who were new to the
    shop when they helped (counted helps) and are not among those followers — the page-only
    ones, who helped on the web page without following. Cost per new customer = discount
    given ÷ new customers, None when there are none.
    """

    launches: int = 0
    helpers: int = 0
    helps_counted: int = 0
    helps_held: int = 0
    helps_rejected: int = 0
    completions: int = 0
    paid_orders: int = 0
    paid_fen: int = 0
    new_followers: int = 0
    new_customer_helpers: int = 0
    page_only_new_helpers: int = 0
    new_customers: int = 0
    discount_fen: int = 0
    cost_per_new_customer_fen: int | None = None
    units_used: int = 0
    stock_quota: int = 0

    @property
    def completion_rate(self) -> float:
        return self.completions / self.launches if self.launches else 0.0


def figures(db: Session, campaign_id: int) -> Figures:
    """The campaign's figures (see Figures for what each counts); BargainError if unknown."""
    campaign = db.get(BargainCampaign, campaign_id)
    if campaign is None:
        raise BargainError("没有这个砍价活动")
    result = Figures(units_used=campaign.units_used, stock_quota=campaign.stock_quota)
    result.launches = db.scalar(select(func.count(BargainLaunch.id))
                                .where(BargainLaunch.campaign_id == campaign_id)) or 0
    result.completions = db.scalar(
        select(func.count(BargainLaunch.id))
        .where(BargainLaunch.campaign_id == campaign_id,
               BargainLaunch.completed_at.isnot(None))  # bought early: not a completion
    ) or 0
    friends = (BargainHelp.campaign_id == campaign_id, BargainHelp.source != "starter")
    by_state = dict(db.execute(select(BargainHelp.state, func.count(BargainHelp.id))
                               .where(*friends).group_by(BargainHelp.state)).all())
    result.helps_counted = by_state.get("counted", 0)
    result.helps_held = by_state.get("held", 0)
    result.helps_rejected = by_state.get("rejected", 0)
    result.helpers = db.scalar(select(func.count(func.distinct(BargainHelp.openid)))
                               .where(*friends, BargainHelp.state == "counted")) or 0
    paid = db.execute(select(func.count(BargainLaunch.id), func.sum(BargainLaunch.cut_fen),
                             func.sum(Order.total_fen))
                      .join(Order, Order.id == BargainLaunch.order_id)
                      .where(BargainLaunch.campaign_id == campaign_id,
                             Order.state.in_(COUNTED_SOLD))).one()
    result.paid_orders, result.discount_fen, result.paid_fen = (
        paid[0] or 0, paid[1] or 0, paid[2] or 0)
    scene = literal(SCENE_PREFIX, String) + cast(BargainLaunch.id, String)
    followers = set(db.scalars(
        select(Follower.openid).join(BargainLaunch, Follower.source_scene == scene)
        .where(BargainLaunch.campaign_id == campaign_id,
               Follower.first_seen_at >= campaign.created_at)))
    new_helpers = set(db.scalars(select(BargainHelp.openid).where(
        *friends, BargainHelp.state == "counted", BargainHelp.new_customer.is_(True))))
    result.new_followers = len(followers)
    result.new_customer_helpers = len(new_helpers)
    result.page_only_new_helpers = len(new_helpers - followers)
    result.new_customers = len(followers | new_helpers)
    if result.new_customers:
        result.cost_per_new_customer_fen = round(result.discount_fen / result.new_customers)
    return result


# ---- lists --------------------------------------------------------------------------------


@dataclass
class LaunchEntry:
    """One launch and its helps, in the order their cuts landed (held ones last)."""

    launch: BargainLaunch
    helps: list[BargainHelp] = field(default_factory=list)


def ledger(db: Session, campaign_id: int, *, limit: int = 200) -> list[LaunchEntry]:
    """The newest launches of a campaign (at most `limit`) with every help: what the manager
    reads when a customer says a cut went missing."""
    launches = list(db.scalars(select(BargainLaunch)
                               .where(BargainLaunch.campaign_id == campaign_id)
                               .order_by(BargainLaunch.id.desc())
                               .limit(max(1, min(limit, 1000)))))
    entries = {launch.id: LaunchEntry(launch) for launch in launches}
    if entries:
        helps = db.scalars(select(BargainHelp)
                           .where(BargainHelp.launch_id.in_(list(entries)))
                           .order_by(BargainHelp.seq.is_(None), BargainHelp.seq,
                                     BargainHelp.created_at, BargainHelp.id))
        for help_ in helps:
            entries[help_.launch_id].helps.append(help_)
    return list(entries.values())


def held_helps(db: Session, campaign_id: int | None = None) -> list[BargainHelp]:
    """Helps waiting for a reviewer, oldest first (one campaign's, or every campaign's)."""
    query = select(BargainHelp).where(BargainHelp.state == "held")
    if campaign_id is not None:
        query = query.where(BargainHelp.campaign_id == campaign_id)
    return list(db.scalars(query.order_by(BargainHelp.created_at, BargainHelp.id)))


@dataclass
class CampaignRow:
    """A campaign with the counts the list shows."""

    campaign: BargainCampaign
    launches: int = 0
    completions: int = 0
    helps_counted: int = 0
    helps_held: int = 0


def campaigns(db: Session) -> list[CampaignRow]:
    """Every campaign, on and paused before ended, newest first, with quick counts."""
    rows = {c.id: CampaignRow(c) for c in db.scalars(
        select(BargainCampaign).order_by(BargainCampaign.state == "ended",
                                         BargainCampaign.id.desc()))}
    if not rows:
        return []
    reached = BargainLaunch.completed_at.isnot(None)
    for campaign_id, launches, completions in db.execute(
            select(BargainLaunch.campaign_id, func.count(BargainLaunch.id),
                   func.count(BargainLaunch.id).filter(reached))
            .group_by(BargainLaunch.campaign_id)):
        if campaign_id in rows:
            rows[campaign_id].launches, rows[campaign_id].completions = launches, completions
    for campaign_id, state, count in db.execute(
            select(BargainHelp.campaign_id, BargainHelp.state, func.count(BargainHelp.id))
            .where(BargainHelp.source != "starter", BargainHelp.state.in_(("counted", "held")))
            .group_by(BargainHelp.campaign_id, BargainHelp.state)):
        if campaign_id in rows:
            setattr(rows[campaign_id], f"helps_{state}", count)
    return list(rows.values())
