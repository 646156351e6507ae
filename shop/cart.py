"""The cart: what a customer put aside, one row per SKU, ordered together at 结算.

Nothing is reserved while it sits in the cart (a cart is a wish, an order is a promise), so
the cart shows the live price and stock each time, and checkout goes through
shop/orders.place like a single purchase: all lines or none. Lines that were ordered leave the
cart in the same transaction as the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from core.money import yuan
from shop.catalog import Product, Sku
from shop.orders import MAX_QUANTITY, OrderError, quantity_problem

MAX_LINES = 20  # a chat list longer than this is unreadable


class CartItem(Base):
    __tablename__ = "shop_cart_items"
    __table_args__ = (UniqueConstraint("openid", "sku_id", name="uq_cart_openid_sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    sku_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Line:
    """A cart line as the customer sees it now: live price, stock and shelf state."""

    position: int
    sku_id: int
    name: str
    variant: str
    unit_price_fen: int
    quantity: int
    stock: int
    available: bool

    @property
    def problem(self) -> str:
        if not self.available:
            return "已下架"
        if self.stock < self.quantity:
            return "缺货" if self.stock == 0 else f"仅剩 {self.stock} 件"
        return ""


def lines(db: Session, openid: str) -> list[Line]:
    rows = db.execute(
        select(CartItem, Sku, Product)
        .join(Sku, Sku.id == CartItem.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(CartItem.openid == openid)
        .order_by(CartItem.id)
    ).all()
    return [
        Line(position, sku.id, product.name, sku.variant, sku.price_fen, item.quantity,
             sku.stock, product.on_shelf)
        for position, (item, sku, product) in enumerate(rows, start=1)
    ]


def add(db: Session, openid: str, sku_id: int, quantity: int,
        now: datetime | None = None) -> int:
    """Put `quantity` of an SKU in the cart (adding to what is there); returns the line's
    quantity. Raises OrderError with the customer's reason."""
    if problem := quantity_problem(quantity):
        raise OrderError(problem)
    sku = db.get(Sku, sku_id)
    product = db.get(Product, sku.product_id) if sku else None
    if sku is None or product is None or not product.on_shelf:
        raise OrderError("商品已下架")
    item = db.scalar(select(CartItem).where(CartItem.openid == openid,
                                            CartItem.sku_id == sku_id))
    if item is None:
        count = db.scalar(select(CartItem.id).where(CartItem.openid == openid)
                          .order_by(CartItem.id).offset(MAX_LINES - 1).limit(1))
        if count is not None:
            raise OrderError(f"购物车最多放 {MAX_LINES} 种商品，请先结算或删除一些")
        item = CartItem(openid=openid, sku_id=sku_id, quantity=0,
                        added_at=now or datetime.now(UTC))
        db.add(item)
    if item.quantity + quantity > MAX_QUANTITY:
        raise OrderError(f"单件商品一次最多购买 {MAX_QUANTITY} 件")
    item.quantity += quantity
    db.flush()
    return item.quantity


def _item_at(db: Session, openid: str, position: int) -> CartItem:
    items = list(db.scalars(select(CartItem).where(CartItem.openid == openid)
                            .order_by(CartItem.id)))
    if not 1 <= position <= len(items):
        if not items:
            raise OrderError("购物车是空的")
        raise OrderError(f"购物车里只有 {len(items)} 种商品，请回复 1–{len(items)} 的序号")
    return items[position - 1]


def set_quantity(db: Session, openid: str, position: int, quantity: int) -> None:
    """"2 改 3": the second line's quantity; 0 removes it."""
    item = _item_at(db, openid, position)
    if quantity == 0:
        db.delete(item)
    else:
        if problem := quantity_problem(quantity):
            raise OrderError(problem)
        item.quantity = quantity
    db.flush()


def remove(db: Session, openid: str, position: int) -> str:
    """"删除 2"; returns the product's name for the answer."""
    item = _item_at(db, openid, position)
    sku = db.get(Sku, item.sku_id)
    name = db.get(Product, sku.product_id).name if sku else "商品"
    db.delete(item)
    db.flush()
    return name


def clear(db: Session, openid: str, sku_ids: list[int] | None = None) -> None:
    """Empty the cart, or take out the lines just ordered."""
    query = delete(CartItem).where(CartItem.openid == openid)
    if sku_ids is not None:
        query = query.where(CartItem.sku_id.in_(sku_ids))
    db.execute(query.execution_options(synchronize_session=False))


def summary(cart: list[Line]) -> str:
    """The cart as a numbered chat list with the total of what can be ordered."""
    if not cart:
        return "购物车是空的。回复「逛逛」看看，商品卡片后回复「加入购物车」。"
    rows = ["您的购物车："]
    for line in cart:
        mark = f"（{line.problem}）" if line.problem else ""
        rows.append(f"{line.position}. {line.name}（{line.variant}）{yuan(line.unit_price_fen)}"
                    f" × {line.quantity}{mark}")
    ready = [line for line in cart if not line.problem]
    total = sum(line.unit_price_fen * line.quantity for line in ready)
    rows.append(f"合计 {yuan(total)}" + ("（不含缺货/下架商品）" if len(ready) < len(cart) else ""))
    rows.append("回复「结算」下单；「删除 1」移除；「1 改 2」修改数量；「清空购物车」。")
    return "\n".join(rows)


def checkout_items(cart: list[Line]) -> list[tuple[int, int]]:
    """What 结算 orders: every line that can be bought now. Raises OrderError if none."""
    items = [(line.sku_id, line.quantity) for line in cart if not line.problem]
    if not items:
        raise OrderError("购物车里没有可以购买的商品" if cart else "购物车是空的")
    return items
