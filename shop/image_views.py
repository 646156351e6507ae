"""The product's pictures in the console: upload several, add an object store's https picture,
choose the cover, reorder, delete. The rules (checks, re-encoding, order) are in shop/images.py.

Every change goes back to the product's edit page with what happened, and onto the audit log.
"""

from __future__ import annotations

from flask import current_app, redirect, request, url_for
from werkzeug.datastructures import FileStorage

from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import console_blueprint
from shop import images
from shop.catalog import Product
from shop.images import ImageError, MediaStore

bp = console_blueprint("shop_images", __name__, "/admin/shop/products")

#: One upload request: a few phone photos at once; each file is also held to its own cap.
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_NAME = 40  # of a file's name when a refusal quotes it


@bp.url_value_preprocessor
def _allow_pictures(endpoint: str | None, _values: dict | None) -> None:
    """The app caps bodies at 64 KiB; pictures need more. Runs before the CSRF check reads
    the form, which is when the cap applies."""
    if endpoint == "shop_images.upload":
        request.max_content_length = UPLOAD_MAX_BYTES + FORM_OVERHEAD_BYTES


@bp.errorhandler(413)
def _too_large(_error: Exception):
    """Too much at once comes back to the product with a reason, not a bare 413."""
    product_id = (request.view_args or {}).get("product_id")
    error = (f"一次最多上传 {UPLOAD_MAX_BYTES // 1024 // 1024} MB，"
             f"每张最多 {images.MAX_UPLOAD_BYTES // 1024 // 1024} MB，请分批上传")
    if product_id is None:
        return redirect(url_for("shop_admin.list_products", error=error))
    return _back(product_id, error=error)


def media_store() -> MediaStore:
    return MediaStore(current_app.config["BOT_DATA_DIR"])


def _back(product_id: int, **message: str):
    return redirect(url_for("shop_admin.edit_product", product_id=product_id, **message)
                    + "#pictures")


def _record(product: Product, change: str, **detail: object) -> None:
    audit_log.record(get_db(), "product.images", actor=current_account(),
                     target=f"product:{product.id}", change=change, address=client_address(),
                     **detail)


@bp.post("/<int:product_id>/images")
@requires("catalog")
def upload(product_id: int):
    """Several pictures at once: each checked and re-encoded; a bad one is named with why,
    the good ones are kept."""
    db, store = get_db(), media_store()
    product = get_or_404(Product, product_id)
    files = [f for f in request.files.getlist("images") if f.filename]
    if not files:
        return _back(product_id, error=f"请选择要上传的图片（{images.KINDS}）")
    added, refused = [], []
    for upload_file in files:
        try:
            image = images.add_upload(db, store, product, _read_capped(upload_file))
        except ImageError as error:
            refused.append(f"「{upload_file.filename[:MAX_NAME]}」{error}")
            continue
        added.append(image.id)
    if added:
        _record(product, "upload", images=added)
        db.commit()
    notice = f"已上传 {len(added)} 张图片" if added else ""
    return _back(product_id, **({"notice": notice} if notice else {}),
                 **({"error": "；".join(refused)} if refused else {}))


def _read_capped(upload_file: FileStorage) -> bytes:
    """At most one byte over the cap is read, so a huge file costs no memory to refuse."""
    return upload_file.stream.read(images.MAX_UPLOAD_BYTES + 1)


@bp.post("/<int:product_id>/images/url")
@requires("catalog")
def add_url(product_id: int):
    """An object store's https picture, shown as it is (the server never fetches it)."""
    db = get_db()
    product = get_or_404(Product, product_id)
    try:
        image = images.add_url(db, product, request.form.get("url", ""))
    except ImageError as error:
        db.rollback()
        return _back(product_id, error=str(error))
    _record(product, "url", image=image.id, url=image.url)
    db.commit()
    return _back(product_id, notice="已添加图片链接")


@bp.post("/<int:product_id>/images/<int:image_id>/cover")
@requires("catalog")
def set_cover(product_id: int, image_id: int):
    """The chat's card and the product page lead with this picture."""
    return _change(product_id, image_id, "cover", "已设为封面",
                   lambda db, product: images.set_cover(db, product, image_id))


@bp.post("/<int:product_id>/images/<int:image_id>/move")
@requires("catalog")
def move(product_id: int, image_id: int):
    step = -1 if request.form.get("step") == "up" else 1
    return _change(product_id, image_id, "move", "顺序已调整",
                   lambda db, product: images.move(db, product, image_id, step))


@bp.post("/<int:product_id>/images/<int:image_id>/delete")
@requires("catalog")
def delete(product_id: int, image_id: int):
    """The picture leaves the gallery; its files go once that is committed."""
    db = get_db()
    product = get_or_404(Product, product_id)
    try:
        key = images.remove(db, product, image_id)
    except ImageError as error:
        db.rollback()
        return _back(product_id, error=str(error))
    _record(product, "delete", image=image_id)
    db.commit()
    if key:
        media_store().delete(key)
    return _back(product_id, notice="图片已删除")


def _change(product_id: int, image_id: int, change: str, done: str, apply):
    db = get_db()
    product = get_or_404(Product, product_id)
    try:
        apply(db, product)
    except ImageError as error:
        db.rollback()
        return _back(product_id, error=str(error))
    _record(product, change, image=image_id)
    db.commit()
    return _back(product_id, notice=done)
