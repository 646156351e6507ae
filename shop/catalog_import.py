"""Import products from CSV or JSON, with a report of every rejected row and why.

CSV: one row per SKU, headed `category,name,variant,price,original_price,stock,tags,
description,on_shelf,return_exception` (prices in yuan, e.g. 129 or 12.90; return_exception is
empty or one of custom/fresh/digital/hygiene, see shop/catalog.RETURN_EXCEPTIONS). Rows with
the same category and name are one product. JSON: a list of products, each with
`skus: [{variant, price, stock, original_price}]` and optionally `return_exception`.

A product is imported whole or not at all: if any of its rows is bad, none of them is
written, and the report names every bad row by line number. Product copy (name and
description) passes the content gate: blocked wording rejects the product, wording that needs
review imports it off the shelf, and the reviewer's approval puts it on the shelf when the file
asked for that (shop/shelf.py). A product whose name already exists
in its category is updated (copy, prices, stock) instead of duplicated.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content_audit import gate
from content_audit.bulk_import import ImportReport
from content_audit.screener import Screener
from core.money import MAX_FEN, MoneyError, parse_yuan
from shop import catalog
from shop.catalog import Category, Product, Sku
from shop.product_form import copy_text, gate_refusal

MAX_STOCK = 1_000_000
FIELDS = ("category", "name", "variant", "price", "original_price", "stock", "tags",
          "description", "on_shelf", "return_exception")


@dataclass
class Draft:
    """One product as read from the file, before it is written."""

    category: str
    name: str
    lines: list[int] = field(default_factory=list)
    skus: list[dict[str, Any]] = field(default_factory=list)
    tags: str = ""
    description: str = ""
    on_shelf: bool = True
    shelf_when_approved: bool = False  # held for review while the file asked for the shelf
    return_exception: str = ""
    errors: list[tuple[int, str]] = field(default_factory=list)


def _flag(value: Any) -> bool:
    return str(value).strip().lower() not in ("0", "false", "no", "否", "下架")


def _sku(row: dict[str, Any], line: int, draft: Draft) -> None:
    variant = str(row.get("variant") or "默认").strip()[:64]
    try:
        price = parse_yuan(str(row.get("price", "")))
        if not 0 < price <= MAX_FEN:
            raise MoneyError("out of range")
    except MoneyError:
        reason = f"价格「{row.get('price')}」无效（0.01–{MAX_FEN // 100} 元，如 129 或 12.90）"
        draft.errors.append((line, reason))
        return
    original = None
    if str(row.get("original_price") or "").strip():
        try:
            original = parse_yuan(str(row["original_price"]))
        except MoneyError:
            draft.errors.append((line, f"原价「{row['original_price']}」无效"))
            return
    try:
        stock = int(str(row.get("stock", "")).strip())
        if not 0 <= stock <= MAX_STOCK:
            raise ValueError
    except ValueError:
        draft.errors.append((line, f"库存「{row.get('stock')}」无效（0–{MAX_STOCK} 的整数）"))
        return
    if any(s["variant"] == variant for s in draft.skus):
        draft.errors.append((line, f"规格「{variant}」重复"))
        return
    draft.skus.append({"variant": variant, "price": price, "original": original, "stock": stock})


def _return_exception(value: Any, line: int, draft: Draft) -> None:
    kind = str(value or "").strip()
    if kind and kind not in catalog.RETURN_EXCEPTIONS:
        allowed = "、".join(catalog.RETURN_EXCEPTIONS)
        draft.errors.append((line, f"return_exception 只能为空或 {allowed}"))
    elif kind or not draft.return_exception:
        draft.return_exception = kind


def read_csv(text: str) -> list[Draft]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [name for name in ("name", "price", "stock") if name not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"CSV 缺少列：{', '.join(missing)}")
    drafts: dict[tuple[str, str], Draft] = {}
    for row in reader:
        line = reader.line_num
        name = str(row.get("name") or "").strip()
        category = str(row.get("category") or "").strip()[:32]
        draft = drafts.setdefault((category, name), Draft(category, name))
        draft.lines.append(line)
        if not name or len(name) > 64:
            draft.errors.append((line, "商品名称需 1–64 个字"))
            continue
        draft.tags = str(row.get("tags") or draft.tags).strip()[:255]
        draft.description = str(row.get("description") or draft.description).strip()
        draft.on_shelf = _flag(row.get("on_shelf", "1") or "1")
        _return_exception(row.get("return_exception"), line, draft)
        _sku(row, line, draft)
    return list(drafts.values())


def read_json(text: str) -> list[Draft]:
    items = json.loads(text)
    if not isinstance(items, list):
        raise ValueError("JSON 需要是商品列表")
    drafts = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            draft = Draft("", "")
            draft.lines.append(index)
            draft.errors.append((index, "不是一个商品对象"))
            drafts.append(draft)
            continue
        draft = Draft(str(item.get("category", "")).strip()[:32], str(item.get("name", "")).strip())
        draft.lines.append(index)
        draft.tags = str(item.get("tags", "")).strip()[:255]
        draft.description = str(item.get("description", "")).strip()
        draft.on_shelf = _flag(item.get("on_shelf", True))
        _return_exception(item.get("return_exception"), index, draft)
        if not draft.name or len(draft.name) > 64:
            draft.errors.append((index, "商品名称需 1–64 个字"))
        skus = item.get("skus")
        if not isinstance(skus, list) or not skus:
            draft.errors.append((index, "至少需要一个规格（skus）"))
        else:
            for sku in skus:
                _sku(sku if isinstance(sku, dict) else {}, index, draft)
        drafts.append(draft)
    return drafts


def import_catalog(
    db: Session,
    text: str,
    *,
    fmt: str,
    author: str,
    screener: Screener,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read, check and write the products, all in the caller's transaction.

    `screener` is the content gate's screener on the live rules: an import passes the same
    rules as a product saved in the console.

    A dry run is this same call in a transaction the caller rolls back, so it reports exactly
    what a real import would do and leaves nothing behind.
    """
    drafts = read_json(text) if fmt == "json" else read_csv(text)
    report = ImportReport()
    for draft in drafts:
        if progress:
            progress(1)
        if not draft.errors and not draft.skus:
            draft.errors.append((draft.lines[0], "没有可用的规格"))
        if draft.errors:
            bad_lines = {line for line, _ in draft.errors}
            report.rejected += draft.errors
            report.rejected += [
                (line, f"同一商品「{draft.name}」的其他行有错误，整件未导入")
                for line in draft.lines
                if line not in bad_lines
            ]
            continue
        copy = copy_text(draft.name, draft.description, draft.tags)
        outcome = gate.check(db, copy, screener=screener, source="product", author=author,
                             source_ref=f"{draft.category}/{draft.name}"[:64])
        if outcome.refused:
            report.rejected += [(line, gate_refusal(outcome, "未导入"))
                                for line in draft.lines[:1]]
            continue
        if outcome.held:
            draft.shelf_when_approved, draft.on_shelf = draft.on_shelf, False
            report.held_for_review.append(draft.name)
        # No savepoint per product: pysqlite's default transaction handling turns a released
        # SAVEPOINT into a commit. Every check happens before writing, and a failure while
        # writing rolls back the caller's whole transaction, so nothing is half-imported.
        created = _write(db, draft)
        report.created += created
        report.updated += not created
    report.rejected.sort()
    return report


