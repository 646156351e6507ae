"""砍价: a customer launches a bargain on one SKU and friends each cut its price once, until
the N-th helper brings it to the floor; then the starter buys it at the floor price.

This module owns what a bargain *is*: the tables, the errors, the cut schedule and the
short codes. What is done with one lives beside it: bargain_manager.py (the merchant's
campaigns, figures and reviews), bargain_ledger.py (launches and cuts, the hot path, with its
Redis script in bargain_gate.py), bargain_risk.py (who may help, and whose help waits for a
reviewer), bargain_orders.py (buying at the bargained price, expiry) and bargain_notices.py
(telling the starter). Each imports this module, never the other way round.

The mistakes the open-source malls make and how this avoids them: the ledger's SQL holds
one row per (launch, helper) and one per (launch, cut position), both unique, and a launch's
counter moves only by a conditional UPDATE that stops at N; the schedule is drawn once when
the launch starts, stored, and sums to exactly price − floor over exactly N cuts; every
launch has an `expires_at` a job enforces; nobody is asked to follow the account.
"""

from __future__ import annotations

import json
import random
import secrets
import unicodedata
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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import as_utc
from core.db import Base
from core.registry import Registry
from shop.catalog import Sku

#: Front-loading 0…100: 0 spreads the cuts evenly, 100 makes the first cut the biggest and
#: each later one smaller (the first friend sees a big effect, the last ones a small one).
MAX_FRONT_LOADING = 100
#: The short code a helper types in the chat: no 0/O/1/I/L, which people misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
#: The QR scene a launch's invitation code carries (WECHAT_API.md #16, QR_STR_SCENE).
SCENE_PREFIX = "bargain:"


class BargainError(ValueError):
    """Why the merchant's change is refused (Chinese, shown in the console and the API)."""


