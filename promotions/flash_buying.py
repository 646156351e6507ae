"""抢: a flash-sale purchase from the Redis gate to the order in SQL, and back on a cancel.

Its own module because this is the hot path of a session's opening seconds, with a truth of
its own to keep: sessions are defined in flash.py, this module only takes and gives back
their units, and keeps the gate's counters in Redis agreeing with SQL.

A purchase is admitted by the Redis gate (promotions/flash_gate.py), then `buy` places the
order in SQL, which re-checks everything and is the truth:
`UPDATE flash_items SET sold = sold + q WHERE sold + q <= stock AND returned IS NULL` takes the
units, and holds the item's row lock until commit, so the per-customer count read right after
it sees every purchase committed before (SQLite serialises writers; PostgreSQL's READ
COMMITTED gives the statement after the lock a fresh snapshot). A cancelled flash order
(unpaid in time, or cancelled by the customer or the shop) gives its units back to the
session through the shop's order listener (`give_back`) — or to the SKU once the session is
settled — in the cancellation's own transaction; Redis learns of it at the next
reconciliation.

Domain code: no Flask.
"""

from __future__ import annotations

import json
import logging
import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.storage import Storage
from promotions import coupons, flash_gate
from promotions.flash import FlashItem, FlashPurchase, FlashRefused, FlashSession, upcoming
from shop import addresses, checkout, orders
from shop.catalog import Sku
from shop.orders import Order, OrderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    """The session 抢 N refers to, as the hot path needs it: cached in Redis for a moment so
    the opening seconds' thousands of attempts cost no SQL until the gate admits them."""

    session_id: int
    starts_at: datetime
    ends_at: datetime
    items: tuple[tuple[int, int, str], ...]  # (item id, limit, name) in the chat's order

    def is_on(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


LISTING_KEY = "flash:listing"
LISTING_TTL_MS = 2000


def listing(sessions: Any, client: Any, now: datetime) -> Listing | None:
    """The session on now or next (see `upcoming`), from the cache or SQL. A cached one that
    has ended (or was cached at a later time: a test's clock) is read again; the gate checks
    the times itself anyway."""
    raw = client.get(LISTING_KEY)
    if raw:
        data = json.loads(raw)
        found = Listing(data["id"], datetime.fromisoformat(data["starts"]),
                        datetime.fromisoformat(data["ends"]),
                        tuple(tuple(item) for item in data["items"]))
        if data["at"] <= now.isoformat() and now < found.ends_at:
            return found
    with sessions() as db:
        session = upcoming(db, now)
        if session is None:
            return None
        found = Listing(session.id, as_utc(session.starts_at), as_utc(session.ends_at),
                        tuple((item.id, item.limit_per_customer,
                               f"{item.sku.product.name}（{item.sku.variant}）")
                              for item in session.items))
    client.set(LISTING_KEY, json.dumps({
        "id": found.session_id, "starts": found.starts_at.isoformat(),
        "ends": found.ends_at.isoformat(), "items": found.items, "at": now.isoformat()},
        ensure_ascii=False), px=LISTING_TTL_MS)
    return found


def forget_listing(client: Any) -> None:
    """The manager changed a session: the chat reads it again."""
    client.delete(LISTING_KEY)


# ---- buying ------------------------------------------------------------------------------


def held_by(db: Session, item_id: int, openid: str) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(FlashPurchase.quantity), 0))
                         .where(FlashPurchase.item_id == item_id,
                                FlashPurchase.openid == openid,
                                FlashPurchase.state == "active")) or 0)


def held_orders(db: Session, item_id: int, openid: str) -> list[Order]:
    """The orders behind the customer's active purchases of an item, oldest first: the chat
    words 限购 by their state (waiting for payment or paid), not by a guess."""
    return list(db.scalars(select(Order).join(FlashPurchase, FlashPurchase.order_id == Order.id)
                           .where(FlashPurchase.item_id == item_id,
                                  FlashPurchase.openid == openid,
                                  FlashPurchase.state == "active")
                           .order_by(Order.id)))


