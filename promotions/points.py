"""Points that pay: a ledger of lots and entries, kept with the orders that move it.

A customer earns one point per whole yuan an order cost them (Order.total_fen, after coupon
and points) when it is paid. Points expire at the end of the year after the one they were
earned in (earned in 2026 → usable until 2027-12-31, Shanghai), so they are kept in one lot per
(customer, year earned); spending takes the oldest live lots first. Every movement is an entry
(earn, spend, return_spent, take_back, expire) naming its order and lot, which is the history
the customer and the console read.

Why lots and conditional UPDATEs: two checkouts of one customer at once must not spend the same
points. Each lot is taken by `UPDATE … SET balance = balance - n WHERE balance >= n`, so the
database decides the race, as it does for stock (shop/orders.py).

Why entries per (order, kind, lot year): a refund returns what the order spent and takes back
what it earned, and must do so once. The order's state change is already exactly once; on top
of that each movement is computed as what is still outstanding for that order (earned minus
taken back, spent minus returned), and the entries are unique per (order, kind, lot year), so
running a movement twice moves nothing the second time.

Why a lot may be negative: a refund takes back all the points its order earned, even those
already spent (else paying ¥10,000, spending the 10,000 points on another order and refunding
the first keeps ¥100). What the lots no longer hold becomes a debt: a negative balance on the
current year's lot, which the next points earned pay first. A debt never expires (the balance
counts negative lots of any year), and spending is allowed only against the sum of the lots,
so a positive old lot cannot be spent while the total is below what is asked.

积分抵现 is a 青铜 benefit (the playbook): `spend` refuses it to an ordinary member.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import SHANGHAI, as_utc
from core.db import Base, upsert
from core.registry import Registry
from shop import members, tiers
from shop.orders import COUNTED_SOLD, Order

log = logging.getLogger(__name__)

PER_YUAN_OFF = 100  # POINTS_PER_YUAN_OFF's default: 100 points take ¥1 off
MAX_SHARE = 50  # POINTS_MAX_SHARE's default: points pay at most half of the goods
KINDS = {"earn": "获得", "spend": "抵现", "return_spent": "退回", "take_back": "扣回",
         "expire": "过期"}
BATCH = 500
#: The tier level from which points may be spent (积分抵现 is a tier benefit).
SPEND_LEVEL = tiers.level_with("积分抵现")


class PointsError(ValueError):
    """Why points cannot be spent; the message is for the customer."""


class PointsLot(Base):
    """What is left of the points a customer earned in one (Shanghai) year."""

    __tablename__ = "points_lots"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PointsEntry(Base):
    """One movement of points, signed (+ earn / return_spent, − spend / take_back / expire)."""

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", "lot_year", name="uq_points_entries_order_kind"),
        Index("ix_points_entries_openid_id", "openid", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    #: None for an expiry, which belongs to no order.
    order_id: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[str] = mapped_column(String(16))
    lot_year: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- rules ---------------------------------------------------------------------------------


def points_for(total_fen: int) -> int:
    """One point per whole yuan of what the customer paid."""
    return max(total_fen, 0) // 100


def year_of(at: datetime) -> int:
    return as_utc(at).astimezone(SHANGHAI).year


def first_live_year(now: datetime) -> int:
    """Lots of this year and later are usable; older ones have expired."""
    return year_of(now) - 1


def expires_on(lot_year: int) -> str:
    return f"{lot_year + 1}-12-31"


def per_yuan_off(config: Mapping[str, Any]) -> int:
    return max(int(config.get("POINTS_PER_YUAN_OFF") or PER_YUAN_OFF), 1)


def value_fen(points: int, config: Mapping[str, Any]) -> int:
    """What `points` take off, in fen (rounded down: a point is never worth more than it says)."""
    return max(points, 0) * 100 // per_yuan_off(config)


def max_usable(balance: int, goods_fen: int, config: Mapping[str, Any]) -> int:
    """The most points one order may use: the balance, but worth at most POINTS_MAX_SHARE
    percent of the goods. Any number of points may be used (no whole-yuan steps)."""
    share = config.get("POINTS_MAX_SHARE")
    share = MAX_SHARE if share is None else min(max(int(share), 0), 100)
    cap_fen = max(goods_fen, 0) * share // 100
    return max(min(balance, cap_fen * per_yuan_off(config) // 100), 0)


# --- reading -------------------------------------------------------------------------------


def _counted(now: datetime) -> Any:
    """The lots a balance sums: the live ones, and a debt whatever its year (a debt is owed
    until earned points pay it; it does not expire the way points do)."""
    return or_(PointsLot.year >= first_live_year(now), PointsLot.balance < 0)


def balance(db: Session, openid: str, now: datetime) -> int:
    """Points usable now (expired lots excluded even before the expiry job has run); negative
    while a refund's take-back is still owed."""
    return db.scalar(select(func.coalesce(func.sum(PointsLot.balance), 0)).where(
        PointsLot.openid == openid, _counted(now))) or 0


