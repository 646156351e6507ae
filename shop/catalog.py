"""The catalog: categories, products and their SKUs (variant, price in fen, stock).

Stock lives on the SKU and only ever changes through single conditional UPDATEs (see
shop/orders.py), so two customers can never both take the last unit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.db import Base
from core.money import MAX_FEN


class CatalogError(ValueError):
    """A catalog change that cannot be made; the message is for the merchant (Chinese)."""


# The statutory exceptions to 7天无理由退货 (消费者权益保护法 art. 25 and the 2017 implementing
# measures): these goods may be refused for a no-reason return. "" means returns are allowed.
RETURN_EXCEPTIONS = {
    "custom": "定制商品",
    "fresh": "鲜活易腐商品",
    "digital": "在线下载或拆封的数字化商品",
    "hygiene": "拆封后影响人身安全或健康的商品（如贴身卫生用品、化妆品）",
}


class Category(Base):
    __tablename__ = "shop_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A key of RETURN_EXCEPTIONS, or "": what the category's goods are, for returns.
    return_exception: Mapped[str] = mapped_column(String(16), default="", server_default="")


class Product(Base):
    __tablename__ = "shop_products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("shop_categories.id"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(String(255), default="")  # space-separated
    # Before shop_product_images: one http(s) picture, now only the cover of a product that
    # has no pictures in its gallery (the console no longer edits it).
    image_url: Mapped[str] = mapped_column(String(512), default="")
    on_shelf: Mapped[bool] = mapped_column(Boolean, default=False)
    # The manager asked for the shelf while the copy waits for the compliance reviewer: the
    # approval of these words puts the product on the shelf (shop/shelf.py), no second click.
    shelf_when_approved: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default=false())
    sold_count: Mapped[int] = mapped_column(Integer, default=0)
    # Overrides the category's return exception ("" = as the category says).
    return_exception: Mapped[str] = mapped_column(String(16), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id")
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="[ProductImage.position, ProductImage.id]"
    )


class Sku(Base):
    __tablename__ = "shop_skus"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="ck_sku_stock_not_negative"),
        CheckConstraint("price_fen > 0", name="ck_sku_price_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    variant: Mapped[str] = mapped_column(String(64), default="默认")
    price_fen: Mapped[int] = mapped_column(Integer)
    original_price_fen: Mapped[int | None] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    product: Mapped[Product] = relationship(back_populates="skus")


class ProductImage(Base):
    """One picture of a product's gallery; the first (lowest position) is the cover.

    Either an upload, re-encoded and kept under BOT_DATA_DIR/media by shop/images.py under a
    random `file_key` the server chose, or the https `url` of a picture on an object store.
    """

    __tablename__ = "shop_product_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    file_key: Mapped[str] = mapped_column(String(32), default="")  # "" for a url picture
    url: Mapped[str] = mapped_column(String(512), default="")  # "" for an upload
    width: Mapped[int] = mapped_column(Integer, default=0)  # of the stored picture; 0 for a url
    height: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    product: Mapped[Product] = relationship(back_populates="images")


def category(db: Session, name: str) -> Category:
    found = db.scalar(select(Category).where(Category.name == name))
    if found is None:
        found = Category(name=name)
        db.add(found)
        db.flush()
    return found


def add_product(
    db: Session,
    *,
    name: str,
    skus: list[tuple[str, int, int]],
    category_name: str = "",
    description: str = "",
    tags: str = "",
    on_shelf: bool = True,
) -> Product:
    """A product with its SKUs as (variant, price in fen, stock)."""
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise CatalogError("商品名称需 1–64 个字")
    if not skus:
        raise CatalogError("商品至少需要一个规格")
    for variant, price, stock in skus:
        if not isinstance(price, int) or not 0 < price <= MAX_FEN:
            raise CatalogError(f"规格「{variant}」的价格必须在 0.01–{MAX_FEN // 100} 元之间")
        if not isinstance(stock, int) or stock < 0:
            raise CatalogError(f"规格「{variant}」的库存不能为负")
    product = Product(
        name=name,
        category_id=category(db, category_name).id if category_name else None,
        description=description,
        tags=tags,
        on_shelf=on_shelf,
        sold_count=0,
        created_at=datetime.now(UTC),
    )
    db.add(product)
    db.flush()
    for variant, price, stock in skus:
        db.add(Sku(product_id=product.id, variant=variant or "默认", price_fen=price, stock=stock))
    db.flush()
    return product


def return_exception(db: Session, product_id: int) -> str:
    """The product's exception to 7天无理由 (a RETURN_EXCEPTIONS key), or "" if it has none.

    Set on the category (生鲜 are all perishable) and overridable per product (a custom
    engraving in an otherwise returnable category).
    """
    product = db.get(Product, product_id)
    if product is None:
        return ""
    if product.return_exception:
        return product.return_exception
    if product.category_id is None:
        return ""
    found = db.get(Category, product.category_id)
    return found.return_exception if found else ""


# --- the console's product form ---------------------------------------------------------------


def set_return_exception(category_row: Category, kind: str) -> None:
    """What a whole category is, for 7天无理由 (its products may still override it)."""
    if kind not in ("", *RETURN_EXCEPTIONS):
        raise CatalogError("请选择有效的退货规则")
    category_row.return_exception = kind
