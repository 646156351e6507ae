"""Product pictures: an upload is checked, decoded and re-encoded before anything is kept.

Uploads are hostile input. Their size is capped before they are read whole; their type is read
from their first bytes, never from the name or the browser's Content-Type; Pillow decodes them
under a pixel cap; and only our own re-encoding (JPEG in sRGB, no metadata, at most 1080 px on
the long side, plus a 320 px thumbnail) is written, under a random key the server chose, in
BOT_DATA_DIR/media/products. Nothing a client sent ever names a file.

A picture may instead be the https address of an object store (the merchant's CDN): the server
never fetches it, it only shows it.

No Flask here: shop/image_views.py (the console) and shop/media_views.py (serving) call this.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, ImageCms, ImageOps
from sqlalchemy.orm import Session

from shop.catalog import CatalogError, Product, ProductImage

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_IMAGES = 9  # per product, as many as WeChat's own picture grid
MAX_PIXELS = 40_000_000  # decoded RGB stays under ~120 MB
MAX_SIDE = 12_000
MIN_SIDE = 100  # smaller would be a blur on a phone's card
LARGE_SIDE = 1080
THUMB_SIDE = 320
JPEG_QUALITY = 85
MEDIA_PREFIX = "/shop/media"  # where shop/media_views.py serves the stored files
_FILE_NAME = re.compile(r"^([0-9a-f]{32})(-t)?\.jpg$")
_URL_UNSAFE = re.compile(r"[\s\"'<>\\`]")
KINDS = "JPEG、PNG、WebP"


class ImageError(CatalogError):
    """A picture that cannot be taken; the message is for the merchant (Chinese)."""


def sniff(head: bytes) -> str | None:
    """The format by the file's own signature (Pillow's format name), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


@dataclass(frozen=True)
class Encoded:
    """Our own re-encoding of an upload: what is written, and the large picture's size."""

    large: bytes
    thumb: bytes
    width: int
    height: int


