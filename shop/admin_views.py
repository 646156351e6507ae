"""The manager's shop pages in the console: orders (ship, see history) and products (create,
edit, stock, shelf, import and export). Shipping tells the customer through the
customer-service API; product copy passes the content gate whenever it is saved."""

from __future__ import annotations

import csv
import json
from datetime import date
from itertools import zip_longest

from flask import Response, current_app, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import CONTENT_SECURITY_POLICY, console_blueprint
from content_audit import gate, live_screener
from core.money import yuan
from shop import (
    carriers,
    catalog,
    images,
    order_status,
    orders,
    product_form,
    shelf,
    shipping,
    tiers,
)
from shop.addresses import from_dict
from shop.catalog import RETURN_EXCEPTIONS, CatalogError, Category, Product, Sku
from shop.catalog_import import export_json, import_catalog
from shop.orders import STATES, Order, OrderError
from shop.product_form import ProductForm, SkuRow, StockMoved

bp = console_blueprint("shop_admin", __name__, "/admin/shop", template_folder="templates")

IMPORT_MAX_BYTES = 2 * 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024  # the multipart envelope and the other fields
SKU_FIELDS = ("sku_id", "variant", "price", "original_price", "stock", "stock_was")


@bp.url_value_preprocessor
def _allow_catalog_files(endpoint: str | None, _values: dict | None) -> None:
    """The app caps bodies at 64 KiB (the webhook's limit); a catalog file may be 2 MB.

    This is the one blueprint hook that runs before the CSRF check reads the form, which is
    when the cap applies.
    """
    if endpoint == "shop_admin.import_products":
        request.max_content_length = IMPORT_MAX_BYTES + FORM_OVERHEAD_BYTES


@bp.errorhandler(413)
def _too_large(_error: Exception):
    """An oversized upload comes back to the products page with a reason, not a bare 413."""
    if request.endpoint == "shop_admin.import_products":
        error = "文件太大：导入文件最多 2 MB，请拆分后分批导入"
    else:
        error = "提交的内容太大，请精简后重试"
    return redirect(url_for("shop_admin.list_products", error=error))


SHIPPING_MAX_BYTES = 1024 * 1024  # about 20,000 rows of 订单号,快递公司,快递单号


@bp.url_value_preprocessor
def _allow_shipping_files(endpoint: str | None, _values: dict | None) -> None:
    """A shipping CSV may pass the app's 64 KiB body cap; past 1 MB the view itself says so
    on the orders page (a larger body is still the 413 page)."""
    if endpoint == "shop_admin.ship_from_file":
        request.max_content_length = 4 * SHIPPING_MAX_BYTES


@bp.get("/orders")
@requires("orders")
def list_orders():
    """Orders newest first in tabs by state with their counts, searchable by order number,
    phone or recipient; paid ones wait to be shipped, one by one or from a CSV."""
    query = request.args.get("q", "").strip()[:64]
    state = request.args.get("state", "all" if query else "paid")
    rows = orders.search(get_db(), state=state, query=query)
    return _orders_page(rows=rows, state=state, q=query, notice=request.args.get("notice", ""),
                        error=request.args.get("error", ""))


def _orders_page(**context) -> str:
    rows, priority = _priority_first(context.pop("rows"), context.get("state", ""))
    return render_template("shop_admin/orders.html", states=STATES, yuan=yuan, rows=rows,
                           priority=priority,
                           counts=orders.count_by_state(get_db()), recipient=_recipient,
                           carriers=carriers.CARRIERS, max_mb=SHIPPING_MAX_BYTES // 1024 // 1024,
                           **context)


def _priority_first(rows: list[Order], state: str) -> tuple[list[Order], set[str]]:
    """优先发货 (白银 and above, shop/tiers.py): in the paid list, waiting to be shipped, their
    orders come first, in the list's order otherwise; returns who is marked."""
    if state != "paid":
        return rows, set()
    levels = tiers.levels_of(get_db(), [order.openid for order in rows])
    first = {openid for openid, level in levels.items() if level >= tiers.PRIORITY_LEVEL}
    return sorted(rows, key=lambda order: order.openid not in first), first


def _recipient(order: Order) -> str:
    """Who the parcel is for, as the list shows it: name and masked phone."""
    fields = order.address_fields
    return from_dict({"name": fields.get("name", ""), "phone": fields.get("phone", "")}
                     ).one_line()


