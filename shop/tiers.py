"""Member tiers, as the shop owner's playbook defines them.

Three tiers above the ordinary member, each earned by its own rule (MEMBER_TIERS names them and
sets their amounts in yuan, "青铜:500,白银:8000,黄金:5000", by position):

- level 1 (青铜): cumulative paid spend, net of refunds, of at least the first amount;
- level 2 (白银): paid spend of at least the second amount in the last 12 months;
- level 3 (黄金): paid spend over the third amount in each of 12 consecutive calendar months
  (Shanghai months, by Order.paid_at, counting orders still paid, shipped or completed).

The 12 months of 黄金 are the latest ones: the window ends with the last complete month, or with
the current month once the current month is already over the bar (so the 12th month upgrades
the customer the moment it qualifies); an incomplete current month below the bar never counts
against the customer, since the month is not over.

The tier is stored on the customer (shop.members.Customer.tier_level) rather than computed on
every read: an upgrade applies at once (an order paid) and the customer is told, but a
downgrade waits for the start of a month (`review_tiers`, a job), so a customer never loses a
benefit in the middle of an order or of a month. Between the two, the lower tier is kept as
`tier_pending_level`, which the console shows.

The order listener and the job need the thresholds but have no configuration handle (an order
listener is called inside shop.orders' transaction), so the process's tiers are set once at
start by `check_config`, like its logging.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.clock import SHANGHAI, as_utc, shanghai_text
from core.money import MAX_FEN, parse_yuan, yuan
from shop import notices
from shop.members import Customer
from shop.orders import COUNTED_SOLD, Order

log = logging.getLogger(__name__)

ORDINARY = "普通会员"
#: The playbook's benefits by level (1..3); a tier keeps the benefits of those below it.
BENEFITS: tuple[tuple[str, ...], ...] = ((), ("积分抵现", "生日礼包"), ("专属客服", "优先发货"),
                                         ("新品试用", "线下沙龙"))


def level_with(benefit: str) -> int:
    """The lowest level whose members have `benefit` (one of BENEFITS): where a rule that
    grants it reads its level, so moving a benefit in the table moves the rule."""
    return next(level for level, names in enumerate(BENEFITS) if benefit in names)


#: 白银 and above: tickets jump the service queue and orders ship first.
PRIORITY_LEVEL = level_with("专属客服")
TOP_LEVEL = len(BENEFITS) - 1
MONTHS = 12
EXAMPLE = "青铜:500,白银:8000,黄金:5000"
BATCH = 500


@dataclass(frozen=True)
class Tiers:
    """The configured tiers: their names (levels 1..3) and the three amounts in fen."""

    names: tuple[str, str, str]
    cumulative_fen: int  # level 1: cumulative spend at least this
    yearly_fen: int  # level 2: spend in the last 12 months at least this
    monthly_fen: int  # level 3: spend over this in each of 12 consecutive months

    def name(self, level: int) -> str:
        return self.names[level - 1] if 1 <= level <= 3 else ORDINARY

    def level_of(self, name: str) -> int | None:
        if name == ORDINARY:
            return 0
        return self.names.index(name) + 1 if name in self.names else None

    def all_names(self) -> list[str]:
        return [ORDINARY, *self.names]

    def benefits(self, level: int) -> tuple[str, ...]:
        return tuple(b for lower in range(1, min(level, 3) + 1) for b in BENEFITS[lower])


def parse_tiers(text: str) -> Tiers:
    """MEMBER_TIERS such as "青铜:500,白银:8000,黄金:5000" (yuan) → Tiers.

    Raises ValueError with a one-line reason (for check_config).
    """
    parts = []
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        name, sep, amount = part.partition(":")
        name = name.strip()
        if not sep or not 1 <= len(name) <= 8 or name == ORDINARY:
            raise ValueError(f"{part!r} is not NAME:YUAN")
        fen = parse_yuan(amount.strip())
        if not 0 < fen <= MAX_FEN:
            raise ValueError(f"{part!r}: the amount must be positive")
        parts.append((name, fen))
    if len(parts) != 3:
        raise ValueError("three tiers are needed: cumulative, last 12 months, monthly")
    if len({name for name, _ in parts}) != 3:
        raise ValueError("tier names must differ")
    (first, cumulative), (second, yearly), (third, monthly) = parts
    return Tiers((first, second, third), cumulative, yearly, monthly)


DEFAULT_TIERS = parse_tiers(EXAMPLE)
_configured: list[Tiers] = [DEFAULT_TIERS]


def check_config(config: dict[str, Any]) -> list[str]:
    """MEMBER_TIERS parsed once at start (registered by shop.register); the process's tiers."""
    value = config.get("MEMBER_TIERS")
    try:
        tiers = value if isinstance(value, Tiers) else parse_tiers(str(value or EXAMPLE))
    except ValueError as error:
        return [f"MEMBER_TIERS: {error} (e.g. {EXAMPLE})"]
    config["MEMBER_TIERS"] = tiers
    _configured[0] = tiers
    return []