def spendable(db: Session, openid: str, now: datetime, *, have: int | None = None) -> int:
    """The balance a checkout may offer (`have`: the balance, when the caller read it
    already): 0 below 青铜, whose benefit 积分抵现 is."""
    level = db.scalar(select(members.Customer.tier_level)
                      .where(members.Customer.openid == openid)) or 0
    if level < SPEND_LEVEL:
        return 0
    return balance(db, openid, now) if have is None else have


def balances(db: Session, openids: list[str], now: datetime) -> dict[str, int]:
    if not openids:
        return {}
    found = {openid: total for openid, total in db.execute(
        select(PointsLot.openid, func.sum(PointsLot.balance))
        .where(PointsLot.openid.in_(set(openids)), _counted(now))
        .group_by(PointsLot.openid))}
    return {openid: int(found.get(openid) or 0) for openid in openids}


def expiring(db: Session, openid: str, now: datetime) -> tuple[int, str]:
    """(points, day) of the balance that expires at the end of this year (0 for a debt,
    which does not expire)."""
    year = first_live_year(now)
    left = db.scalar(select(PointsLot.balance).where(PointsLot.openid == openid,
                                                     PointsLot.year == year)) or 0
    return max(left, 0), expires_on(year)


def history(db: Session, openid: str, limit: int = 20) -> list[PointsEntry]:
    """The customer's entries, newest first."""
    return list(db.scalars(select(PointsEntry).where(PointsEntry.openid == openid)
                           .order_by(PointsEntry.id.desc()).limit(limit)))


def summary(db: Session, openid: str, now: datetime, limit: int = 10) -> members.PointsSummary:
    """What the chat and the console show (shop.members.points_summary reads it)."""
    entries = history(db, openid, limit)
    order_ids = {e.order_id for e in entries if e.order_id}
    numbers = {order_id: number for order_id, number in db.execute(
        select(Order.id, Order.number).where(Order.id.in_(order_ids)))} if order_ids else {}
    left, day = expiring(db, openid, now)
    return members.PointsSummary(
        balance=balance(db, openid, now), expiring=left, expires_on=day,
        recent=tuple(members.PointsLine(e.at, KINDS.get(e.kind, e.kind), e.points,
                                        numbers.get(e.order_id or 0, "")) for e in entries))


def chat_lines(db: Session, openid: str, now: datetime, config: Mapping[str, Any],
               recent: int = 3) -> list[str]:
    """我的会员's points part: balance and its worth, what expires when, the latest entries."""
    facts = summary(db, openid, now, recent)
    level = db.scalar(select(members.Customer.tier_level)
                      .where(members.Customer.openid == openid)) or 0
    rate = f"{per_yuan_off(config)}积分抵¥1" + ("" if level >= SPEND_LEVEL else "，青铜会员起可用")
    lines = [f"积分：{facts.balance}（{members.POINTS_DEBT_NOTE if facts.balance < 0 else rate}）"]
    if facts.expiring:
        lines.append(f"其中{facts.expiring}分将于{facts.expires_on}到期")
    if facts.recent:
        lines.append("最近积分：")
        lines.extend(
            f"{as_utc(line.at).astimezone(SHANGHAI):%m-%d} {line.what} {line.points:+d}"
            + (f"（订单{line.order_number}）" if line.order_number else "")
            for line in facts.recent)
    return lines


# --- moving --------------------------------------------------------------------------------


