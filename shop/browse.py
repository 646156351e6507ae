"""What the chat shows while a customer browses: category counts, pages of products, a card.

Plain data and text, no Flask and no WeChat: handlers/browse.py turns it into replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.money import yuan
from shop.catalog import Category, Product
from shop.images import cover_path

PAGE_SIZE = 5


@dataclass(frozen=True)
class Card:
    product_id: int
    title: str
    description: str
    path: str  # /shop/p/<id>, made absolute by the handler
    picture: str = ""  # the cover: a path under this site (made absolute too), a URL, or ""


def categories(db: Session) -> list[tuple[str, int]]:
    """(category, products on the shelf) in the merchant's order."""
    rows = db.execute(
        select(Category.name, func.count(Product.id))
        .join(Product, Product.category_id == Category.id)
        .where(Product.on_shelf.is_(True))
        .group_by(Category.id, Category.name, Category.position)
        .order_by(Category.position, Category.id)
    )
    return [(name, count) for name, count in rows]


def in_category(db: Session, name: str) -> list[int]:
    query = (
        select(Product.id)
        .join(Category, Product.category_id == Category.id)
        .where(Category.name == name, Product.on_shelf.is_(True))
        .order_by(Product.sold_count.desc(), Product.id)
    )
    return list(db.scalars(query))


def price_label(product: Product) -> str:
    prices = sorted({sku.price_fen for sku in product.skus})
    if not prices:
        return ""
    return yuan(prices[0]) + ("起" if len(prices) > 1 else "")


def menu_link(label: str, content: str, menu_id: int) -> str:
    """A tappable line in a text reply: tapping sends `content` as the customer's message."""
    return (
        f'<a href="weixin://bizmsgmenu?msgmenucontent={quote(content)}&msgmenuid={menu_id}">'
        f"{label}</a>"
    )


def category_text(rows: list[tuple[str, int]]) -> str:
    if not rows:
        return "店铺正在上新，请稍后再来看看。"
    lines = ["🛍 商品分类（点击或回复序号查看）："]
    for number, (name, count) in enumerate(rows, start=1):
        lines.append(f"{number}. {menu_link(name, f'分类 {name}', number)}（{count}件）")
    lines.append("也可以直接回复想买的东西，比如「口红」。")
    return "\n".join(lines)


def page_text(db: Session, title: str, ids: list[int], page: int) -> str:
    """One page of a product list, numbered 1–5 on every page."""
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    chunk = ids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    products = {p.id: p for p in db.scalars(select(Product).where(Product.id.in_(chunk)))}
    lines = [f"{title}共 {len(ids)} 件（第 {page + 1}/{pages} 页）："]
    for number, product_id in enumerate(chunk, start=1):
        product = products.get(product_id)
        if product is None:
            continue
        link = menu_link(product.name, f"商品 {product.id}", product.id)
        lines.append(f"{number}. {link} {price_label(product)}")
    hint = "回复序号查看详情"
    if page + 1 < pages:
        hint += "，回复「下一页」翻页"
    if page > 0:
        hint += "，回复「上一页」返回"
    lines.append(hint + "。")
    return "\n".join(lines)


def card(db: Session, product_id: int) -> Card | None:
    product = db.get(Product, product_id)
    if product is None or not product.on_shelf:
        return None
    stock = sum(sku.stock for sku in product.skus)
    variants = "、".join(sku.variant for sku in product.skus[:4])
    state = f"库存 {stock}" if stock else "暂时缺货"
    description = f"{variants}\n已售{product.sold_count}件 · {state}\n{product.description}"
    return Card(
        product_id=product.id,
        title=f"{product.name} {price_label(product)}",
        description=description.strip()[:120],
        path=f"/shop/p/{product.id}",
        picture=cover_path(product),
    )
