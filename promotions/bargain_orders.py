"""Buying at the bargained price, and launches running out of time.

A launch that reached its floor (or, where the campaign allows, one still going) is bought
through the shop's own order: address, read-back, payment, the same payment deadline rules.
The campaign's quota counts units taken: by the launch when the campaign reserves at launch
(that unit is handed to the order), else by the order when it is placed. An unpaid order that
is cancelled gives its unit back and the launch can be bought again until it expires; a paid
order cancelled later gives the unit back, and the launch stays bought.

Expiry is a job (`expire_launches`), so no launch stays open for ever: at `expires_at` (at the
latest the campaign's end, or when the campaign is ended) an open or unbought launch expires,
its reserved unit goes back to the SKU, and the starter is told — as they are some hours
before, once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.money import yuan
from core.storage import Storage
from promotions import bargain_gate, bargain_notices
from promotions.bargain_ledger import give_unit_back, product_name, return_quota, take_quota
from promotions.bargains import BargainCampaign, BargainLaunch, BargainRefused
from shop import orders
from shop.orders import Order, OrderError

log = logging.getLogger(__name__)

#: The expiry warning goes this long before the end (or at half the launch's time if shorter).
WARN_BEFORE = timedelta(hours=3)
#: Launches handled per run of the job (it runs every minute).
BATCH = 500


def buyable(db: Session, launch: BargainLaunch, openid: str, now: datetime) -> None:
    """Raise BargainRefused unless `openid` may order `launch` now."""
    if launch.openid != openid:
        raise BargainRefused("not_yours", "只有发起人可以按砍价下单。")
    if launch.state == "ordered":
        raise BargainRefused("ordered", "这个砍价已经下过单了。回复「我的订单」查看。")
    if launch.state == "expired" or now >= as_utc(launch.expires_at):
        raise BargainRefused("expired", "这个砍价已经过期了。")
    campaign = db.get(BargainCampaign, launch.campaign_id)
    if launch.state == "open" and not campaign.buy_before_floor:
        raise BargainRefused("not_yet", f"还没砍到底价：还差 {yuan(launch.left_fen)}，还需 "
                                        f"{launch.helpers_left} 位好友帮砍。")
    if launch.state == "open" and campaign.state == "ended":
        raise BargainRefused("ended", "这个砍价活动已经结束了。")


def place(db: Session, launch_id: int, openid: str, *, address: dict[str, Any], now: datetime,
          payment_minutes: int, checkout_key: str | None = None) -> Order:
    """The order at the launch's current price (the floor once completed), in the caller's
    transaction. Raises BargainRefused (roll back) with the customer's answer."""
    launch = db.get(BargainLaunch, launch_id)
    if launch is None:
        raise BargainRefused("unknown", "没有找到这个砍价。")
    buyable(db, launch, openid, now)
    campaign = db.get(BargainCampaign, launch.campaign_id)
    moved = db.execute(update(BargainLaunch)
                       .where(BargainLaunch.id == launch.id,
                              BargainLaunch.state.in_(("open", "completed")))
                       .values(state="ordered")
                       .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise BargainRefused("ordered", "这个砍价已经下过单了。回复「我的订单」查看。")
    db.refresh(launch)
    held = launch.reserved
    if not held and not take_quota(db, campaign.id):
        raise BargainRefused("soldout", "这个砍价活动的库存已经发完了，暂时不能下单。")
    try:
        order = orders.place(db, openid, [(campaign.sku_id, 1)], address=address, now=now,
                             payment_minutes=payment_minutes, checkout_key=checkout_key,
                             set_prices={campaign.sku_id: (launch.price_fen, held)})
    except OrderError as error:
        raise BargainRefused("stock", str(error)) from None
    launch.order_id, launch.reserved = order.id, False
    db.flush()
    return order


def on_order_change(db: Session, order: Order, from_state: str, to_state: str,
                    now: datetime) -> None:
    """Shop listener: a cancelled bargain order gives its unit back to the campaign's quota
    (the shop gives the stock back); unpaid, the launch may be bought again until it expires."""
    if to_state != "cancelled":
        return
    launch = db.scalar(select(BargainLaunch).where(BargainLaunch.order_id == order.id))
    if launch is None:
        return
    return_quota(db, launch.campaign_id)
    if from_state != "pending_payment":
        return
    again = "completed" if launch.cuts_done == launch.cuts_total else "open"
    if now >= as_utc(launch.expires_at):
        again = "expired"
    moved = db.execute(update(BargainLaunch)
                       .where(BargainLaunch.id == launch.id, BargainLaunch.state == "ordered")
                       .values(state=again, order_id=None,
                               ended_at=now if again == "expired" else None)
                       .execution_options(synchronize_session=False)).rowcount
    if moved and again == "expired":  # past its time: nothing left to buy, and they are told
        bargain_notices.expired(db, launch, product_name(db, launch.campaign), now)


def expire_launches(storage: Storage, now: datetime | None = None) -> dict[str, int]:
    """Job: warn launches near their end (once: `warned_at`), expire those past it — and the
    open ones of an ended campaign; a launch already at the floor stays buyable until its own
    time. Work is read as a list of ids first, then done in short transactions (a crash loses
    no expiry and repeats none; SQLite's write lock is never held across the whole list)."""
    now = now or datetime.now(UTC)
    counts = {"warned": 0, "expired": 0}
    live = BargainLaunch.state.in_(("open", "completed"))
    with storage.sessions() as db:
        near = list(db.execute(
            select(BargainLaunch.id, BargainLaunch.created_at, BargainLaunch.expires_at)
            .where(live, BargainLaunch.warned_at.is_(None), BargainLaunch.expires_at > now,
                   BargainLaunch.expires_at <= now + WARN_BEFORE).limit(BATCH)))
        due = list(db.scalars(select(BargainLaunch.id)
                              .where(live, BargainLaunch.expires_at <= now).limit(BATCH)))
        due += list(db.scalars(
            select(BargainLaunch.id).join(BargainCampaign)
            .where(BargainLaunch.state == "open", BargainCampaign.state == "ended")
            .limit(BATCH)))
    for launch_id, created_at, expires_at in near:
        length = as_utc(expires_at) - as_utc(created_at)
        if as_utc(expires_at) - now > min(WARN_BEFORE, length / 2):
            continue
        with storage.sessions.begin() as db:
            marked = db.execute(update(BargainLaunch)
                                .where(BargainLaunch.id == launch_id, live,
                                       BargainLaunch.warned_at.is_(None))
                                .values(warned_at=now)
                                .execution_options(synchronize_session=False)).rowcount
            if marked:
                launch = db.get(BargainLaunch, launch_id)
                bargain_notices.expiring(db, launch, product_name(db, launch.campaign), now)
                counts["warned"] += 1
    for launch_id in dict.fromkeys(due):
        with storage.sessions.begin() as db:
            moved = db.execute(update(BargainLaunch)
                               .where(BargainLaunch.id == launch_id, live)
                               .values(state="expired", ended_at=now)
                               .execution_options(synchronize_session=False)).rowcount
            if moved != 1:
                continue
            launch = db.get(BargainLaunch, launch_id)
            give_unit_back(db, launch)
            bargain_notices.expired(db, launch, product_name(db, launch.campaign), now)
        counts["expired"] += 1
        try:
            bargain_gate.forget(storage.redis, [launch_id])
        except Exception:  # the keys expire on their own
            log.info("bargain launch %s: Redis keys left to expire", launch_id)
    return counts