def buy(db: Session, item_id: int, openid: str, quantity: int, token: str, *,
        address: dict[str, Any] | None, now: datetime, payment_minutes: int) -> Order:
    """Place the order of an admitted purchase; raises FlashRefused (roll back, and give the
    admission back) when SQL says no."""
    item = db.get(FlashItem, item_id)
    session = item.session if item else None
    if item is None or session is None or session.state != "open":
        raise FlashRefused("ended")
    if now < as_utc(session.starts_at):
        raise FlashRefused("early")
    if now >= as_utc(session.ends_at):
        raise FlashRefused("ended")
    taken = db.execute(update(FlashItem)
                       .where(FlashItem.id == item_id,
                              FlashItem.sold + quantity <= FlashItem.stock,
                              FlashItem.returned.is_(None))
                       .values(sold=FlashItem.sold + quantity)
                       .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise FlashRefused("soldout")
    # The row lock taken above orders every purchase of this item: this count is current.
    if held_by(db, item_id, openid) + quantity > item.limit_per_customer:
        raise FlashRefused("limit")
    try:
        order = orders.place(db, openid, [(item.sku_id, quantity)], address=address, now=now,
                             payment_minutes=payment_minutes,
                             flash_prices={item.sku_id: (item.id, item.price_fen)})
    except OrderError as error:
        raise FlashRefused("gone", str(error)) from None
    db.add(FlashPurchase(item_id=item_id, openid=openid, quantity=quantity, order_id=order.id,
                         token=token, state="active", created_at=now))
    if session.coupons_allowed:
        _apply_best_coupon(db, order, now)
    db.flush()
    return order


def _apply_best_coupon(db: Session, order: Order, now: datetime) -> None:
    """A session that allows coupons takes the customer's best usable one at once: a flash
    order is placed in one reply, with no read-back to choose at, and a coupon only lowers
    what is paid (coupons.give_back returns it if the order is not paid in time)."""
    usable = coupons.usable(db, order.openid, order.total_fen, now)
    if usable:
        coupons.apply_to_order(db, order, usable[0][0].id, now)


@dataclass(frozen=True)
class Grabbed:
    """A flash order placed: what the chat tells the customer."""

    order_id: int
    number: str
    total_fen: int
    pay_by: datetime
    address_line: str  # "" when the order has no address yet
    coupon_fen: int = 0  # taken off by a coupon, in a session that allows them


LAST_ADDRESS: Any = object()


def grab(sessions: Any, client: Any, item_id: int, openid: str, now: datetime, *,
         payment_minutes: int, address: Any = LAST_ADDRESS, quantity: int = 1) -> Grabbed:
    """抢: the gate admits (or says why not), then SQL places the order; a refusal or a
    failure in SQL gives the admission back. Raises FlashRefused.

    `address`: by default the customer's last one (shop.checkout.last_address), looked up
    only once admitted; None places the order without one (the chat asks for it after)."""
    token = flash_gate.new_token()
    answer = _admit(sessions, client, item_id, openid, quantity, token, now)
    if answer != "ok":
        raise FlashRefused(answer)
    try:
        with sessions.begin() as db:
            if address is LAST_ADDRESS:
                last = checkout.last_address(db, openid)
                address = last.as_dict() if last is not None else None
            order = buy(db, item_id, openid, quantity, token, address=address, now=now,
                        payment_minutes=payment_minutes)
            grabbed = Grabbed(order.id, order.number, order.total_fen, as_utc(order.pay_by),
                              addresses.from_dict(address).one_line() if address else "",
                              order.coupon_fen)
    except BaseException:
        flash_gate.release(client, item_id, token)
        raise
    flash_gate.confirm(client, item_id, token)
    return grabbed


def _admit(sessions: Any, client: Any, item_id: int, openid: str, quantity: int, token: str,
           now: datetime) -> str:
    """The gate's answer; an item Redis does not know yet (first use, Redis restarted) is
    loaded from SQL by one caller while the others wait for it."""
    for _ in range(40):
        answer = flash_gate.admit(client, item_id, openid, quantity, token, now)
        if answer != "missing":
            return answer
        if client.set(f"flash:{{{item_id}}}:loading", "1", nx=True, px=2000):
            reconcile_item(sessions, client, item_id, now)
        else:
            clock.sleep(0.05)
    return "missing"


def give_back(db: Session, order: Order, from_state: str, to_state: str,
               now: datetime) -> None:
    """Shop listener: a cancelled flash order's units go back to their session (or, once
    the session is settled, to the SKU), in the cancellation's transaction."""
    if to_state != "cancelled" or from_state not in ("pending_payment", "paid"):
        return
    for purchase in db.scalars(select(FlashPurchase).where(FlashPurchase.order_id == order.id,
                                                           FlashPurchase.state == "active")):
        moved = db.execute(update(FlashPurchase)
                           .where(FlashPurchase.id == purchase.id,
                                  FlashPurchase.state == "active")
                           .values(state="returned", returned_at=now)
                           .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            continue
        q = purchase.quantity
        to_session = db.execute(update(FlashItem)
                                .where(FlashItem.id == purchase.item_id,
                                       FlashItem.returned.is_(None))
                                .values(sold=FlashItem.sold - q)
                                .execution_options(synchronize_session=False)).rowcount
        if to_session != 1:  # settled: the session is over, the unit goes on regular sale
            item = db.get(FlashItem, purchase.item_id)
            db.execute(update(FlashItem).where(FlashItem.id == item.id)
                       .values(sold=FlashItem.sold - q, returned=FlashItem.returned + q)
                       .execution_options(synchronize_session=False))
            db.execute(update(Sku).where(Sku.id == item.sku_id).values(stock=Sku.stock + q)
                       .execution_options(synchronize_session=False))


# ---- Redis and SQL agree -----------------------------------------------------------------


def snapshot(db: Session, item_id: int) -> flash_gate.Snapshot | None:
    """The item as SQL has it; the purchases are read in one statement, so the tokens and
    the units held come from the same instant."""
    item = db.get(FlashItem, item_id)
    if item is None:
        return None
    tokens, held = set(), {}
    for openid, quantity, token, state in db.execute(
            select(FlashPurchase.openid, FlashPurchase.quantity, FlashPurchase.token,
                   FlashPurchase.state).where(FlashPurchase.item_id == item_id)):
        tokens.add(token)
        if state == "active":
            held[openid] = held.get(openid, 0) + quantity
    session = item.session
    ends = as_utc(session.ends_at) if session.state == "open" else as_utc(session.starts_at)
    return flash_gate.Snapshot(opens=as_utc(session.starts_at), ends=ends,
                               limit=item.limit_per_customer, stock=item.stock,
                               tokens=frozenset(tokens), held=held)


def reconcile_item(sessions: Any, client: Any, item_id: int, now: datetime,
                   tries: int = 5) -> tuple[int, int] | None:
    """Make the gate agree with SQL for one item: (units left, crashed admissions dropped),
    or None when purchases kept confirming during every try (the next run will do)."""
    for _ in range(tries):
        gen = flash_gate.generation(client, item_id)  # before the snapshot: see flash_gate
        with sessions() as db:
            snap = snapshot(db, item_id)
        if snap is None:
            return None
        done = flash_gate.sync(client, item_id, gen, snap, now)
        if done is not None:
            return done
    return None


def live_item_ids(db: Session, now: datetime) -> list[int]:
    """Items the gate must know: of open sessions not ended long ago nor far ahead."""
    return list(db.scalars(
        select(FlashItem.id).join(FlashSession)
        .where(FlashSession.state == "open", FlashSession.ends_at > now - timedelta(hours=1),
               FlashSession.starts_at < now + timedelta(days=2))
        .order_by(FlashItem.id)))


def reconcile_all(storage: Storage, now: datetime | None = None) -> dict[int, tuple[int, int]]:
    """Job: every live item's counters in Redis recomputed from SQL."""
    now = now or datetime.now(UTC)
    with storage.sessions() as db:
        ids = live_item_ids(db, now)
    done = {}
    for item_id in ids:
        result = reconcile_item(storage.sessions, storage.redis, item_id, now)
        if result is None:
            log.info("flash item %s: purchases kept confirming; reconciled next run", item_id)
            continue
        if result[1]:
            log.warning("flash item %s: %d admissions of a dead process given back",
                        item_id, result[1])
        done[item_id] = result
    return done