def _write(db: Session, draft: Draft) -> bool:
    """Create the product, or update the one with this name in this category; True if new."""
    category_id = catalog.category(db, draft.category).id if draft.category else None
    existing = db.scalar(
        select(Product).where(Product.name == draft.name, Product.category_id == category_id)
    )
    if existing is None:
        catalog.add_product(
            db, name=draft.name, category_name=draft.category, description=draft.description,
            tags=draft.tags, on_shelf=draft.on_shelf,
            skus=[(s["variant"], s["price"], s["stock"]) for s in draft.skus],
        )
        product = db.scalar(
            select(Product).where(Product.name == draft.name, Product.category_id == category_id)
        )
        for sku, data in zip(product.skus, draft.skus, strict=True):
            sku.original_price_fen = data["original"]
        product.return_exception = draft.return_exception
        product.shelf_when_approved = draft.shelf_when_approved
        db.flush()
        return True
    existing.description = draft.description
    existing.tags = draft.tags
    existing.on_shelf = draft.on_shelf
    existing.shelf_when_approved = draft.shelf_when_approved
    existing.return_exception = draft.return_exception
    by_variant = {sku.variant: sku for sku in existing.skus}
    for data in draft.skus:
        sku = by_variant.get(data["variant"])
        if sku is None:
            db.add(Sku(product_id=existing.id, variant=data["variant"], price_fen=data["price"],
                       original_price_fen=data["original"], stock=data["stock"]))
        else:
            sku.price_fen, sku.original_price_fen = data["price"], data["original"]
            sku.stock = data["stock"]
    db.flush()
    return False


def export_json(db: Session) -> str:
    """Every product as the JSON import reads it (prices in yuan)."""
    categories = {c.id: c.name for c in db.scalars(select(Category))}
    out = []
    for product in db.scalars(select(Product).order_by(Product.id)):
        out.append({
            "category": categories.get(product.category_id, ""),
            "name": product.name,
            "tags": product.tags,
            "description": product.description,
            "on_shelf": product.on_shelf,
            **({"return_exception": product.return_exception}
               if product.return_exception else {}),
            "skus": [
                {"variant": s.variant, "price": f"{s.price_fen / 100:.2f}", "stock": s.stock,
                 **({"original_price": f"{s.original_price_fen / 100:.2f}"}
                    if s.original_price_fen else {})}
                for s in product.skus
            ],
        })
    return json.dumps(out, ensure_ascii=False, indent=1)
