"""Buying by chat, as rules: how many, which variant, where to, and the read-back.

handlers/order.py walks the customer through these steps; the rules live here so the console
and later the cart share them.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.money import yuan
from shop import addresses
from shop.addresses import Address
from shop.catalog import Product, Sku
from shop.orders import MAX_QUANTITY, Order

_NUMERALS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10}
_BUY = re.compile(
    r"^(?:我要|我想|帮我)?(?:买|购买|下单)\s*(\d+|[一两二三四五六七八九十])?\s*"
    r"(?:件|个|份|盒|支|瓶|袋|包|套)?$"
)
_CART = re.compile(
    r"^(?:加入|加到|放入|放进|添加到?)购物车\s*(\d+|[一两二三四五六七八九十])?\s*"
    r"(?:件|个|份|盒|支|瓶|袋|包|套)?$"
)
_QUANTITY = re.compile(r"^(\d+|[一两二三四五六七八九十])\s*(?:件|个|份|盒|支|瓶|袋|包|套)?$")
YES = {"是", "是的", "确认", "好", "好的", "对", "嗯", "ok", "确定", "可以"}
CANCEL = {"取消", "退出", "算了", "不买了", "不要了"}


class QuantityError(ValueError):
    """Why a quantity was refused, for the customer."""


def buy_request(text: str) -> tuple[bool, int | None]:
    """(is this a request to buy?, the quantity if one was given)."""
    match = _BUY.match(text.strip())
    if not match:
        return False, None
    return True, _number(match.group(1)) if match.group(1) else None


def cart_request(text: str) -> int | None:
    """加入购物车 [N]: the quantity (1 when not said), or None if this is not that."""
    match = _CART.match(text.strip())
    if not match:
        return None
    return _number(match.group(1)) if match.group(1) else 1


_DIGITS = re.compile(r"\d{1,12}|[一两二三四五六七八九十]")


def numbers_in(text: str) -> list[int]:
    """The numbers a customer typed, digits or 一…十 ("2 改 三" → [2, 3])."""
    return [_number(raw) for raw in _DIGITS.findall(text)]


def number_in(text: str) -> int:
    found = numbers_in(text)
    return found[0] if found else 0


def _number(raw: str) -> int:
    return int(raw) if raw.isdigit() else _NUMERALS[raw]


def quantity(text: str, stock: int) -> int:
    """A quantity the customer typed, checked against 1..99 and the stock on hand."""
    match = _QUANTITY.match(text.strip())
    if not match:
        raise QuantityError(f"请回复购买数量（1–{MAX_QUANTITY} 的数字），比如「2」。")
    number = _number(match.group(1))
    if number < 1:
        raise QuantityError("数量至少为 1。")
    if number > MAX_QUANTITY:
        raise QuantityError(f"单件商品一次最多购买 {MAX_QUANTITY} 件。")
    if number > stock:
        if not stock:
            raise QuantityError("这个规格已经卖完了。")
        raise QuantityError(f"库存只剩 {stock} 件，请少买一些。")
    return number


def sku_choices(product: Product) -> str:
    lines = ["请选择规格（回复序号）："]
    for number, sku in enumerate(product.skus, start=1):
        stock = f"库存 {sku.stock}" if sku.stock else "缺货"
        lines.append(f"{number}. {sku.variant} {yuan(sku.price_fen)}（{stock}）")
    return "\n".join(lines)


def last_address(db: Session, openid: str) -> Address | None:
    """The address of the customer's latest order that has a whole one, offered again (a
    flash-sale order may have been placed before its address was given)."""
    for order in db.scalars(
        select(Order).where(Order.openid == openid).order_by(Order.id.desc()).limit(5)
    ):
        address = addresses.from_dict(order.address_fields)
        if not address.missing:
            return address
    return None


def total(db: Session, items: list[tuple[int, int]]) -> int:
    """What `items` [(sku id, quantity)] cost at today's prices: the amount confirmed."""
    return sum(db.get(Sku, sku_id).price_fen * count for sku_id, count in items)


def read_back(db: Session, items: list[tuple[int, int]], address: Address,
              money_lines: list[str] | None = None) -> str:
    """The order as it will be placed; `money_lines` (coupon, points, what to pay) replace
    the plain total when promotions apply."""
    rows = ["请确认订单："]
    for sku_id, count in items:
        sku = db.get(Sku, sku_id)
        product = db.get(Product, sku.product_id)
        rows.append(f"{product.name}（{sku.variant}）× {count}")
    rows.extend(money_lines or [f"合计 {yuan(total(db, items))}，包邮"])
    rows.append(f"寄到：{address.one_line()}")
    rows.append("回复「确认」下单，回复「取消」放弃。")
    return "\n".join(rows)