class BargainRefused(Exception):
    """Why a launch, a help or an order is refused: `code` for tests and the chat's wording,
    the message for the customer (Chinese)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class BargainCampaign(Base):
    __tablename__ = "bargain_campaigns"
    __table_args__ = (
        CheckConstraint("floor_fen >= 1", name="ck_bargain_floor"),
        CheckConstraint("helpers_needed >= 1", name="ck_bargain_helpers"),
        CheckConstraint("units_used >= 0 AND units_used <= stock_quota",
                        name="ck_bargain_units"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    sku_id: Mapped[int] = mapped_column(ForeignKey("shop_skus.id"), index=True)
    floor_fen: Mapped[int] = mapped_column(Integer)
    #: Friends whose cuts bring the price to the floor (the starter's own cut not counted).
    helpers_needed: Mapped[int] = mapped_column(Integer)
    hours_per_launch: Mapped[int] = mapped_column(Integer, default=24)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Units this campaign may sell at bargained prices; `units_used` counts those taken
    #: (reserved by a launch, or held by an order), moved by conditional UPDATEs only.
    stock_quota: Mapped[int] = mapped_column(Integer)
    units_used: Mapped[int] = mapped_column(Integer, default=0)
    launches_per_customer: Mapped[int] = mapped_column(Integer, default=1)
    helps_per_day: Mapped[int] = mapped_column(Integer, default=3)
    helps_per_campaign: Mapped[int] = mapped_column(Integer, default=10)
    #: The starter cuts once, at the launch (the schedule's first cut); the N friends still
    #: bring it to the floor.
    starter_cuts: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The starter may buy before the floor is reached, at the price reached so far.
    buy_before_floor: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Only customers who never paid an order may help (never "must follow").
    new_customers_only: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Take the unit from the SKU when the launch starts, rather than when the order is placed.
    reserve_at_launch: Mapped[bool] = mapped_column(Boolean, default=False)
    front_loading: Mapped[int] = mapped_column(Integer, default=60)
    #: What one unit costs the merchant (optional): the preview's margin at the floor.
    unit_cost_fen: Mapped[int | None] = mapped_column(Integer, default=None)
    #: on | paused | ended (ended is final; a campaign past ends_at is over either way).
    state: Mapped[str] = mapped_column(String(16), default="on", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sku: Mapped[Sku] = relationship()

    def is_open(self, now: datetime) -> bool:
        return (self.state == "on"
                and as_utc(self.starts_at) <= now < as_utc(self.ends_at))

    @property
    def sold_out(self) -> bool:
        """Its stock quota is taken: no new launch, no further cut (nobody cuts towards a
        price that cannot be bought)."""
        return self.units_used >= self.stock_quota

    def cuts_for(self) -> int:
        """Cuts in a launch's schedule: the N friends, plus the starter's when allowed."""
        return self.helpers_needed + (1 if self.starter_cuts else 0)


class BargainLaunch(Base):
    __tablename__ = "bargain_launches"
    __table_args__ = (
        # The k-th launch of a customer in a campaign exists once: two 砍价 at the same
        # moment cannot both pass a launches-per-customer limit.
        UniqueConstraint("campaign_id", "openid", "ordinal", name="uq_bargain_launch_ordinal"),
        CheckConstraint("cuts_done >= 0 AND cuts_done <= cuts_total", name="ck_bargain_cuts"),
        CheckConstraint("cut_fen >= 0 AND cut_fen <= start_fen - floor_fen",
                        name="ck_bargain_cut_fen"),
        Index("ix_bargain_launch_state_expires", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("bargain_campaigns.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    ordinal: Mapped[int] = mapped_column(Integer, default=1)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    #: The SKU's price when the launch started, and the floor it is cut to.
    start_fen: Mapped[int] = mapped_column(Integer)
    floor_fen: Mapped[int] = mapped_column(Integer)
    #: The cut schedule drawn at the start: a JSON list of fen, in the order cuts land.
    schedule: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(Integer)
    cuts_total: Mapped[int] = mapped_column(Integer)
    cuts_done: Mapped[int] = mapped_column(Integer, default=0)
    cut_fen: Mapped[int] = mapped_column(Integer, default=0)
    #: open → completed (floor reached) → ordered (an order at the bargained price waits or
    #: is paid; a cancelled one brings it back to completed, or to expired after expires_at);
    #: open|completed → expired (time up, or the campaign ended).
    state: Mapped[str] = mapped_column(String(16), default="open")
    #: A unit of the SKU is held for this launch (campaign.reserve_at_launch) until an order
    #: takes it over or the launch expires.
    reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("shop_orders.id"), default=None,
                                                 index=True)
    qr_url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    #: When the starter was warned of the expiry (once).
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    campaign: Mapped[BargainCampaign] = relationship()

    @property
    def price_fen(self) -> int:
        """The price reached so far."""
        return self.start_fen - self.cut_fen

    @property
    def left_fen(self) -> int:
        """How much is still to be cut to reach the floor (exact, in fen)."""
        return self.price_fen - self.floor_fen

    @property
    def helpers_left(self) -> int:
        return self.cuts_total - self.cuts_done

    def cuts(self) -> list[int]:
        return [int(cut) for cut in json.loads(self.schedule)]

    def is_live(self, now: datetime) -> bool:
        return self.state == "open" and now < as_utc(self.expires_at)


class BargainHelp(Base):
    """One person's help on one launch: counted (its cut landed), held (waits for a
    reviewer; nothing cut yet) or rejected (a reviewer said no, or it came too late)."""

    __tablename__ = "bargain_helps"
    __table_args__ = (
        UniqueConstraint("launch_id", "openid", name="uq_bargain_help_helper"),
        UniqueConstraint("launch_id", "seq", name="uq_bargain_help_seq"),
        Index("ix_bargain_help_openid_at", "openid", "created_at"),
        Index("ix_bargain_help_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("bargain_launches.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("bargain_campaigns.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    #: The position of this cut in the launch's schedule (0-based); NULL while not counted.
    seq: Mapped[int | None] = mapped_column(Integer, default=None)
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="counted")
    #: scan | code | page | starter | review
    source: Mapped[str] = mapped_column(String(16), default="code")
    #: One help request: a retried request finds its own help instead of "already helped".
    key: Mapped[str] = mapped_column(String(80), unique=True)
    risk: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[str] = mapped_column(String(200), default="")
    #: The helper was new to the shop (never followed nor seen) when they helped.
    new_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    decided_by: Mapped[str] = mapped_column(String(64), default="")


# ---- the cut schedule ---------------------------------------------------------------------


def draw_schedule(total_fen: int, cuts: int, front_loading: int, seed: int) -> list[int]:
    """`cuts` amounts in fen, each at least 1, summing to exactly `total_fen`.

    Every cut gets 1 fen, and the rest is shared by weights: a random part (seeded, so a
    stored seed redraws the same schedule) times a decay that front-loading makes steeper.
    Shares are whole fen by largest remainder, so no rounding leaks: the N-th cut, and only
    it, reaches the floor. With front-loading > 0 the cuts are sorted biggest first.
    """
    if cuts < 1:
        raise ValueError("a schedule needs at least one cut")
    if total_fen < cuts:
        raise ValueError("each cut needs at least 1 fen")
    if not 0 <= front_loading <= MAX_FRONT_LOADING:
        raise ValueError("front-loading is 0..100")
    rng = random.Random(seed)
    steep = front_loading / MAX_FRONT_LOADING
    # steep 0: every weight about 1 (±20 % noise); steep 1: each next weight about half.
    weights = [(1 - steep * (1 - 0.5 ** position)) * rng.uniform(0.8, 1.2)
               for position in range(cuts)]
    # Whole numbers from here on: exact for any total, no float rounding to leak a fen.
    units = [max(1, round(weight * 1_000_000)) for weight in weights]
    rest, scale = total_fen - cuts, sum(units)
    shares = [rest * unit // scale for unit in units]
    short = rest - sum(shares)  # 0 <= short < cuts
    by_remainder = sorted(range(cuts), key=lambda i: (rest * units[i] % scale, -i), reverse=True)
    for index in by_remainder[:short]:
        shares[index] += 1
    amounts = [1 + share for share in shares]
    if front_loading:
        amounts.sort(reverse=True)
    return amounts


def new_seed() -> int:
    return secrets.randbelow(2**31 - 1)


def new_code() -> str:
    """Six characters with at least one digit and one letter, so a plain word typed in the
    chat (THANKS) is never read as a code."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