def configured() -> Tiers:
    """The tiers this process validated at start (the defaults before that)."""
    return _configured[0]


def tiers_from(value: object) -> Tiers:
    """The configured MEMBER_TIERS (parsed by check_config, or text), or the process's."""
    if isinstance(value, Tiers):
        return value
    if isinstance(value, str) and value.strip():
        return parse_tiers(value)
    return configured()


# --- measuring ---------------------------------------------------------------------------


def _month(at: datetime) -> tuple[int, int]:
    local = as_utc(at).astimezone(SHANGHAI)
    return local.year, local.month


def _shift(month: tuple[int, int], by: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


def _months_ago(now: datetime, months: int) -> datetime:
    """The same Shanghai day and time `months` earlier (the last day when it has no such day)."""
    local = as_utc(now).astimezone(SHANGHAI)
    year, month = _shift((local.year, local.month), -months)
    for day in range(local.day, 27, -1):
        try:
            return local.replace(year=year, month=month, day=day).astimezone(UTC)
        except ValueError:
            continue
    return local.replace(year=year, month=month, day=min(local.day, 28)).astimezone(UTC)


@dataclass(frozen=True)
class Measure:
    """What the rules read for one customer at one moment."""

    cumulative_fen: int
    yearly_fen: int  # the last 12 months
    this_month_fen: int
    streak: int  # consecutive months over the monthly bar, as the 黄金 rule counts them

    def level(self, tiers: Tiers) -> int:
        if self.streak >= MONTHS:
            return 3
        if self.yearly_fen >= tiers.yearly_fen:
            return 2
        return 1 if self.cumulative_fen >= tiers.cumulative_fen else 0


def measure(db: Session, openid: str, now: datetime, tiers: Tiers) -> Measure:
    """Spend by the three rules, from the customer's orders still paid, shipped or completed."""
    cumulative = db.scalar(select(Customer.spend_fen).where(Customer.openid == openid)) or 0
    current = _month(now)
    first = _shift(current, -MONTHS)
    since = datetime(first[0], first[1], 1, tzinfo=SHANGHAI).astimezone(UTC)
    year_ago = _months_ago(now, MONTHS)
    months: dict[tuple[int, int], int] = {}
    yearly = 0
    rows = db.execute(select(Order.paid_at, Order.total_fen).where(
        Order.openid == openid, Order.state.in_(COUNTED_SOLD), Order.paid_at >= since,
        Order.paid_at <= now))
    for paid_at, total in rows:
        months[_month(paid_at)] = months.get(_month(paid_at), 0) + total
        if as_utc(paid_at) > year_ago:
            yearly += total
    streak = 0
    while streak < MONTHS and months.get(_shift(current, -1 - streak), 0) > tiers.monthly_fen:
        streak += 1
    if months.get(current, 0) > tiers.monthly_fen:
        streak += 1
    return Measure(cumulative, yearly, months.get(current, 0), streak)


# --- applying ----------------------------------------------------------------------------

#: Called inside the transaction of an upgrade: (db, openid, old tier name, new tier name, now).
TierListener = Callable[[Session, str, str, str, datetime], None]
_listeners: list[TierListener] = []


def on_tier_change(listener: TierListener) -> TierListener:
    """Register `listener` for every upgrade (tier-upgrade coupons register here; idempotent).
    Downgrades are not announced."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def reevaluate(db: Session, openid: str, now: datetime, *, apply_downgrade: bool = False,
               announce: bool = True, tiers: Tiers | None = None) -> int:
    """Store the tier `openid` has earned: an upgrade at once (told, listeners called, unless
    not `announce`), a downgrade only with `apply_downgrade` (the monthly job), else kept as
    pending.

    A customer never reviewed (tier_checked_month NULL: from before tiers were stored) is
    placed silently, whoever asks: they earned that tier before, so it is a backfill, not an
    upgrade to announce or to give tier gifts for; they are then marked with the month, so
    their next upgrade is news.

    Every change is conditional on the level read, so two payments landing at once upgrade
    (and notify) once. Returns the stored level."""
    tiers = tiers or configured()
    row = db.execute(select(Customer.tier_level, Customer.tier_pending_level,
                            Customer.tier_checked_month)
                     .where(Customer.openid == openid)).one_or_none()
    if row is None:
        return 0
    stored, pending, checked = row
    if checked is None:
        announce = False
        db.execute(update(Customer)
                   .where(Customer.openid == openid, Customer.tier_checked_month.is_(None))
                   .values(tier_checked_month=_month_text(now))
                   .execution_options(synchronize_session=False))
    earned = measure(db, openid, now, tiers).level(tiers)
    if earned > stored or (earned < stored and apply_downgrade):
        changed = _set(db, openid, stored, tier_level=earned, tier_since=now,
                       tier_pending_level=None)
        if changed and earned > stored and announce:
            _announce(db, openid, stored, earned, now, tiers)
        return earned if changed else stored
    wanted = earned if earned < stored else None
    if pending != wanted:
        _set(db, openid, stored, tier_pending_level=wanted)
    return stored


def _month_text(now: datetime) -> str:
    return shanghai_text(now, "%Y-%m")


def _set(db: Session, openid: str, stored: int, **values: Any) -> bool:
    return db.execute(
        update(Customer).where(Customer.openid == openid, Customer.tier_level == stored)
        .values(**values).execution_options(synchronize_session=False)).rowcount == 1


def gained(old: int, new: int) -> tuple[str, ...]:
    """The benefits of every level passed from `old` to `new` (0 → 白银 gains 青铜's too)."""
    return tuple(b for level in range(max(old, 0) + 1, min(new, TOP_LEVEL) + 1)
                 for b in BENEFITS[level])


def _announce(db: Session, openid: str, old: int, new: int, now: datetime,
              tiers: Tiers) -> None:
    """One notice naming every benefit gained, and the listeners once per level passed
    (old+1 … new), so a tier's gifts are not skipped when one order jumps over it."""
    name = tiers.name(new)
    perks = "、".join(gained(old, new))
    notices.queue(db, openid, "tier_upgrade",
                  f"恭喜您升级为{name}会员！{perks}已为您开通。回复「我的会员」查看会员权益。",
                  key=f"tier_upgrade:{openid}:{new}:{now.astimezone(SHANGHAI):%Y-%m}",
                  title=f"会员升级：{name}")
    log.info("a customer was upgraded from level %s to %s", old, new)
    for level in range(old + 1, new + 1):
        for listener in list(_listeners):
            listener(db, openid, tiers.name(level - 1), tiers.name(level), now)


def on_order_change(db: Session, order: Order, from_state: str, to_state: str,
                    now: datetime) -> None:
    """shop.orders listener: a payment may upgrade; a refund or a cancellation after payment
    may only mark a downgrade for the start of next month."""
    if to_state == "paid" or (from_state in COUNTED_SOLD and to_state in ("cancelled",
                                                                         "refunded")):
        reevaluate(db, order.openid, now)


def review_tiers(storage: Any, now: datetime | None = None) -> int:
    """Monthly: every customer re-evaluated once in each Shanghai month, downgrades applied.

    Run often (hourly); the first runs of a month do the work, in batches, marking each
    customer with the month so a crash or a second scheduler resumes instead of repeating.
    A customer never reviewed (from before tiers were stored) is placed in the tier earned,
    silently: that is a backfill, not news. Returns how many customers were looked at."""
    now = now or datetime.now(UTC)
    tiers = tiers_from((getattr(storage, "settings", None) or {}).get("MEMBER_TIERS"))
    month = _month_text(now)
    done = 0
    while True:
        with storage.sessions.begin() as db:
            batch = list(db.execute(
                select(Customer.openid, Customer.tier_checked_month)
                .where(or_(Customer.tier_checked_month.is_(None),
                           Customer.tier_checked_month != month))
                .order_by(Customer.openid).limit(BATCH)))
            for openid, checked in batch:
                reevaluate(db, openid, now, apply_downgrade=True, announce=checked is not None,
                           tiers=tiers)
            if batch:
                db.execute(update(Customer)
                           .where(Customer.openid.in_([openid for openid, _ in batch]))
                           .values(tier_checked_month=month)
                           .execution_options(synchronize_session=False))
        done += len(batch)
        if len(batch) < BATCH:
            return done


# --- reading -----------------------------------------------------------------------------


def level_of(db: Session, openid: str) -> int:
    return db.scalar(select(Customer.tier_level).where(Customer.openid == openid)) or 0


def levels_of(db: Session, openids: list[str]) -> dict[str, int]:
    """Stored levels of several customers (0 for those without a row)."""
    if not openids:
        return {}
    found = {openid: level for openid, level in db.execute(
        select(Customer.openid, Customer.tier_level).where(Customer.openid.in_(set(openids))))}
    return {openid: found.get(openid) or 0 for openid in openids}


def openids_of_tier(db: Session, tier: str, tiers: Tiers | None = None) -> list[str]:
    """Customers whose stored tier is `tier` (a configured name, or 普通会员): the segment a
    campaign targets or the list a coupon is issued to. Raises ValueError for another name."""
    level = (tiers or configured()).level_of(tier)
    if level is None:
        raise ValueError(f"no member tier named {tier!r}")
    return list(db.scalars(select(Customer.openid).where(Customer.tier_level == level)
                           .order_by(Customer.openid)))


@dataclass(frozen=True)
class Standing:
    """Where a customer stands, as the chat (我的会员) and the console show it."""

    tier: str
    level: int
    since: datetime | None
    pending: str | None  # the lower tier that applies from next month
    benefits: tuple[str, ...]
    progress: str  # what is left to reach the next tier, in plain words
    spend_fen: int
    points: int = 0

    def lines(self) -> list[str]:
        lines = [f"会员等级：{self.tier}" + ("会员" if self.level else "")]
        if self.benefits:
            lines.append("会员权益：" + "、".join(self.benefits))
        if self.pending:
            lines.append(f"下月1日起调整为{self.pending}")
        lines.append(self.progress)
        return lines


def standing(db: Session, openid: str, now: datetime, tiers: Tiers | None = None,
             points: int = 0) -> Standing:
    """The stored tier with its benefits, and the plain-words way to the next one."""
    tiers = tiers or configured()
    row = db.execute(select(Customer.tier_level, Customer.tier_since,
                            Customer.tier_pending_level).where(Customer.openid == openid)
                     ).one_or_none()
    level, since, pending = row if row else (0, None, None)
    spent = measure(db, openid, now, tiers)
    return Standing(tiers.name(level), level, since,
                    tiers.name(pending) if pending is not None else None,
                    tiers.benefits(level), _progress(level, spent, tiers),
                    spent.cumulative_fen, points)


def _progress(level: int, spent: Measure, tiers: Tiers) -> str:
    """Never a negative amount: a customer who already meets a higher tier's rule but is not
    placed yet (from before tiers were stored, until the review places them) is told so."""
    earned = spent.level(tiers)
    if earned > level:
        return f"已达到{tiers.name(earned)}标准，等级即将更新"
    if level == 0:
        left = max(tiers.cumulative_fen - spent.cumulative_fen, 0)
        return f"再消费{yuan(left)}升级{tiers.name(1)}"
    if level == 1:
        left = max(tiers.yearly_fen - spent.yearly_fen, 0)
        return f"近12个月消费{yuan(spent.yearly_fen)}，再消费{yuan(left)}升级{tiers.name(2)}"
    if level == 2:
        return (f"连续{MONTHS}个月每月消费超{yuan(tiers.monthly_fen)}升级{tiers.name(3)}"
                f"（已连续{min(spent.streak, MONTHS)}个月）")
    return "您已是最高等级会员"
