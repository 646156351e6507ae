"""Launches and cuts: the hot path of 砍价, exact under any number of helpers at once.

A help goes: checks a customer can be told about (no such code, the starter, not a new
customer, campaign paused or sold out, launch over, the helper's caps re-counted in SQL) →
the risk score (bargain_risk.py; a risky help is recorded as *held* and cuts nothing until a
reviewer approves it) → the Redis gate (bargain_gate.py) pops the next cut → one SQL
transaction records it. SQL decides: the help
row is unique per (launch, helper) and per (launch, position), and the launch's counters move
by an UPDATE that only succeeds while `cuts_done < cuts_total` and the launch is open and not
expired. So exactly `cuts_total` cuts land, their sum is the schedule's (price − floor), and
nothing lands after the last one, whatever Redis says.

When Redis cannot be reached (restarting), the same transaction takes the first position SQL
has not recorded, under the launch row's lock (a no-op UPDATE takes it before the positions
are read): slower, but a customer's help still counts, exactly once.

Each help carries an idempotency key (the WeChat message, or the page's form), stored hashed
with the launch and the helper: a retried request finds its own help and answers as the first
one did, instead of "already helped"; the same key on another launch is another help.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.clock import SHANGHAI, as_utc
from core.config import DEFAULTS
from core.storage import Storage
from promotions import bargain_gate, bargain_notices, bargain_risk
from promotions.bargains import (
    BargainCampaign,
    BargainHelp,
    BargainLaunch,
    BargainRefused,
    draw_schedule,
    new_code,
    new_seed,
    normal_code,
    scene_for,
)
from shop.catalog import Product, Sku
from shop.members import Customer

log = logging.getLogger(__name__)

#: Tries of one help when Redis and SQL disagree (each try re-syncs the launch first).
TRIES = 4
#: A launch that reaches the floor can be bought for at least this long, however close to its
#: end the last cut came (a cut a minute before the end must not leave one minute to buy).
BUY_WINDOW = timedelta(hours=24)
#: A launch's QR code lives as long as the launch, within WeChat's 30-day maximum.
QR_MAX_SECONDS = 30 * 86400

ANSWERS = {
    "unknown": "没有找到这个砍价码，请核对后再发一次（6位字母数字）。",
    "self": "这是你自己发起的砍价，不能给自己帮砍。",
    "again": "你已经帮这位好友砍过一刀了，每人只能砍一次。",
    "held": "你的帮砍正在审核中，审核通过后才会计入。",
    "expired": "这个砍价已经过期了。",
    "complete": "这个砍价已经砍到底价了，谢谢你的好意！",
    "ordered": "发起人已经按当前价格下单了，不用再砍了，谢谢你！",
    "closed": "这个砍价已经结束了。",
    "paused": "这个砍价活动暂停了，请稍后再来。",
    "ended": "这个砍价活动已经结束了。",
    "not_new": "这个砍价活动只限从未在本店下过单的新朋友帮砍。",
    "day_cap": "你今天在这个活动里帮砍的次数已经用完了，明天再来吧。",
    "campaign_cap": "你在这个活动里帮砍的次数已经用完了。",
    "slow_helper": "你帮砍得太频繁了，请过10分钟再来。",
    "slow_launch": "这个砍价现在帮砍的人太多了，请过一分钟再试。",
    "busy": "最后一刀正在结算，请过几秒再试一次。",
    "inflight": "你的这一刀正在处理，请过几秒回复「我的砍价」或再发一次查看结果。",
    "soldout": "这个砍价活动的名额已经发完了，这一刀没有砍。",
}


@dataclass(frozen=True)
class HelpOutcome:
    """What one help did, as the helper and the starter are told."""

    state: str  # counted | held
    launch_id: int
    starter: str
    product: str
    amount_fen: int  # 0 while held
    price_fen: int  # the launch's price now
    floor_fen: int
    left_fen: int  # exact amount still to cut
    helpers_left: int
    completed: bool  # this help brought the launch to the floor
    repeated: bool = False  # the same request again (a retry): nothing new was recorded


def refused(code: str) -> BargainRefused:
    return BargainRefused(code, ANSWERS.get(code, "现在无法帮砍，请稍后再试。"))


def setting(config: Any, name: str) -> int:
    return int((config or {}).get(name) or DEFAULTS[name])


def shanghai_day(now: datetime) -> str:
    return as_utc(now).astimezone(SHANGHAI).strftime("%Y%m%d")


def product_name(db: Session, campaign: BargainCampaign) -> str:
    sku = db.get(Sku, campaign.sku_id)
    product = db.get(Product, sku.product_id) if sku else None
    if product is None:
        return campaign.title
    variant = f"（{sku.variant}）" if sku.variant and sku.variant != "默认" else ""
    return f"{product.name}{variant}"


# ---- finding a launch -----------------------------------------------------------------------


def find(db: Session, ref: int | str) -> BargainLaunch | None:
    """A launch by id (QR scenes and pages) or by its short code (typed in the chat)."""
    if isinstance(ref, int):
        return db.get(BargainLaunch, ref)
    return db.scalar(select(BargainLaunch).where(BargainLaunch.code == normal_code(ref)))


def open_campaigns(db: Session, now: datetime) -> list[BargainCampaign]:
    return list(db.scalars(select(BargainCampaign)
                           .where(BargainCampaign.state == "on",
                                  BargainCampaign.starts_at <= now,
                                  BargainCampaign.ends_at > now)
                           .order_by(BargainCampaign.id)))


def live_launches(db: Session, openid: str, now: datetime) -> list[BargainLaunch]:
    """The customer's launches still going or waiting to be bought, newest first."""
    return list(db.scalars(select(BargainLaunch)
                           .where(BargainLaunch.openid == openid,
                                  BargainLaunch.state.in_(("open", "completed", "ordered")),
                                  BargainLaunch.expires_at > now)
                           .order_by(BargainLaunch.id.desc())))