#: A message that is a code alone, as the router matches it (any case, outer spaces): the
#: alphabet's characters only, a digit and a letter among them (as `new_code` makes them).
CODE_PATTERN = (r"^\s*(?=[^0-9]*[0-9])(?=[^A-Za-z]*[A-Za-z])"
                rf"[{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{{CODE_LENGTH}}}\s*$")


def looks_like_code(text: str) -> bool:
    code = normal_code(text)
    return (len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)
            and any(c.isdigit() for c in code) and any(c.isalpha() for c in code))


def normal_code(text: str) -> str:
    """What a customer typed as a code, as stored: full-width characters as ASCII (Chinese
    keyboards), upper case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).upper().split())


def scene_for(launch_id: int) -> str:
    return f"{SCENE_PREFIX}{launch_id}"


def launch_from_scene(scene: str | None) -> int | str | None:
    """The launch in a QR scene: `bargain:<id>` as our QR codes carry it (from subscribe's
    qrscene_ or SCAN), or `bargain:<code>`; None for any other scene."""
    if not scene or not scene.startswith(SCENE_PREFIX):
        return None
    tail = scene[len(SCENE_PREFIX):]
    if tail.isascii() and tail.isdigit() and len(tail) <= 12:
        return int(tail)
    return tail if looks_like_code(tail) else None


# ---- wiring ------------------------------------------------------------------------------


def register(registry: Registry) -> None:
    """Tables, the order listener, the jobs and the console pages."""
    # Imported here: each of these imports this module for its tables.
    from promotions import bargain_ledger, bargain_notices, bargain_orders
    from shop import notices, orders

    registry.add_models("promotions.bargains")
    orders.on_change(bargain_orders.on_order_change)
    notices.window_only(bargain_notices.CUT_KIND)
    registry.add_job("promotions", "bargain_reconcile", 30, bargain_ledger.reconcile_all)
    registry.add_job("promotions", "bargain_expire", 60, bargain_orders.expire_launches)
    registry.add_web(_init_web)


def _init_web(app: object) -> None:
    from console.shell import add_nav
    from promotions import bargain_page, bargain_views

    app.register_blueprint(bargain_views.bp)  # type: ignore[attr-defined]
    app.register_blueprint(bargain_views.api_bp)  # type: ignore[attr-defined]
    app.register_blueprint(bargain_page.bp)  # type: ignore[attr-defined]
    add_nav(app, "砍价", "bargain_admin.list_campaigns", "promotions")
