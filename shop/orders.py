"""Orders: stock reserved when the order is made, released if it is not paid in time.

Never oversell: stock is taken by one conditional statement per SKU,
`UPDATE shop_skus SET stock = stock - q WHERE id = ? AND stock >= q`, inside the order's
transaction. The database decides the race (SQLite serialises writers; PostgreSQL re-checks
the condition on the locked row), so however many customers reach for the last unit, exactly
as many orders exist as there was stock. SKUs are taken in id order, so two multi-item orders
cannot deadlock each other.

Unpaid orders are released by shop/payments.py (expire_unpaid), which asks WeChat Pay first.
Every state change is also one conditional UPDATE (`WHERE state = <from>`), so a payment and
an expiry racing for the same order cannot both win, and each change is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from core.clock import SHANGHAI
from core.db import Base
from core.money import MAX_TOTAL_FEN
from shop import members
from shop.catalog import Product, Sku

PAYMENT_MINUTES = 30
MAX_QUANTITY = 99  # per line: more is a typo or a scalper

STATES = {
    "pending_payment": "待付款",
    "paid": "已付款",
    "shipped": "已发货",
    "completed": "已完成",
    "cancelled": "已取消",
    "refunded": "已退款",
}
TRANSITIONS = {
    "pending_payment": {"paid", "cancelled"},
    "paid": {"shipped", "cancelled", "refunded"},
    "shipped": {"completed", "refunded"},
    "completed": {"refunded"},
    "cancelled": {"paid"},  # only shop/payments.py: paid in the last second, stock still there
    "refunded": set(),
}
RETURNS_STOCK = {("pending_payment", "cancelled"), ("paid", "cancelled")}
COUNTED_SOLD = ("paid", "shipped", "completed")


class OrderError(ValueError):
    """Why an order or a change to it cannot be made; the message is for the customer."""


class OutOfStock(OrderError):
    pass


class PriceChanged(OrderError):
    """The price moved after the customer saw the read-back: they must confirm again."""

    def __init__(self, total_fen: int):
        super().__init__("价格刚刚有变动")
        self.total_fen = total_fen


class Order(Base):
    __tablename__ = "shop_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    total_fen: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(Text, default="{}")  # JSON snapshot
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pay_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    tracking_no: Mapped[str] = mapped_column(String(64), default="")
    #: shop/carriers.py's code (SF, ZTO …); "" on orders shipped when the carrier was typed
    #: into tracking_no with the number.
    carrier: Mapped[str] = mapped_column(String(16), default="", server_default="")
    #: The chat's confirmation this order came from: a 确认 sent again after a crash (the order
    #: committed, the conversation not yet cleared) finds this order instead of placing another.
    checkout_key: Mapped[str | None] = mapped_column(
        String(40), unique=True, index=True, default=None
    )
    #: When the order was (last) paid: tiers count spend by the month it was paid in.
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    #: What promotions took off the goods (total_fen is what the customer pays): the coupon
    #: redeemed (promotions.coupons id) and its value, and the points spent and their value.
    coupon_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    coupon_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.id")

    @property
    def address_fields(self) -> dict[str, Any]:
        return json.loads(self.address or "{}")

    @property
    def goods_fen(self) -> int:
        """The goods at the prices they were sold at, before coupon and points."""
        return self.total_fen + self.coupon_fen + self.points_fen


class OrderLine(Base):
    """What was bought at which price: a snapshot, unchanged by later catalog edits."""

    __tablename__ = "shop_order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("shop_skus.id"))
    product_id: Mapped[int] = mapped_column(Integer)
    product_name: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str] = mapped_column(String(64))
    unit_price_fen: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    #: The flash-sale item (promotions.flash) this line was bought from: its units came out
    #: of the session's stock, not the SKU's, and go back there.
    flash_item_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)


class OrderEvent(Base):
    __tablename__ = "shop_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


#: Called inside the transaction of every state change, after the order moved:
#: (db, order, from_state, to_state, now). from_state is "" when the order was just placed.
#: Promotions register here (points, coupons, flash-sale units, tiers), so the shop needs
#: to know nothing of them and each change happens exactly once, with the order's change.
OrderListener = Callable[[Session, "Order", str, str, datetime], None]
_listeners: list[OrderListener] = []


def on_change(listener: OrderListener) -> OrderListener:
    """Register `listener` for every order placed and every state change (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def _tell_listeners(db: Session, order: Order, from_state: str, to_state: str,
                    now: datetime) -> None:
    for listener in list(_listeners):
        listener(db, order, from_state, to_state, now)


def _order_number(now: datetime) -> str:
    """20261122 + eight random digits: readable on the phone, not guessable as a sequence."""
    return now.astimezone(SHANGHAI).strftime("%Y%m%d") + f"{secrets.randbelow(10**8):08d}"


def quantity_problem(quantity: Any) -> str | None:
    """Why a quantity is refused (in Chinese), or None."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return "数量需要是整数"
    if quantity < 1:
        return "数量至少为 1"
    if quantity > MAX_QUANTITY:
        return f"单件商品一次最多购买 {MAX_QUANTITY} 件"
    return None


def place(
    db: Session,
    openid: str,
    items: list[tuple[int, int]],
    *,
    address: dict[str, Any] | None = None,
    now: datetime | None = None,
    payment_minutes: int = PAYMENT_MINUTES,
    expected_total: int | None = None,
    checkout_key: str | None = None,
    flash_prices: dict[int, tuple[int, int]] | None = None,
    set_prices: dict[int, tuple[int, bool]] | None = None,
) -> Order:
    """Reserve stock for `items` [(sku id, quantity)] and create the order, all or nothing.

    `flash_prices` {sku id: (flash item id, unit price)}: lines sold from a flash-sale
    session at its price; their units were taken from the session's stock by the caller
    (promotions/flash_buying.py), so the SKU's stock is not touched for them.
    `set_prices` {sku id: (unit price, stock already taken)}: a price the promotion decided
    (a bargain's); with True its unit was held since earlier and is not taken again (a
    cancellation gives it back to the SKU like any other).

    Raises OutOfStock (the transaction must be rolled back: `sessions.begin()` does) or
    OrderError for bad input; the message names the product for the customer. With a
    `checkout_key` already used, nothing is reserved: see `placed_with` (the column is unique,
    so a second order for one key cannot be committed either way).
    """
    now = now or datetime.now(UTC)
    wanted: dict[int, int] = defaultdict(int)
    for sku_id, quantity in items:
        if problem := quantity_problem(quantity):
            raise OrderError(problem)
        wanted[int(sku_id)] += quantity
    if not wanted:
        raise OrderError("购物车是空的")
    skus = {
        sku.id: sku
        for sku in db.scalars(select(Sku).where(Sku.id.in_(list(wanted))).order_by(Sku.id))
    }
    lines = []
    for sku_id in sorted(wanted):  # one order of locking for every order: no deadlocks
        sku = skus.get(sku_id)
        product = db.get(Product, sku.product_id) if sku else None
        if sku is None or product is None or not product.on_shelf:
            raise OrderError("商品已下架")
        quantity = wanted[sku_id]
        flash_item_id, price = (flash_prices or {}).get(sku_id, (None, sku.price_fen))
        price, taken_before = (set_prices or {}).get(sku_id, (price, False))
        if flash_item_id is None and not taken_before:
            taken = db.execute(
                update(Sku)
                .where(Sku.id == sku_id, Sku.stock >= quantity)
                .values(stock=Sku.stock - quantity)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                raise OutOfStock(f"「{product.name}」库存不足")
        lines.append(
            OrderLine(
                sku_id=sku_id,
                product_id=product.id,
                product_name=product.name,
                variant=sku.variant,
                unit_price_fen=price,
                quantity=quantity,
                flash_item_id=flash_item_id,
            )
        )
    total = sum(line.unit_price_fen * line.quantity for line in lines)
    if expected_total is not None and total != expected_total:
        raise PriceChanged(total)
    if total > MAX_TOTAL_FEN:
        raise OrderError("订单金额过大，请分开下单")
    order = Order(
        number=_order_number(now),
        openid=openid,
        state="pending_payment",
        total_fen=total,
        address=json.dumps(address or {}, ensure_ascii=False),
        created_at=now,
        pay_by=now + timedelta(minutes=payment_minutes),
        tracking_no="",
        carrier="",
        checkout_key=checkout_key,
    )
    db.add(order)
    db.flush()
    for line in lines:
        line.order_id = order.id
        db.add(line)
    db.add(OrderEvent(order_id=order.id, at=now, to_state="pending_payment", actor=openid))
    members.on_order_placed(db, openid, now)
    db.flush()
    _tell_listeners(db, order, "", "pending_payment", now)
    return order


def placed_with(db: Session, openid: str, checkout_key: str | None) -> Order | None:
    """The order this customer already placed from this confirmation, if any."""
    if not checkout_key:
        return None
    return db.scalar(
        select(Order).where(Order.checkout_key == checkout_key, Order.openid == openid)
    )


def transition(
    db: Session, order: Order, to_state: str, *, actor: str, note: str = "",
    now: datetime | None = None,
) -> bool:
    """Move `order` to `to_state` if it is still where it was; False if someone else moved it
    first (an expiry racing a payment). Stock goes back on a cancellation before shipping."""
    from_state = order.state
    if to_state not in TRANSITIONS.get(from_state, set()):
        raise OrderError(f"订单{STATES.get(from_state, from_state)}，不能改为{STATES[to_state]}")
    now = now or datetime.now(UTC)
    changes: dict[str, Any] = {"state": to_state}
    if to_state == "paid":
        changes["paid_at"] = now
    moved = db.execute(
        update(Order)
        .where(Order.id == order.id, Order.state == from_state)
        .values(**changes)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.refresh(order)
        return False
    order.state = to_state
    sold = 0
    if to_state == "paid":
        sold = 1
        set_committed_value(order, "paid_at", now)  # written by the UPDATE above
    elif from_state in COUNTED_SOLD and to_state in ("cancelled", "refunded"):
        sold = -1
    if sold == 1:
        members.on_paid(db, order.openid, order.total_fen, now)
    elif sold == -1:
        members.on_refunded(db, order.openid, order.total_fen)
    if sold:  # 已售N件 counts paid units, and forgets them when the money goes back
        for line in order.lines:
            db.execute(
                update(Product)
                .where(Product.id == line.product_id)
                .values(sold_count=Product.sold_count + sold * line.quantity)
                .execution_options(synchronize_session=False)
            )
    if (from_state, to_state) in RETURNS_STOCK:
        for line in order.lines:
            if line.flash_item_id is not None:
                continue  # back to its flash session, by promotions' listener
            db.execute(
                update(Sku)
                .where(Sku.id == line.sku_id)
                .values(stock=Sku.stock + line.quantity)
                .execution_options(synchronize_session=False)
            )
    db.add(OrderEvent(order_id=order.id, at=now, from_state=from_state, to_state=to_state,
                      actor=actor, note=note))
    db.flush()
    _tell_listeners(db, order, from_state, to_state, now)
    return True


def history(db: Session, order_id: int) -> list[OrderEvent]:
    query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    return list(db.scalars(query))


def page_token(secret: str, number: str) -> str:
    """Signs an order's page link (/shop/o/<number>?t=…) so order numbers cannot be walked."""
    return hmac.new(secret.encode(), number.encode(), hashlib.sha256).hexdigest()[:16]


def page_token_matches(secret: str, number: str, token: str) -> bool:
    return hmac.compare_digest(page_token(secret, number), token)


def count_by_state(db: Session) -> dict[str, int]:
    """How many orders are in each state (every state present, 0 when none): the console's
    tabs, so a manager sees at a glance how many paid orders wait to be shipped."""
    counts = dict.fromkeys(STATES, 0)
    for state, count in db.execute(select(Order.state, func.count()).group_by(Order.state)):
        counts[state] = count
    return counts


def search(db: Session, *, state: str = "", query: str = "", limit: int = 200) -> list[Order]:
    """Orders newest first, of `state` if it is one, matching `query` if given: part of the
    order number, of the recipient's phone (digits, spaces and dashes ignored) or of their name.

    The address is a JSON snapshot, so the database narrows by substring and the exact field
    is checked here (a name must not match a street, a phone digit not a house number).
    """
    select_orders = select(Order).order_by(Order.id.desc())
    if state in STATES:
        select_orders = select_orders.where(Order.state == state)
    query = query.strip()[:64]
    if not query:
        return list(db.scalars(select_orders.limit(limit)))
    digits = re.sub(r"[\s\-]", "", query)
    wanted = digits if digits.isdigit() else query
    select_orders = select_orders.where(or_(Order.number.contains(wanted, autoescape=True),
                                            Order.address.contains(wanted, autoescape=True)))
    found = []
    for order in db.scalars(select_orders.limit(limit * 5)):
        fields = order.address_fields
        phone = re.sub(r"\D", "", str(fields.get("phone", "")))
        if (wanted in order.number or (wanted.isdigit() and wanted in phone)
                or query in str(fields.get("name", ""))):
            found.append(order)
            if len(found) == limit:
                break
    return found