def counted_cuts(db: Session, launch_id: int) -> list[tuple[int, datetime]]:
    """The cuts that landed, in the schedule's order: (fen, when)."""
    return [(fen, as_utc(at)) for fen, at in db.execute(
        select(BargainHelp.amount_fen, BargainHelp.created_at)
        .where(BargainHelp.launch_id == launch_id, BargainHelp.state == "counted")
        .order_by(BargainHelp.seq))]


# ---- starting a launch ------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    launch_id: int
    code: str
    new: bool  # False: the customer's live launch in this campaign, shown again


def start(storage: Storage, campaign_id: int, openid: str, now: datetime) -> Started:
    """Start the customer's launch in a campaign (or return the one still going); then ask
    WeChat for its QR code. Raises BargainRefused."""
    try:
        started = _start(storage, campaign_id, openid, now)
    except OperationalError:
        raise BargainRefused("busy", "现在发起的人太多了，请过几秒再发「发起砍价」。") from None
    if started.new:
        attach_qr(storage, started.launch_id, now)
        _sync(storage, started.launch_id, now)
    return started


def _start(storage: Storage, campaign_id: int, openid: str, now: datetime) -> Started:
    with storage.sessions.begin() as db:
        campaign = db.get(BargainCampaign, campaign_id)
        if campaign is None or not campaign.is_open(now):
            raise BargainRefused("closed",
                                 "这个砍价活动现在没有进行。回复「砍价」看看正在进行的活动。")
        mine = list(db.scalars(select(BargainLaunch)
                               .where(BargainLaunch.campaign_id == campaign_id,
                                      BargainLaunch.openid == openid)
                               .order_by(BargainLaunch.ordinal)))
        live = next((launch for launch in mine if launch.state in ("open", "completed", "ordered")
                     and as_utc(launch.expires_at) > now), None)
        if live is not None:
            return Started(live.id, live.code, new=False)
        if len(mine) >= campaign.launches_per_customer:
            raise BargainRefused("launch_cap", f"每人最多发起{campaign.launches_per_customer}次，"
                                               "你的次数已经用完了。")
        sku = db.get(Sku, campaign.sku_id)
        if sku is None or sku.price_fen - campaign.floor_fen < campaign.cuts_for():
            raise BargainRefused("closed", "这个砍价活动暂时不能发起，请稍后再试。")
        if sku.stock < 1:
            raise BargainRefused("soldout", "这件商品已经卖完了，暂时不能发起砍价。")
        reserved = False
        if campaign.reserve_at_launch:
            _take_unit(db, campaign)
            reserved = True
        elif campaign.sold_out:
            raise BargainRefused("soldout", "这个砍价活动的名额已经抢完了。")
        seed = new_seed()
        cuts = draw_schedule(sku.price_fen - campaign.floor_fen, campaign.cuts_for(),
                             campaign.front_loading, seed)
        launch = BargainLaunch(
            campaign_id=campaign.id, openid=openid, ordinal=len(mine) + 1, code=new_code(),
            start_fen=sku.price_fen, floor_fen=campaign.floor_fen, schedule=json.dumps(cuts),
            seed=seed, cuts_total=len(cuts), cuts_done=0, cut_fen=0, state="open",
            reserved=reserved, created_at=now,
            expires_at=min(now + timedelta(hours=campaign.hours_per_launch),
                           as_utc(campaign.ends_at)))
        db.add(launch)
        try:
            db.flush()  # the ordinal's unique constraint: a second 砍价 at the same moment
        except IntegrityError:
            raise BargainRefused("busy", "正在为你发起砍价，请稍等几秒再发「砍价」。") from None
        if campaign.starter_cuts:
            _count(db, launch, cuts[0], now, check=False)
            db.add(_new_help(launch, openid, 0, cuts[0], "starter", f"starter:{launch.id}",
                             None, now))
        return Started(launch.id, launch.code, new=True)