@bp.get("/orders/<int:order_id>")
@requires("orders")
def show_order(order_id: int):
    order = get_or_404(Order, order_id)
    return render_template(
        "shop_admin/order.html", order=order, lines=list(order.lines), states=STATES, yuan=yuan,
        address=from_dict(order.address_fields).one_line(hide_phone=False),
        events=orders.history(get_db(), order.id), error=request.args.get("error", ""),
        carriers=carriers.CARRIERS, parcel=carriers.shipment_label(order),
    )


@bp.post("/orders/<int:order_id>/ship")
@requires("orders")
def ship_order(order_id: int):
    """Ship with a listed carrier and a number in its format; the customer is told in the
    chat."""
    db = get_db()
    order = get_or_404(Order, order_id)
    try:
        shipping.ship(db, order, request.form.get("carrier", "")[:16],
                      request.form.get("tracking", "")[:64], actor=current_account().username)
    except (OrderError, carriers.TrackingError) as error:
        db.rollback()
        return redirect(url_for("shop_admin.show_order", order_id=order_id, error=str(error)))
    audit_log.record(db, "order.ship", actor=current_account(), target=order.number,
                     tracking=carriers.shipment_label(order), address=client_address())
    db.commit()
    current_app.extensions["outbox"].send(order.openid, order_status.shipped(order))
    return redirect(url_for("shop_admin.list_orders", notice=f"订单 {order.number} 已发货"))


@bp.post("/orders/ship-import")
@requires("orders")
def ship_from_file():
    """Ship many paid orders from a CSV of 订单号,快递公司,快递单号, or only check it: the page
    lists what shipped and, by line, what was refused and why. Each customer is told."""
    upload = request.files.get("file")
    dry_run = request.form.get("dry_run") == "1"
    if upload is None or not upload.filename:
        return redirect(url_for("shop_admin.list_orders", error="请选择要上传的 CSV 文件"))
    data = upload.stream.read(SHIPPING_MAX_BYTES + 1)
    if len(data) > SHIPPING_MAX_BYTES:
        return redirect(url_for("shop_admin.list_orders",
                                error="文件太大：发货文件最多 1 MB，请拆分后分批上传"))
    db, account = get_db(), current_account()
    try:
        report = shipping.ship_from_csv(db, shipping.read_text(data), actor=account.username)
    except (ValueError, csv.Error) as error:
        db.rollback()
        return redirect(url_for("shop_admin.list_orders", error=f"无法读取文件：{error}"))
    if dry_run:
        db.rollback()  # the same checks as a real upload, then nothing kept
    else:
        audit_log.record(db, "order.ship_import", actor=account, target=upload.filename[:128],
                         shipped=[number for _, number, _ in report.shipped],
                         refused=len(report.refused), address=client_address())
        db.commit()
        for order in report.shipped_orders:
            current_app.extensions["outbox"].send(order.openid, order_status.shipped(order))
    return _orders_page(rows=orders.search(db, state="paid"), state="paid", q="",
                        report=report, dry_run=dry_run)


@bp.get("/products")
@requires("catalog")
def list_products():
    """Every product (or one category's) with its cover, variants' price and stock, and where
    it stands: on sale, off, or waiting for the compliance reviewer."""
    return _products_page(notice=request.args.get("notice", ""),
                          error=request.args.get("error", ""))


def _products_page(**context) -> Response:
    db = get_db()
    chosen = request.args.get("category", "")
    query = select(Product).options(selectinload(Product.images)).order_by(Product.id)
    if chosen == "none":
        query = query.where(Product.category_id.is_(None))
    elif chosen.isdigit():
        query = query.where(Product.category_id == int(chosen))
    rows = list(db.scalars(query))
    categories = list(db.scalars(select(Category).order_by(Category.position, Category.id)))
    page = render_template("shop_admin/products.html", rows=rows, yuan=yuan,
                           categories=categories, exceptions=RETURN_EXCEPTIONS, chosen=chosen,
                           reviews=shelf.review_states(db, rows), labels=shelf.REVIEW_LABELS,
                           cover=images.cover_path, max_mb=IMPORT_MAX_BYTES // 1024 // 1024,
                           **context)
    return _with_pictures(page)


def _with_pictures(page: str) -> Response:
    """Console pages with product pictures may also show an object store's https ones."""
    response = make_response(page)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data:", "img-src 'self' data: https:")
    return response