def spend(db: Session, openid: str, points: int, order_id: int, now: datetime) -> None:
    """Take `points` for order `order_id`, oldest live lots first, all or nothing.

    Raises PointsError (「积分不足，当前 N 分」 …); the caller's transaction must then be rolled
    back (`sessions.begin()` does), as some lots may already have been taken when a concurrent
    spend emptied the next one.
    """
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise PointsError("使用的积分需要是正整数")
    level = db.scalar(select(members.Customer.tier_level)
                      .where(members.Customer.openid == openid)) or 0
    if level < SPEND_LEVEL:
        raise PointsError("积分抵现是青铜及以上会员的权益")
    have = balance(db, openid, now)
    if have < points:
        raise PointsError(f"积分不足，当前 {have} 分")
    if db.scalar(select(PointsEntry.id).where(PointsEntry.order_id == order_id,
                                              PointsEntry.kind == "spend").limit(1)):
        raise PointsError("这笔订单已经使用过积分")
    taken = _take(db, openid, points, now, order_id=order_id, kind="spend")
    after = balance(db, openid, now)
    if taken < points or after < 0:
        # A concurrent spend got there first (each lot's UPDATE holds, but two spends may
        # have read the same sum, or a positive old lot beside a debt): what is left once
        # this one is rolled back.
        raise PointsError(f"积分不足，当前 {after + taken} 分")


def _take(db: Session, openid: str, want: int, now: datetime, *, order_id: int, kind: str,
          prefer: tuple[int, ...] = ()) -> int:
    """Take up to `want` points from live lots (`prefer` years first, then oldest first), each
    by a conditional UPDATE; records one entry per lot. Returns how many were taken."""
    years = list(db.scalars(select(PointsLot.year).where(
        PointsLot.openid == openid, PointsLot.year >= first_live_year(now),
        PointsLot.balance > 0).order_by(PointsLot.year)))
    years = [y for y in prefer if y in years] + [y for y in years if y not in prefer]
    taken = 0
    for year in years:
        for _attempt in range(5):  # a concurrent take changed the lot: read it again
            if taken >= want:
                return taken
            left = db.scalar(select(PointsLot.balance).where(PointsLot.openid == openid,
                                                             PointsLot.year == year)) or 0
            amount = min(left, want - taken)
            if amount <= 0:
                break
            moved = db.execute(
                update(PointsLot)
                .where(PointsLot.openid == openid, PointsLot.year == year,
                       PointsLot.balance >= amount)
                .values(balance=PointsLot.balance - amount, updated_at=now)
                .execution_options(synchronize_session=False)).rowcount
            if moved == 1:
                _record(db, openid, order_id, kind, year, -amount, now)
                taken += amount
                break
    return taken


def _give(db: Session, openid: str, year: int, amount: int, now: datetime) -> None:
    db.execute(
        upsert(db, PointsLot.__table__)
        .values(openid=openid, year=year, balance=amount, updated_at=now)
        .on_conflict_do_update(index_elements=["openid", "year"],
                               set_={"balance": PointsLot.balance + amount, "updated_at": now}))


def _record(db: Session, openid: str, order_id: int | None, kind: str, year: int, points: int,
            now: datetime) -> None:
    """An entry; an order's second movement of one kind on one lot adds to the first (only an
    order paid again after a cancellation moves the same kind twice)."""
    statement = upsert(db, PointsEntry.__table__).values(
        openid=openid, order_id=order_id, kind=kind, lot_year=year, points=points, at=now)
    if order_id is not None:
        statement = statement.on_conflict_do_update(
            index_elements=["order_id", "kind", "lot_year"],
            set_={"points": PointsEntry.points + points, "at": now})
    db.execute(statement)


def _by_year(db: Session, order_id: int, *kinds: str) -> dict[int, int]:
    rows = db.execute(select(PointsEntry.lot_year, func.sum(PointsEntry.points))
                      .where(PointsEntry.order_id == order_id, PointsEntry.kind.in_(kinds))
                      .group_by(PointsEntry.lot_year))
    return {year: int(total or 0) for year, total in rows}


def _earn(db: Session, order: Order, now: datetime) -> None:
    held = sum(_by_year(db, order.id, "earn", "take_back").values())
    give = points_for(order.total_fen) - held
    if give > 0:
        _credit(db, order.openid, order.id, "earn", give, now)