def take_quota(db: Session, campaign_id: int) -> bool:
    """One unit of the campaign's stock quota, by a conditional UPDATE (never past it)."""
    return db.execute(update(BargainCampaign)
                      .where(BargainCampaign.id == campaign_id,
                             BargainCampaign.units_used < BargainCampaign.stock_quota)
                      .values(units_used=BargainCampaign.units_used + 1)
                      .execution_options(synchronize_session=False)).rowcount == 1


def return_quota(db: Session, campaign_id: int) -> None:
    db.execute(update(BargainCampaign)
               .where(BargainCampaign.id == campaign_id, BargainCampaign.units_used > 0)
               .values(units_used=BargainCampaign.units_used - 1)
               .execution_options(synchronize_session=False))


def _take_unit(db: Session, campaign: BargainCampaign) -> None:
    """One unit of the campaign's quota and of the SKU's stock, or BargainRefused."""
    if not take_quota(db, campaign.id):
        raise BargainRefused("soldout", "这个砍价活动的名额已经抢完了。")
    stock = db.execute(update(Sku).where(Sku.id == campaign.sku_id, Sku.stock >= 1)
                       .values(stock=Sku.stock - 1)
                       .execution_options(synchronize_session=False)).rowcount
    if stock != 1:
        raise BargainRefused("soldout", "这件商品已经卖完了。")


