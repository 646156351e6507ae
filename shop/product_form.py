"""The product form of the console: what a manager typed, checked, then saved.

Separate from shop/catalog.py (the models and the rules every path shares) because only the
console edits a product field by field; the import has its own reader in catalog_import.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from content_audit.gate import Outcome
from core.money import MAX_FEN, MoneyError, parse_yuan
from shop.catalog import (
    RETURN_EXCEPTIONS,
    CatalogError,
    Category,
    Product,
    Sku,
    category,
)

MAX_STOCK = 1_000_000
MAX_DESCRIPTION = 2000
MAX_SKUS = 50
_TAG_SEPARATORS = re.compile(r"[\s,，、;；]+")
_WHOLE_NUMBER = re.compile(r"^\d{1,9}$")


class StockMoved(CatalogError):
    """Orders changed a SKU's stock while the form was open: the manager must look again."""

    def __init__(self, sku_id: int, variant: str, current: int):
        super().__init__(f"规格「{variant}」的库存刚刚因订单变为 {current}，请核对后再保存")
        self.sku_id, self.current = sku_id, current


@dataclass
class SkuRow:
    """One SKU row of the product form exactly as typed (prices in yuan), so a refused form
    comes back with the merchant's input intact."""

    sku_id: str = ""  # "" for a new row
    variant: str = ""
    price: str = ""
    original_price: str = ""
    stock: str = ""
    stock_was: str = ""  # the stock shown when the form opened: only a changed figure is written

    @property
    def blank(self) -> bool:
        typed = (self.variant, self.price, self.original_price, self.stock)
        return not self.sku_id and not any(value.strip() for value in typed)


@dataclass
class ProductForm:
    """The product form as typed; `of` fills it from a saved product. Pictures are not in it:
    they are uploaded one by one beside it (shop/images.py), since a refused form could not
    give the files back."""

    name: str = ""
    category: str = ""
    description: str = ""
    tags: str = ""
    on_shelf: bool = False  # the manager wants it on sale (it may still wait for review)
    return_exception: str = ""
    skus: list[SkuRow] = field(default_factory=list)

    @classmethod
    def of(cls, db: Session, product: Product) -> ProductForm:
        return cls(
            name=product.name, category=_category_name(db, product),
            description=product.description, tags=product.tags,
            on_shelf=product.on_shelf or product.shelf_when_approved,
            return_exception=product.return_exception,
            skus=[
                SkuRow(str(sku.id), sku.variant, yuan_text(sku.price_fen),
                       yuan_text(sku.original_price_fen) if sku.original_price_fen else "",
                       str(sku.stock), str(sku.stock))
                for sku in product.skus
            ],
        )


@dataclass(frozen=True)
class CheckedSku:
    sku_id: int | None
    variant: str
    price_fen: int
    original_price_fen: int | None
    stock: int
    stock_was: int | None


@dataclass(frozen=True)
class CheckedProduct:
    """A product form that passed every check: what `save_product` writes."""

    name: str
    category: str
    description: str
    tags: str
    on_shelf: bool
    return_exception: str
    skus: tuple[CheckedSku, ...]


def yuan_text(fen: int) -> str:
    """1290 → "12.90", 9900 → "99": a price as the merchant types it (no ¥)."""
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}" if cents else str(whole)


def copy_text(name: str, description: str, tags: str) -> str:
    """The words customers see of a product, as the content gate screens them."""
    return " ".join(part for part in (name, description, tags) if part)


def product_copy(product: Product) -> str:
    return copy_text(product.name, product.description, product.tags)


def gate_refusal(outcome: Outcome, result: str) -> str:
    """Why the gate refused product copy, led by what did not happen (`result`: 未保存, 未上架,
    未导入). The gate's own message says 未发送, which fits a push, not a product."""
    if outcome.status == "rejected":
        item = outcome.item
        verdict = "审核要求修改" if item is not None and item.state == "changes_requested" \
            else "审核未通过"
        reason = item.reason if item is not None and item.reason else "未说明原因"
        return f"{result}：这段文案{verdict}（{reason}），请修改后再试"
    reasons = "；".join(
        f"「{flag.term}」" + (f"，可改为「{flag.suggestion}」" if flag.suggestion else "")
        for flag in outcome.verdict.flags if flag.severity == "block"
    )
    return f"{result}：含有广告法或平台规则禁止的用语：{reasons}"


def check_product(db: Session, form: ProductForm, product: Product | None = None
                  ) -> CheckedProduct:
    """Every rule of the product form, checked before anything is written.

    Raises CatalogError naming the first problem in the merchant's words. `product` is the one
    being edited (None for a new one): its SKUs are the only ones the form may change.
    """
    name = form.name.strip()
    if not 1 <= len(name) <= 64:
        raise CatalogError("商品名称需 1–64 个字")
    category_name = form.category.strip()
    if len(category_name) > 32:
        raise CatalogError("类目名称最多 32 个字")
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise CatalogError(f"商品描述最多 {MAX_DESCRIPTION} 个字")
    tags = " ".join(tag for tag in _TAG_SEPARATORS.split(form.tags) if tag)
    if len(tags) > 255:
        raise CatalogError("标签合计最多 255 个字")
    if form.return_exception not in ("", *RETURN_EXCEPTIONS):
        raise CatalogError("请选择有效的退货规则")
    _check_unique_name(db, name, category_name, product)
    return CheckedProduct(name, category_name, description, tags, form.on_shelf,
                          form.return_exception, _check_skus(form.skus, product))


def _category_name(db: Session, product: Product) -> str:
    found = db.get(Category, product.category_id) if product.category_id else None
    return found.name if found else ""