@bp.post("/categories/<int:category_id>/returns")
@requires("catalog")
def set_category_returns(category_id: int):
    """A category's exception to 7天无理由 (生鲜 perishable, 美妆 hygiene once opened)."""
    db = get_db()
    found = get_or_404(Category, category_id)
    before = found.return_exception
    try:
        catalog.set_return_exception(found, request.form.get("return_exception", ""))
    except CatalogError as error:
        return redirect(url_for("shop_admin.list_products", error=str(error)))
    audit_log.record(db, "category.returns", actor=current_account(),
                     target=f"category:{found.id}",
                     return_exception=[before, found.return_exception], address=client_address())
    db.commit()
    notice = f"类目「{found.name}」的退货规则已保存"
    return redirect(url_for("shop_admin.list_products", notice=notice))


@bp.post("/skus/<int:sku_id>/stock")
@requires("catalog")
def set_stock(sku_id: int):
    db = get_db()
    sku = get_or_404(Sku, sku_id)
    try:
        stock = int(request.form.get("stock", ""))
        if not 0 <= stock <= 1_000_000:
            raise ValueError
    except ValueError:
        return redirect(url_for("shop_admin.list_products", error="库存需为 0–1000000 的整数"))
    before, sku.stock = sku.stock, stock
    audit_log.record(db, "product.stock", actor=current_account(), target=f"sku:{sku.id}",
                     stock=[before, stock], address=client_address())
    db.commit()
    return redirect(url_for("shop_admin.list_products", notice="库存已更新"))


@bp.post("/products/<int:product_id>/shelf")
@requires("catalog")
def toggle_shelf(product_id: int):
    """Putting a product on the shelf passes its copy through the content gate first; copy
    held for review puts it on the shelf once approved. Off the shelf (or that wish
    withdrawn) at once."""
    db = get_db()
    product = get_or_404(Product, product_id)
    back = {"category": request.form.get("category", "")} if request.form.get("category") else {}
    if product.on_shelf or product.shelf_when_approved:
        was_waiting = not product.on_shelf
        product.on_shelf = product.shelf_when_approved = False
        audit_log.record(db, "product.shelf", actor=current_account(),
                         target=f"product:{product.id}", on_shelf=False,
                         address=client_address())
        db.commit()
        done = "不再在审核通过后自动上架" if was_waiting else "已下架"
        return redirect(url_for("shop_admin.list_products", notice=f"「{product.name}」{done}",
                                **back))
    outcome = gate.check(db, product_form.product_copy(product),
                         source="product", author=current_account().username,
                         source_ref=f"product:{product.id}", screener=live_screener())
    if outcome.refused:
        db.commit()  # keeps what the gate recorded
        return redirect(url_for("shop_admin.list_products",
                                error=product_form.gate_refusal(outcome, "未上架"), **back))
    shelf.settle(product, True, outcome)
    audit_log.record(db, "product.shelf", actor=current_account(), target=f"product:{product.id}",
                     on_shelf=product.on_shelf, held_for_review=outcome.held,
                     address=client_address())
    db.commit()
    if outcome.held:
        notice = f"「{product.name}」的文案已提交合规审核，暂未上架；审核通过后会自动上架"
    else:
        notice = f"「{product.name}」已上架"
    return redirect(url_for("shop_admin.list_products", notice=notice, **back))


# --- one product: create and edit -----------------------------------------------------------


@bp.get("/products/new")
@requires("catalog")
def new_product():
    """An empty product form: copy, category, return rule, shelf and the first SKUs."""
    return _product_page(ProductForm(), None)


@bp.post("/products/new")
@requires("catalog")
def create_product():
    """Create a product; its copy passes the content gate before it is kept."""
    return _save_product(None)


@bp.get("/products/<int:product_id>/edit")
@requires("catalog")
def edit_product(product_id: int):
    """The product's form with its SKUs as they are now."""
    product = get_or_404(Product, product_id)
    return _product_page(ProductForm.of(get_db(), product), product,
                         request.args.get("error", ""), notice=request.args.get("notice", ""))


@bp.post("/products/<int:product_id>/edit")
@requires("catalog")
def update_product(product_id: int):
    """Save the product's copy, settings and SKUs; the copy passes the content gate again."""
    return _save_product(get_or_404(Product, product_id))