def give_unit_back(db: Session, launch: BargainLaunch) -> None:
    """A launch's reserved unit goes back to the SKU and the campaign's quota (once)."""
    moved = db.execute(update(BargainLaunch)
                       .where(BargainLaunch.id == launch.id, BargainLaunch.reserved.is_(True))
                       .values(reserved=False)
                       .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        return
    campaign = db.get(BargainCampaign, launch.campaign_id)
    db.execute(update(Sku).where(Sku.id == campaign.sku_id).values(stock=Sku.stock + 1)
               .execution_options(synchronize_session=False))
    return_quota(db, campaign.id)


def attach_qr(storage: Storage, launch_id: int, now: datetime) -> None:
    """The launch's QR code (scene bargain:<id>), asked of WeChat once it is started, and
    again when the invitation is shown without one (a failed call is not for ever); without
    it the code and the page still work."""
    api = storage.wechat
    if api is None:
        return
    with storage.sessions() as db:
        launch = db.get(BargainLaunch, launch_id)
        if launch is None or launch.qr_url or launch.state != "open":
            return
        seconds = int((as_utc(launch.expires_at) - now).total_seconds()) + 3600
    try:
        answer = api.create_qrcode(scene_for(launch_id),
                                   expire_seconds=max(60, min(QR_MAX_SECONDS, seconds)))
    except Exception as error:  # the invitation still has its code and its page
        log.warning("bargain launch %s: no QR code (%s)", launch_id, type(error).__name__)
        return
    url = str(answer.get("url") or "")[:300]
    if url:
        try:
            with storage.sessions.begin() as db:
                db.execute(update(BargainLaunch).where(BargainLaunch.id == launch_id)
                           .values(qr_url=url).execution_options(synchronize_session=False))
        except OperationalError:  # asked again when the invitation is next shown
            log.info("bargain launch %s: QR code not stored (database busy)", launch_id)


# ---- helping ------------------------------------------------------------------------------------


def help_cut(storage: Storage, ref: int | str, helper: str, *, source: str, key: str,
             now: datetime | None = None) -> HelpOutcome:
    """`helper` cuts the launch `ref` (id or code) once. Raises BargainRefused with the
    customer's answer; nothing changes then."""
    now = now or datetime.now(UTC)
    try:
        return _help_cut(storage, ref, helper, source=source, key=key, now=now)
    except OperationalError:  # the database too busy to even read: ask again, change nothing
        raise refused("busy") from None


def _help_cut(storage: Storage, ref: int | str, helper: str, *, source: str, key: str,
              now: datetime) -> HelpOutcome:
    config = storage.settings
    with storage.sessions() as db:
        launch = find(db, ref)
        if launch is None:
            raise refused("unknown")
        # One help per request, whoever sent the same request key on another launch.
        key = "h:" + hashlib.sha1(f"{launch.id}:{helper}:{key}".encode()).hexdigest()
        if (earlier := _by_key(db, key, helper)) is not None:
            return earlier
        campaign = db.get(BargainCampaign, launch.campaign_id)
        _check_can_help(db, launch, campaign, helper, now)
        risk = bargain_risk.score(db, launch, helper, now)
        if risk.score >= setting(config, "BARGAIN_RISK_HOLD"):
            held = True
        else:
            held = False
            # Read now, with the rest: the cut's write transaction stays short (_commit_cut).
            product = product_name(db, campaign)
        limits = bargain_gate.Limits(campaign.helps_per_day, campaign.helps_per_campaign,
                                     setting(config, "BARGAIN_HELPER_PER_10MIN"),
                                     setting(config, "BARGAIN_LAUNCH_PER_MINUTE"))
    if held:
        return _hold(storage, launch.id, helper, source, key, risk, now)
    return _cut(storage, launch, helper, source, key, risk, limits, now, product)


def _by_key(db: Session, key: str, helper: str) -> HelpOutcome | None:
    help_ = db.scalar(select(BargainHelp).where(BargainHelp.key == key))
    if help_ is None or help_.openid != helper or help_.state not in ("counted", "held"):
        return None
    return _outcome(db, help_, completed=False, repeated=True)


def _check_can_help(db: Session, launch: BargainLaunch, campaign: BargainCampaign,
                    helper: str, now: datetime) -> None:
    if helper == launch.openid:
        raise refused("self")
    earlier = db.scalar(select(BargainHelp).where(BargainHelp.launch_id == launch.id,
                                                  BargainHelp.openid == helper))
    if earlier is not None:
        raise refused("held" if earlier.state == "held" else "again")
    if launch.state != "open":
        raise refused(_why_over(launch.state, launch.cuts_done, launch.cuts_total))
    if now >= as_utc(launch.expires_at):
        raise refused("expired")
    if campaign.state == "paused":
        raise refused("paused")
    if campaign.state != "on":
        raise refused("ended")
    if not launch.reserved and campaign.sold_out:
        raise refused("soldout")  # the starter could not buy at the floor
    if campaign.new_customers_only:
        paid = db.scalar(select(Customer.paid_orders).where(Customer.openid == helper))
        if paid:
            raise refused("not_new")
    _check_caps_in_sql(db, campaign, helper, now)


def _check_caps_in_sql(db: Session, campaign: BargainCampaign, helper: str,
                       now: datetime) -> None:
    """The caps again from SQL: Redis's counters are gone after a restart without data."""
    today = datetime.combine(as_utc(now).astimezone(SHANGHAI).date(), datetime.min.time(),
                             SHANGHAI).astimezone(UTC)
    in_campaign, on_day = db.execute(
        select(func.count(), func.count().filter(BargainHelp.created_at >= today))
        .where(BargainHelp.openid == helper, BargainHelp.campaign_id == campaign.id,
               BargainHelp.source != "starter",
               BargainHelp.state.in_(("counted", "held")))).one()
    if in_campaign >= campaign.helps_per_campaign:
        raise refused("campaign_cap")
    if on_day >= campaign.helps_per_day:
        raise refused("day_cap")


def _hold(storage: Storage, launch_id: int, helper: str, source: str, key: str,
          risk: bargain_risk.Risk, now: datetime) -> HelpOutcome:
    """A risky help: recorded (so the helper cannot try again) but not counted."""
    try:
        with storage.sessions.begin() as db:
            launch = db.get(BargainLaunch, launch_id)
            help_ = BargainHelp(launch_id=launch_id, campaign_id=launch.campaign_id,
                                openid=helper, seq=None, amount_fen=0, state="held",
                                source=source, key=key, risk=risk.score,
                                reasons=risk.text()[:200], new_customer=risk.new_customer,
                                created_at=now)
            db.add(help_)
            db.flush()
            return _outcome(db, help_, completed=False)
    except IntegrityError:
        return _after_conflict(storage, launch_id, helper, key)
    except OperationalError:
        raise refused("busy") from None


def _cut(storage: Storage, launch: BargainLaunch, helper: str, source: str, key: str,
         risk: bargain_risk.Risk | None, limits: bargain_gate.Limits, now: datetime,
         product: str) -> HelpOutcome:
    """The gate gives a cut, SQL records it; `launch` as read before (detached)."""
    client, day = storage.redis, shanghai_day(now)
    launch_id, campaign_id = launch.id, launch.campaign_id
    for _ in range(TRIES):
        token = bargain_gate.new_token()
        try:
            answer, position, fen = bargain_gate.cut(client, launch_id, campaign_id, helper,
                                                     token, now, day, limits)
        except redis.RedisError:
            log.warning("bargain launch %s: Redis unreachable, cutting through SQL", launch_id)
            return _cut_in_sql(storage, launch_id, helper, source, key, risk, now)
        if answer in ("missing", "stale"):  # unknown to Redis, or a dead process's cut
            _sync(storage, launch_id, now)
            continue
        if answer in ("complete", "closed", "again", "expired"):
            if (known := _as_sql_has_it(storage, launch_id, helper, key, now)) is not None:
                return known
            _sync(storage, launch_id, now)  # SQL says go on: Redis was stale
            continue
        if answer != "ok":
            raise refused(answer)
        try:
            outcome = _commit_cut(storage, launch, helper, position, fen, source, key, risk,
                                  now, product)
        except _Conflict as conflict:
            _release(client, launch_id, campaign_id, helper, token, day,
                     keep_helper=conflict.helper_recorded, drop_cut=conflict.position_taken)
            if conflict.helper_recorded or conflict.code:
                return _after_conflict(storage, launch_id, helper, key,
                                       fallback=conflict.code or "again")
            _sync(storage, launch_id, now)  # the position was taken: Redis was stale
            continue
        except OperationalError as error:  # the database too busy (SQLite's lock wait ran out)
            _release(client, launch_id, campaign_id, helper, token, day, keep_helper=False)
            log.warning("bargain launch %s: cut not recorded (%s); the helper is asked to "
                        "try again", launch_id, type(error.orig).__name__)
            raise refused("busy") from None
        except BaseException:
            _release(client, launch_id, campaign_id, helper, token, day, keep_helper=False)
            raise
        with contextlib.suppress(redis.RedisError):  # the next sync drops the entry
            bargain_gate.confirm(client, launch_id, token)
        return outcome
    raise refused("busy")


def _release(client: redis.Redis, launch_id: int, campaign_id: int, helper: str, token: str,
             day: str, *, keep_helper: bool, drop_cut: bool = False) -> None:
    with contextlib.suppress(redis.RedisError):  # the next sync rebuilds it from SQL
        bargain_gate.release(client, launch_id, campaign_id, helper, token, day,
                             keep_helper=keep_helper, drop_cut=drop_cut)


class _Conflict(Exception):
    """SQL refused the cut Redis gave: the helper already has a help (helper_recorded), the
    launch is over (code), or the position was taken (neither: Redis was stale)."""

    def __init__(self, helper_recorded: bool = False, code: str = "",
                 position_taken: bool = False):
        super().__init__(code)
        self.helper_recorded = helper_recorded
        self.code = code
        self.position_taken = position_taken


def _commit_cut(storage: Storage, launch: BargainLaunch, helper: str, position: int,
                fen: int, source: str, key: str, risk: bargain_risk.Risk | None, now: datetime,
                product: str) -> HelpOutcome:
    """Record the cut Redis gave. What the reply needs was read before: on SQLite this
    transaction holds the database's one write lock, so it is the counters' UPDATE, the
    help's INSERT and the notice (decided after the UPDATE, which orders the launch's cuts:
    two cuts at once cannot both see the starter's message quota unused)."""
    cuts = launch.cuts()
    if not 0 <= position < len(cuts) or cuts[position] != fen:
        raise _Conflict()  # Redis held another schedule: rebuild it
    try:
        with storage.sessions.begin() as db:
            return _apply(db, launch, helper, position, fen, source, key, risk, now, product)
    except IntegrityError:
        with storage.sessions() as db:
            mine = db.scalar(select(BargainHelp.id).where(BargainHelp.launch_id == launch.id,
                                                          BargainHelp.openid == helper))
            by_key = db.scalar(select(BargainHelp.id).where(BargainHelp.key == key))
            taken = db.scalar(select(BargainHelp.id).where(BargainHelp.launch_id == launch.id,
                                                           BargainHelp.seq == position))
        raise _Conflict(helper_recorded=mine is not None or by_key is not None,
                        position_taken=taken is not None) from None


def _count(db: Session, launch: BargainLaunch, fen: int, now: datetime, *,
           check: bool = True) -> bool:
    """Move the launch's counters by one cut, in one UPDATE that also completes it on the
    last cut; the launch object (attached or not) follows. Raises _Conflict when the launch is over
    (`check`: open, a cut left, not expired). Returns whether this cut completed it."""
    last = BargainLaunch.cuts_done + 1 == BargainLaunch.cuts_total
    buy_by = now + BUY_WINDOW
    statement = (update(BargainLaunch).where(BargainLaunch.id == launch.id)
                 .values(cuts_done=BargainLaunch.cuts_done + 1,
                         cut_fen=BargainLaunch.cut_fen + fen,
                         state=case((last, "completed"), else_=BargainLaunch.state),
                         completed_at=case((last, now), else_=BargainLaunch.completed_at),
                         expires_at=case((last & (BargainLaunch.expires_at < buy_by), buy_by),
                                         else_=BargainLaunch.expires_at))
                 .returning(BargainLaunch.cuts_done, BargainLaunch.cut_fen,
                            BargainLaunch.expires_at)
                 .execution_options(synchronize_session=False))
    if check:
        statement = statement.where(BargainLaunch.state == "open",
                                    BargainLaunch.cuts_done < BargainLaunch.cuts_total,
                                    BargainLaunch.expires_at > now)
    row = db.execute(statement).first()
    if row is None:
        state, done = db.execute(select(BargainLaunch.state, BargainLaunch.cuts_done)
                                 .where(BargainLaunch.id == launch.id)).one()
        raise _Conflict(code=_why_over(state, done, launch.cuts_total))
    done, cut_fen, expires_at = row
    completed = done == launch.cuts_total
    set_committed_value(launch, "cuts_done", done)
    set_committed_value(launch, "cut_fen", cut_fen)
    if completed:
        set_committed_value(launch, "state", "completed")
        set_committed_value(launch, "completed_at", now)
        set_committed_value(launch, "expires_at", as_utc(expires_at))
    return completed


def _why_over(state: str, done: int, total: int) -> str:
    """The refusal code for a launch that takes no more cuts."""
    if state == "ordered" and done < total:
        return "ordered"
    if state in ("completed", "ordered") or done >= total:
        return "complete"
    return "expired"


def _apply(db: Session, launch: BargainLaunch, helper: str, position: int, fen: int,
           source: str, key: str, risk: bargain_risk.Risk | None, now: datetime,
           product: str) -> HelpOutcome:
    """Count one cut in the caller's transaction; _Conflict when the launch is over."""
    completed = _count(db, launch, fen, now)
    help_ = _new_help(launch, helper, position, fen, source, key, risk, now)
    db.add(help_)
    db.flush()
    notice_plan = bargain_notices.plan(db, launch, product, now)
    bargain_notices.after_cut(db, launch, help_.id, source, completed, notice_plan, now)
    return _outcome_of(launch, "counted", fen, product, completed)


def _new_help(launch: BargainLaunch, helper: str, position: int, fen: int, source: str,
              key: str, risk: bargain_risk.Risk | None, now: datetime) -> BargainHelp:
    return BargainHelp(launch_id=launch.id, campaign_id=launch.campaign_id, openid=helper,
                       seq=position, amount_fen=fen, state="counted", source=source, key=key,
                       risk=risk.score if risk else 0,
                       reasons=risk.text()[:200] if risk else "",
                       new_customer=bool(risk and risk.new_customer), created_at=now)


def _free_position(db: Session, launch_id: int) -> tuple[BargainLaunch, int, int]:
    """The first position SQL has not recorded, read under the launch row's lock (an UPDATE
    that changes nothing takes it), so no other SQL-side cut can take it meanwhile. A cut
    given by Redis for the same position loses on the unique (launch, position) instead."""
    db.execute(update(BargainLaunch).where(BargainLaunch.id == launch_id)
               .values(cuts_done=BargainLaunch.cuts_done)
               .execution_options(synchronize_session=False))
    launch = db.get(BargainLaunch, launch_id)
    db.refresh(launch)
    used = set(db.scalars(select(BargainHelp.seq).where(BargainHelp.launch_id == launch_id,
                                                        BargainHelp.seq.is_not(None))))
    free = [p for p in range(launch.cuts_total) if p not in used]
    if not free:
        raise _Conflict(code="complete")
    return launch, free[0], launch.cuts()[free[0]]


def _cut_in_sql(storage: Storage, launch_id: int, helper: str, source: str, key: str,
                risk: bargain_risk.Risk | None, now: datetime) -> HelpOutcome:
    """Redis is down: the cut is taken in SQL alone (slower, as exact)."""
    for _ in range(TRIES):
        try:
            with storage.sessions() as db:
                product = product_name(db, db.get(BargainLaunch, launch_id).campaign)
            with storage.sessions.begin() as db:
                campaign_state = db.get(BargainLaunch, launch_id).campaign.state
                if campaign_state != "on":
                    raise _Conflict(code="paused" if campaign_state == "paused" else "ended")
                launch, position, fen = _free_position(db, launch_id)
                return _apply(db, launch, helper, position, fen, source, key, risk, now,
                              product)
        except _Conflict as conflict:
            return _after_conflict(storage, launch_id, helper, key,
                                   fallback=conflict.code or "busy")
        except IntegrityError:
            with storage.sessions() as db:
                if db.scalar(select(BargainHelp.id).where(BargainHelp.launch_id == launch_id,
                                                          BargainHelp.openid == helper)):
                    return _after_conflict(storage, launch_id, helper, key)
        except OperationalError:
            raise refused("busy") from None
    raise refused("busy")


def _as_sql_has_it(storage: Storage, launch_id: int, helper: str, key: str,
                   now: datetime) -> HelpOutcome | None:
    """Redis said no: SQL's reason (raised), the helper's own earlier help (returned), or
    None when SQL would take the cut (Redis was stale)."""
    with storage.sessions() as db:
        help_ = db.scalar(select(BargainHelp).where(BargainHelp.launch_id == launch_id,
                                                    BargainHelp.openid == helper))
        if help_ is not None:
            if help_.key == key:
                return _outcome(db, help_, completed=False, repeated=True)
            raise refused("held" if help_.state == "held" else "again")
        launch = db.get(BargainLaunch, launch_id)
        if launch.state in ("completed", "ordered") or launch.cuts_done >= launch.cuts_total:
            raise refused("complete")
        if launch.state != "open" or now >= as_utc(launch.expires_at):
            raise refused("expired")
    return None


def _after_conflict(storage: Storage, launch_id: int, helper: str, key: str, *,
                    fallback: str = "again") -> HelpOutcome:
    """SQL already has this helper's help: the same request again answers as before;
    otherwise say why nothing happened (`fallback`)."""
    with storage.sessions() as db:
        help_ = db.scalar(select(BargainHelp).where(BargainHelp.launch_id == launch_id,
                                                    BargainHelp.openid == helper))
        if help_ is not None and help_.key == key:
            return _outcome(db, help_, completed=False, repeated=True)
        if help_ is not None:
            raise refused("held" if help_.state == "held" else "again")
    raise refused(fallback)


def _outcome(db: Session, help_: BargainHelp, *, completed: bool,
             repeated: bool = False) -> HelpOutcome:
    launch = db.get(BargainLaunch, help_.launch_id)
    db.refresh(launch)
    return _outcome_of(launch, help_.state, help_.amount_fen,
                       product_name(db, launch.campaign), completed, repeated=repeated)


def _outcome_of(launch: BargainLaunch, state: str, amount_fen: int, product: str,
                completed: bool, *, repeated: bool = False) -> HelpOutcome:
    return HelpOutcome(state=state, launch_id=launch.id, starter=launch.openid, product=product,
                       amount_fen=amount_fen, price_fen=launch.price_fen,
                       floor_fen=launch.floor_fen, left_fen=launch.left_fen,
                       helpers_left=launch.helpers_left, completed=completed,
                       repeated=repeated)


# ---- reviews ------------------------------------------------------------------------------------


def approve(storage: Storage, help_id: int, actor: str, now: datetime | None = None
            ) -> HelpOutcome:
    """A reviewer lets a held help count: it takes the first free cut now. Raises
    BargainRefused when it can no longer count (the launch completed or expired meanwhile,
    the campaign stopped): the help is then rejected with that reason.

    Taken in SQL under the launch row's lock, not through the gate: approvals are rare, and a
    Redis cut racing for the same position loses on the unique (launch, position) and
    retries. Redis is synced afterwards."""
    now = now or datetime.now(UTC)
    with storage.sessions() as db:
        help_ = db.get(BargainHelp, help_id)
        if help_ is None or help_.state != "held":
            raise BargainRefused("decided", "这条帮砍已经处理过了。")
        launch_id = help_.launch_id
    try:
        for _ in range(TRIES):
            try:
                with storage.sessions.begin() as db:
                    claimed = db.execute(
                        update(BargainHelp)
                        .where(BargainHelp.id == help_id, BargainHelp.state == "held")
                        .values(state="counting", decided_at=now, decided_by=actor[:64])
                        .execution_options(synchronize_session=False)).rowcount
                    if claimed != 1:
                        raise BargainRefused("decided", "这条帮砍已经处理过了。")
                    launch = db.get(BargainLaunch, launch_id)
                    if launch.state != "open" or now >= as_utc(launch.expires_at):
                        raise _Conflict(code="complete" if launch.state in
                                        ("completed", "ordered") else "expired")
                    launch, position, fen = _free_position(db, launch_id)
                    outcome = _apply_approved(db, launch, help_id, position, fen, now)
                break
            except IntegrityError:
                continue  # a Redis cut took the position first: read again
        else:
            raise refused("busy")
    except _Conflict as conflict:
        if conflict.code == "paused":  # a pause passes: the help waits, still held
            raise BargainRefused("paused", "活动暂停中，恢复后再审核这条帮砍。") from None
        reason = ANSWERS.get(conflict.code or "busy", "")
        reject(storage, help_id, actor, now, reason=reason)
        raise refused(conflict.code or "busy") from None
    _sync(storage, launch_id, now)
    return outcome


def _apply_approved(db: Session, launch: BargainLaunch, help_id: int, position: int,
                    fen: int, now: datetime) -> HelpOutcome:
    campaign = db.get(BargainCampaign, launch.campaign_id)
    if campaign.state != "on":
        raise _Conflict(code="paused" if campaign.state == "paused" else "ended")
    completed = _count(db, launch, fen, now)
    db.execute(update(BargainHelp).where(BargainHelp.id == help_id)
               .values(state="counted", seq=position, amount_fen=fen)
               .execution_options(synchronize_session=False))
    product = product_name(db, campaign)
    notice_plan = bargain_notices.plan(db, launch, product, now)
    bargain_notices.after_cut(db, launch, help_id, "review", completed, notice_plan, now)
    return _outcome_of(launch, "counted", fen, product, completed)


def reject(storage: Storage, help_id: int, actor: str, now: datetime | None = None, *,
           reason: str = "", from_state: str = "held") -> None:
    """A reviewer refuses a held help: it never counts (the helper still cannot retry)."""
    now = now or datetime.now(UTC)
    with storage.sessions.begin() as db:
        moved = db.execute(update(BargainHelp)
                           .where(BargainHelp.id == help_id,
                                  BargainHelp.state.in_((from_state, "counting")))
                           .values(state="rejected", decided_at=now, decided_by=actor[:64],
                                   reasons=func.substr(BargainHelp.reasons + " / " + reason,
                                                       1, 200) if reason
                                   else BargainHelp.reasons)
                           .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise BargainRefused("decided", "这条帮砍已经处理过了。")


# ---- Redis and SQL agree ---------------------------------------------------------------------


def snapshot(db: Session, launch_id: int, *, without: str = "") -> bargain_gate.Snapshot | None:
    launch = db.get(BargainLaunch, launch_id)
    if launch is None:
        return None
    used, helpers = set(), set()
    for openid, seq in db.execute(select(BargainHelp.openid, BargainHelp.seq)
                                  .where(BargainHelp.launch_id == launch_id)):
        if openid != without:
            helpers.add(openid)
        if seq is not None:
            used.add(seq)
    cuts = launch.cuts()
    free = tuple((p, cuts[p]) for p in range(launch.cuts_total) if p not in used)
    return bargain_gate.Snapshot(expires=as_utc(launch.expires_at),
                                 open=launch.state == "open", free=free,
                                 helpers=frozenset(helpers))


def _sync(storage: Storage, launch_id: int, now: datetime, *, without: str = ""
          ) -> tuple[int, int] | None:
    try:
        since = bargain_gate.server_ms(storage.redis)  # before the snapshot: see SYNC
        with storage.sessions() as db:
            snap = snapshot(db, launch_id, without=without)
        if snap is None:
            return None
        return bargain_gate.sync(storage.redis, launch_id, snap, since, now)
    except (redis.RedisError, OperationalError):
        return None  # Redis down, or SQL too busy: the next try or the job does it


def sync_launch(storage: Storage, launch_id: int, now: datetime | None = None) -> None:
    """Redis learns a launch's state from SQL (after an order placed or cancelled)."""
    _sync(storage, launch_id, now or datetime.now(UTC))


def reconcile_all(storage: Storage, now: datetime | None = None) -> dict[int, tuple[int, int]]:
    """Job: launches whose Redis keys need SQL's word rebuilt — unknown to Redis while open,
    holding the cut of a dead process, or open in Redis but not in SQL (bought before the
    floor, expired, cancelled back). A cheap probe first: a sync of a busy launch is safe,
    but not free."""
    now = now or datetime.now(UTC)
    with storage.sessions() as db:
        rows = list(db.execute(select(BargainLaunch.id, BargainLaunch.state)
                               .where(BargainLaunch.state.in_(("open", "completed", "ordered")),
                                      BargainLaunch.expires_at > now)
                               .order_by(BargainLaunch.id)))
    done = {}
    for launch_id, state in rows:
        try:
            found, redis_open = bargain_gate.probe(storage.redis, launch_id)
        except redis.RedisError:
            return done  # down: nothing to reconcile with
        if found == -1 and state != "open":
            continue  # Redis does not know it, and needs not: it takes no cuts
        if found == 0 and redis_open == (state == "open"):
            continue
        result = _sync(storage, launch_id, now)
        if result is None:
            continue
        if result[1]:
            log.warning("bargain launch %s: %d cuts of a dead process given back",
                        launch_id, result[1])
        done[launch_id] = result
    return done