def _check_unique_name(db: Session, name: str, category_name: str,
                       product: Product | None) -> None:
    """Import matches products by name within a category, so two of a name would be one."""
    category_id = None
    if category_name:
        category_id = db.scalar(select(Category.id).where(Category.name == category_name))
        if category_id is None:
            return  # a new category has no products yet
    query = select(Product.id).where(Product.name == name, Product.category_id == category_id)
    if product is not None:
        query = query.where(Product.id != product.id)
    if db.scalar(query.limit(1)) is not None:
        where = f"类目「{category_name}」" if category_name else "未分类商品"
        raise CatalogError(f"{where}中已有同名商品「{name}」")


def _check_skus(rows: list[SkuRow], product: Product | None) -> tuple[CheckedSku, ...]:
    owned = {sku.id: sku for sku in product.skus} if product is not None else {}
    checked: list[CheckedSku] = []
    for row in rows:
        if row.blank:
            continue
        sku_id = None
        if row.sku_id:
            sku_id = int(row.sku_id) if row.sku_id.isdigit() else -1
            if sku_id not in owned or any(c.sku_id == sku_id for c in checked):
                raise CatalogError("规格与商品不符，请刷新页面后重试")
        variant = row.variant.strip() or "默认"
        if len(variant) > 64:
            raise CatalogError(f"规格名称「{variant[:16]}…」最多 64 个字")
        if any(c.variant == variant for c in checked):
            raise CatalogError(f"规格「{variant}」重复")
        price = _price(row.price, variant, "价格")
        original = _price(row.original_price, variant, "原价") if row.original_price.strip() \
            else None
        if original is not None and original <= price:
            raise CatalogError(f"规格「{variant}」的原价（划线价）需高于售价，或不填")
        stock_was = None
        if sku_id is not None:
            if not _WHOLE_NUMBER.match(row.stock_was.strip()):
                raise CatalogError("表单已过期，请刷新页面后重试")
            stock_was = int(row.stock_was)
        checked.append(CheckedSku(sku_id, variant, price, original, _stock(row.stock, variant),
                                  stock_was))
    if not checked:
        raise CatalogError("商品至少需要一个规格（填写规格的价格和库存）")
    if len(checked) > MAX_SKUS:
        raise CatalogError(f"一个商品最多 {MAX_SKUS} 个规格")
    posted = {c.sku_id for c in checked}
    for sku in owned.values():  # a row missing from the post still keeps its name
        if sku.id not in posted and any(c.variant == sku.variant for c in checked):
            raise CatalogError(f"规格「{sku.variant}」重复")
    return tuple(checked)


def _price(text: str, variant: str, label: str) -> int:
    text = text.strip()
    if not text:
        raise CatalogError(f"请填写规格「{variant}」的{label}")
    try:
        fen = parse_yuan(text)
    except MoneyError:
        fen = 0
    if not 0 < fen <= MAX_FEN:
        raise CatalogError(f"规格「{variant}」的{label}「{text}」无效：请填写 0.01–"
                           f"{MAX_FEN // 100} 元之间的金额，如 129 或 12.90")
    return fen


def _stock(text: str, variant: str) -> int:
    text = text.strip()
    stock = int(text) if _WHOLE_NUMBER.match(text) else -1
    if not 0 <= stock <= MAX_STOCK:
        raise CatalogError(f"规格「{variant}」的库存「{text}」无效：请填写 0–{MAX_STOCK} 的整数")
    return stock


def save_product(db: Session, product: Product | None, checked: CheckedProduct) -> Product:
    """Create the product (None) or update it from a checked form; returns it, flushed.

    Stock is written only where the merchant changed the figure, and then by one conditional
    UPDATE on the figure the form showed (as orders take stock): editing a price never puts
    back units a customer just bought. SKUs are never deleted, since order lines point at
    them; a variant is retired by setting its stock to 0. Raises StockMoved when orders
    changed a stock the merchant also changed; the caller rolls back.
    """
    if product is None:
        product = Product(name=checked.name, sold_count=0, created_at=datetime.now(UTC))
        db.add(product)
    product.name = checked.name
    product.category_id = category(db, checked.category).id if checked.category else None
    product.description, product.tags = checked.description, checked.tags
    product.on_shelf = checked.on_shelf
    product.return_exception = checked.return_exception
    db.flush()
    owned = {sku.id: sku for sku in product.skus}
    for row in checked.skus:
        if row.sku_id is None:
            product.skus.append(Sku(variant=row.variant, price_fen=row.price_fen,
                                    original_price_fen=row.original_price_fen, stock=row.stock))
            continue
        sku = owned[row.sku_id]
        sku.variant, sku.price_fen = row.variant, row.price_fen
        sku.original_price_fen = row.original_price_fen
        if row.stock != row.stock_was:
            moved = db.execute(
                update(Sku).where(Sku.id == sku.id, Sku.stock == row.stock_was)
                .values(stock=row.stock).execution_options(synchronize_session=False)
            ).rowcount
            if moved != 1:
                current = db.scalar(select(Sku.stock).where(Sku.id == sku.id))
                raise StockMoved(sku.id, row.variant, int(current or 0))
            db.expire(sku, ["stock"])
    db.flush()
    return product


def snapshot(db: Session, product: Product) -> dict[str, Any]:
    """What the audit log keeps of a product: copy, settings, SKUs (id, variant, fen, stock)."""
    return {
        "name": product.name, "category": _category_name(db, product),
        "description": product.description, "tags": product.tags,
        "on_shelf": product.on_shelf, "shelf_when_approved": product.shelf_when_approved,
        "return_exception": product.return_exception,
        "skus": [[s.id, s.variant, s.price_fen, s.original_price_fen, s.stock]
                 for s in product.skus],
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that differ (all of `after` for a new one)."""
    return {key: [before.get(key), value] for key, value in after.items()
            if before.get(key) != value}