def encode(data: bytes) -> Encoded:
    """Check an upload and re-encode it as the large JPEG and its thumbnail.

    Raises ImageError naming the problem: empty, too big (bytes or pixels), too small, not
    JPEG/PNG/WebP by content, or not decodable.
    """
    if not data:
        raise ImageError("图片是空文件")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(f"图片太大：每张最多 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    kind = sniff(data[:16])
    if kind is None:
        raise ImageError(f"只支持 {KINDS} 格式的图片（按文件内容识别，改扩展名无效）")
    picture = _decode(data, kind)
    large, thumb = _fit(picture, LARGE_SIDE), _fit(picture, THUMB_SIDE)
    return Encoded(_jpeg(large), _jpeg(thumb), large.width, large.height)


def _decode(data: bytes, kind: str) -> Image.Image:
    too_big = (f"图片尺寸过大：最长边不超过 {MAX_SIDE} 像素，"
               f"总像素不超过 {MAX_PIXELS // 10_000} 万")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            picture = Image.open(io.BytesIO(data), formats=[kind])
            width, height = picture.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise ImageError(too_big)
            if min(width, height) < MIN_SIDE:
                raise ImageError(f"图片太小：宽和高都至少 {MIN_SIDE} 像素")
            if kind == "JPEG":  # let the decoder scale down by 1/2–1/8: less memory and time
                picture.draft("RGB", (LARGE_SIDE, LARGE_SIDE))
            picture.load()
            return _flatten(_srgb(ImageOps.exif_transpose(picture)))
        except ImageError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise ImageError(too_big) from error
        except Exception as error:  # Pillow's decoders raise many kinds on hostile bytes
            raise ImageError("图片已损坏或无法识别，请重新导出后再上传") from error


def _srgb(picture: Image.Image) -> Image.Image:
    """Colours converted from an embedded profile (a phone's Display P3) to sRGB, which is
    what every browser assumes once the profile is stripped."""
    icc = picture.info.get("icc_profile")
    if not icc or picture.mode not in ("RGB", "RGBA", "CMYK"):
        return picture
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if picture.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(picture, source, ImageCms.createProfile("sRGB"),
                                              outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return picture  # a broken profile: the pixels as they are
    return converted if converted is not None else picture


def _flatten(picture: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and a product on white reads well."""
    if picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info
    ):
        rgba = picture.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if picture.mode == "I;16":
        picture = picture.point(lambda value: value / 256).convert("L")
    return picture.convert("RGB")


def _fit(picture: Image.Image, side: int) -> Image.Image:
    copy = picture.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)  # only ever shrinks
    return copy


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


class MediaStore:
    """The stored pictures: BOT_DATA_DIR/media/products/<2 hex>/<key>.jpg and <key>-t.jpg."""

    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir) / "media" / "products"

    def save(self, encoded: Encoded) -> str:
        """Write both files under a fresh random key (each renamed into place whole)."""
        key = secrets.token_hex(16)
        folder = self.root / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in ((f"{key}.jpg", encoded.large), (f"{key}-t.jpg", encoded.thumb)):
            partial = folder / f".{name}.part"
            partial.write_bytes(body)
            os.replace(partial, folder / name)
        return key

    def locate(self, name: str) -> Path | None:
        """The file a /shop/media/<name> request means, if `name` is one of ours and exists."""
        if not _FILE_NAME.match(name):
            return None
        path = self.root / name[:2] / name
        return path if path.is_file() else None

    def delete(self, key: str) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            return
        for name in (f"{key}.jpg", f"{key}-t.jpg"):
            (self.root / key[:2] / name).unlink(missing_ok=True)


# --- a product's gallery ----------------------------------------------------------------------


def add_upload(db: Session, store: MediaStore, product: Product, data: bytes) -> ProductImage:
    """Check, re-encode and keep an uploaded picture as the product's last one."""
    _room_for_one(product)
    encoded = encode(data)
    key = store.save(encoded)
    try:
        image = _append(db, product, file_key=key, width=encoded.width, height=encoded.height)
    except Exception:
        store.delete(key)
        raise
    return image


def add_url(db: Session, product: Product, text: str) -> ProductImage:
    """An object store's https picture as the product's last one (never fetched here)."""
    url = check_url(text)
    _room_for_one(product)
    if any(image.url == url for image in product.images):
        raise ImageError("这张图片已经在图库中")
    return _append(db, product, url=url)


def check_url(text: str) -> str:
    url = text.strip()
    try:
        parts = urlsplit(url)
        good = (parts.scheme == "https" and bool(parts.hostname) and not parts.username
                and not parts.password and parts.port in (None, 443))
    except ValueError:
        good = False
    if not good or len(url) > 512 or _URL_UNSAFE.search(url):
        raise ImageError("图片链接需为 https:// 开头的对象存储地址（最多 512 个字符，"
                         "不含空格、引号和账号密码）")
    return url


def set_cover(db: Session, product: Product, image_id: int) -> None:
    """The picture becomes the first one: the chat's card and the product page lead with it."""
    image = _image_of(product, image_id)
    _renumber(db, product, [image, *(i for i in product.images if i is not image)])


def move(db: Session, product: Product, image_id: int, step: int) -> None:
    """One place earlier (step -1) or later (+1); at either end nothing moves."""
    order = list(product.images)
    index = order.index(_image_of(product, image_id))
    other = index + (1 if step > 0 else -1)
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    _renumber(db, product, order)


def remove(db: Session, product: Product, image_id: int) -> str:
    """Take the picture out of the gallery; returns its file key ("" for a url), whose files
    the caller deletes once the change is committed."""
    image = _image_of(product, image_id)
    key = image.file_key
    db.delete(image)
    db.flush()
    db.expire(product, ["images"])
    _renumber(db, product, list(product.images))
    return key


def _room_for_one(product: Product) -> None:
    if len(product.images) >= MAX_IMAGES:
        raise ImageError(f"每个商品最多 {MAX_IMAGES} 张图片，请先删除不用的")


def _append(db: Session, product: Product, **fields: object) -> ProductImage:
    position = max((image.position for image in product.images), default=-1) + 1
    image = ProductImage(position=position, created_at=datetime.now(UTC), **fields)
    product.images.append(image)
    db.flush()
    return image


def _image_of(product: Product, image_id: int) -> ProductImage:
    for image in product.images:
        if image.id == image_id:
            return image
    raise ImageError("图片不存在或已被删除，请刷新页面")


def _renumber(db: Session, product: Product, order: list[ProductImage]) -> None:
    for position, image in enumerate(order):
        image.position = position
    db.flush()
    db.expire(product, ["images"])  # read back in the new order


# --- where a picture is seen ------------------------------------------------------------------


def picture_path(image: ProductImage, *, thumb: bool = False) -> str:
    """A stored picture's path under this site, or the object store's own https address."""
    if image.url:
        return image.url
    return f"{MEDIA_PREFIX}/{image.file_key}{'-t' if thumb else ''}.jpg"


def cover_path(product: Product, *, thumb: bool = False) -> str:
    """The cover: the gallery's first picture, else the old single image address, else ""."""
    if product.images:
        return picture_path(product.images[0], thumb=thumb)
    return product.image_url


def absolute(base_url: str, path: str) -> str:
    """A path under this site made absolute (WeChat's PicUrl must be); other URLs as they are."""
    if path.startswith("/"):
        return base_url.rstrip("/") + path
    return path