def _save_product(product: Product | None):
    """Check, write, screen, record. A refused form comes back as typed and nothing is kept;
    copy held for review is kept off the shelf until a reviewer approves it."""
    db, account, form = get_db(), current_account(), _posted_form()
    before = product_form.snapshot(db, product) if product is not None else {}
    try:
        checked = product_form.check_product(db, form, product)
        saved = product_form.save_product(db, product, checked)
    except StockMoved as error:
        db.rollback()
        for row in form.skus:  # the next save applies the figure the merchant typed
            if row.sku_id == str(error.sku_id):
                row.stock_was = str(error.current)
        return _product_page(form, product, str(error)), 409
    except CatalogError as error:
        db.rollback()
        return _product_page(form, product, str(error)), 400
    # Screened after the write so the review item names the product; blocked → rolled back.
    outcome = gate.check(db, product_form.product_copy(saved), source="product",
                         author=account.username, source_ref=f"product:{saved.id}",
                         screener=live_screener())
    if outcome.refused:
        db.rollback()
        return _product_page(form, product, product_form.gate_refusal(outcome, "未保存")), 400
    held = outcome.held
    shelf.settle(saved, form.on_shelf, outcome)
    audit_log.record(db, "product.update" if product else "product.create", actor=account,
                     target=f"product:{saved.id}", held_for_review=held,
                     changes=product_form.changes(before, product_form.snapshot(db, saved)),
                     address=client_address())
    db.commit()
    notice = f"「{saved.name}」已{'保存' if product else '创建'}"
    if held:
        notice += "。文案已提交合规审核，暂未上架" + (
            "；审核通过后会自动上架" if saved.shelf_when_approved else "")
    return redirect(url_for("shop_admin.list_products", notice=notice))


def _posted_form() -> ProductForm:
    form = request.form
    rows = zip_longest(*(form.getlist(name) for name in SKU_FIELDS), fillvalue="")
    return ProductForm(
        name=form.get("name", ""), category=form.get("category", ""),
        description=form.get("description", ""), tags=form.get("tags", ""),
        on_shelf=form.get("on_shelf") == "1",
        return_exception=form.get("return_exception", ""),
        skus=[SkuRow(*values) for values in rows],
    )


def _product_page(form: ProductForm, product: Product | None, error: str = "",
                  notice: str = "") -> Response:
    rows = [row for row in form.skus if not row.blank]
    rows += [SkuRow() for _ in range(max(1, 3 - len(rows)))]  # room for new variants
    categories = get_db().scalars(select(Category.name).order_by(Category.position,
                                                                 Category.name))
    action = (url_for("shop_admin.update_product", product_id=product.id) if product
              else url_for("shop_admin.create_product"))
    page = render_template("shop_admin/product_form.html", form=form, rows=rows,
                           product=product, categories=list(categories), action=action,
                           return_exceptions=RETURN_EXCEPTIONS, error=error, notice=notice,
                           pictures=list(product.images) if product else [],
                           picture_path=images.picture_path, max_images=images.MAX_IMAGES,
                           max_mb=images.MAX_UPLOAD_BYTES // 1024 // 1024,
                           kinds=images.KINDS)
    return _with_pictures(page)


# --- the whole catalog: import and export ---------------------------------------------------


@bp.post("/products/import")
@requires("catalog")
def import_products():
    """Import a CSV or JSON file, or only check it, and show every rejected row and why."""
    upload = request.files.get("file")
    dry_run = request.form.get("dry_run") == "1"
    if upload is None or not upload.filename:
        return redirect(url_for("shop_admin.list_products",
                                error="请选择要导入的 CSV 或 JSON 文件"))
    data = upload.stream.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        return _too_large(None)
    fmt = "json" if upload.filename.lower().endswith(".json") else "csv"
    db, account = get_db(), current_account()
    try:
        report = import_catalog(db, data.decode("utf-8-sig"), fmt=fmt, author=account.username,
                                screener=live_screener())
    except UnicodeDecodeError:
        error = "文件需为 UTF-8 编码（Excel 请另存为「CSV UTF-8」）"
    except json.JSONDecodeError as bad:
        error = f"JSON 格式错误：第 {bad.lineno} 行第 {bad.colno} 列"
    except csv.Error as bad:
        error = f"CSV 格式有误（单元格过长或引号不成对）：{bad}"
    except ValueError as bad:
        error = f"无法读取文件：{bad}"
    else:
        error = ""
    if error:
        db.rollback()
        return redirect(url_for("shop_admin.list_products", error=error))
    if dry_run:
        db.rollback()  # the same checks and gate as a real import, then nothing kept
    else:
        audit_log.record(db, "product.import", actor=account, target=upload.filename[:128],
                         created=report.created, updated=report.updated,
                         rejected=len(report.rejected), held=report.held_for_review,
                         address=client_address())
        db.commit()
    return _products_page(report=report, dry_run=dry_run, fmt=fmt)


@bp.get("/products/export")
@requires("catalog")
def export_products():
    """The whole catalog as the JSON file the import reads back."""
    name = f"catalog-{date.today():%Y%m%d}.json"
    return Response(export_json(get_db()), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