def _credit(db: Session, openid: str, order_id: int, kind: str, amount: int,
            now: datetime) -> None:
    """Give `amount` points, paying any debt of an earlier year first (a debt of this year is
    on the lot the rest goes to, so adding to it pays it). Each older debt is paid by a
    conditional UPDATE that never lifts it above zero; if a concurrent payment got there
    first, the rest simply goes to this year's lot (the sum is the same)."""
    year = year_of(now)
    debts = db.execute(select(PointsLot.year, PointsLot.balance).where(
        PointsLot.openid == openid, PointsLot.year < year, PointsLot.balance < 0)
        .order_by(PointsLot.year))
    for debt_year, debt in list(debts):
        pay = min(amount, -debt)
        if pay <= 0:
            break
        moved = db.execute(
            update(PointsLot)
            .where(PointsLot.openid == openid, PointsLot.year == debt_year,
                   PointsLot.balance <= -pay)
            .values(balance=PointsLot.balance + pay, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if moved == 1:
            _record(db, openid, order_id, kind, debt_year, pay, now)
            amount -= pay
    if amount > 0:
        _give(db, openid, year, amount, now)
        _record(db, openid, order_id, kind, year, amount, now)


def _take_back(db: Session, order: Order, now: datetime) -> None:
    """All the points the order earned and still holds, exactly once: from the live lots,
    oldest first, and what they no longer hold (already spent or expired) as a debt on the
    current year's lot, which the next points earned pay first."""
    owed = sum(_by_year(db, order.id, "earn", "take_back").values())
    if owed <= 0:
        return
    taken = _take(db, order.openid, owed, now, order_id=order.id, kind="take_back")
    if taken < owed:
        year = year_of(now)
        _give(db, order.openid, year, taken - owed, now)
        _record(db, order.openid, order.id, "take_back", year, taken - owed, now)
        log.info("order %s: %s of %s earned points were already spent or expired; owed as "
                 "a negative balance", order.id, owed - taken, owed)


def _return_spent(db: Session, order: Order, now: datetime) -> None:
    """Back to the lots they came from, keeping their expiry (an expired lot's points expire
    again at the next run of the expiry job)."""
    for year, net in _by_year(db, order.id, "spend", "return_spent").items():
        if net < 0:
            _give(db, order.openid, year, -net, now)
            _record(db, order.openid, order.id, "return_spent", year, -net, now)


def _spend_again(db: Session, order: Order, now: datetime) -> None:
    """A cancelled order paid after all (shop/payments.py's last-second payment) was priced
    with the points its cancellation returned: take them again, as far as they are there."""
    returned = _by_year(db, order.id, "return_spent")
    held = -sum(_by_year(db, order.id, "spend", "return_spent").values())
    owed = (order.points_used or 0) - held
    if owed > 0:
        taken = _take(db, order.openid, owed, now, order_id=order.id, kind="spend",
                      prefer=tuple(sorted(returned)))
        if taken < owed:
            log.warning("order %s paid after its cancellation: %s points it used were no "
                        "longer there", order.id, owed - taken)


def on_order_change(db: Session, order: Order, from_state: str, to_state: str,
                    now: datetime) -> None:
    """shop.orders listener, inside the order's transaction."""
    if to_state == "paid":
        if from_state == "cancelled":
            _spend_again(db, order, now)
        _earn(db, order, now)
    elif to_state in ("cancelled", "refunded"):
        _return_spent(db, order, now)
        if from_state in COUNTED_SOLD:
            _take_back(db, order, now)


def expire_due(db: Session, now: datetime, limit: int = BATCH) -> int:
    """Empty the lots past their year, each with an expire entry; returns how many lots."""
    lots = list(db.execute(select(PointsLot.openid, PointsLot.year, PointsLot.balance).where(
        PointsLot.year < first_live_year(now), PointsLot.balance > 0).limit(limit)))
    done = 0
    for openid, year, left in lots:
        moved = db.execute(
            update(PointsLot)
            .where(PointsLot.openid == openid, PointsLot.year == year, PointsLot.balance == left)
            .values(balance=0, updated_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if moved == 1:  # else a return just changed it: the next run takes it
            _record(db, openid, None, "expire", year, -left, now)
            done += 1
    return done


def expire_points(storage: Any, now: datetime | None = None) -> int:
    """Job: points earned two years ago expire once the year after has ended."""
    now = now or datetime.now(UTC)
    total = 0
    while True:
        with storage.sessions.begin() as db:
            done = expire_due(db, now)
        total += done
        if done < BATCH:
            if total:
                log.info("points: %s lots expired", total)
            return total


def register(registry: Registry) -> None:
    """Tables, the order listener, the expiry job, and the reader the shop's pages use."""
    from shop import orders

    registry.add_models("promotions.points")
    orders.on_change(on_order_change)
    members.read_points_with(summary, balances)
    registry.add_job("promotions", "expire_points", 3600, expire_points)
