"""Product pictures as data: what an upload must be, what is kept of it, and the gallery's order.

Uploads are hostile input, so these tests feed what a hostile or careless client sends: a GIF
named .jpg, a script named .png, a truncated file, a decompression bomb, a huge file, a photo
with its location in EXIF.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import select

from shop import catalog, images
from shop.catalog import Product, ProductImage
from shop.images import ImageError, MediaStore


def picture(fmt: str = "JPEG", size: tuple[int, int] = (1600, 1200), mode: str = "RGB",
            color: object = "red", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    found = Image.open(io.BytesIO(data))
    found.load()
    return found


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be width × height (a decompression bomb's header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB"),
                                           ("PNG", "P"), ("JPEG", "CMYK"), ("PNG", "I;16")])
def test_jpeg_png_and_webp_become_our_own_jpeg_and_thumbnail(fmt, mode):
    encoded = images.encode(picture(fmt, mode=mode, color=200 if mode == "I;16" else "red"))
    large, thumb = opened(encoded.large), opened(encoded.thumb)
    assert (large.format, large.mode, large.size) == ("JPEG", "RGB", (1080, 810))
    assert (thumb.format, thumb.size) == ("JPEG", (320, 240))
    assert (encoded.width, encoded.height) == (1080, 810)


def test_a_small_picture_is_not_blown_up():
    encoded = images.encode(picture("PNG", size=(600, 400)))
    assert opened(encoded.large).size == (600, 400)
    assert opened(encoded.thumb).size == (320, 213)


def test_transparency_is_laid_on_white():
    encoded = images.encode(picture("PNG", mode="RGBA", color=(0, 0, 0, 0)))
    assert opened(encoded.large).getpixel((10, 10)) == (255, 255, 255)


def test_the_type_is_read_from_the_content_not_the_name():
    for data in (picture("GIF"), picture("BMP", size=(200, 200)), b"<script>alert(1)</script>",
                 b"%PDF-1.4\n", b"RIFF\x00\x00\x00\x00WAVEfmt "):
        with pytest.raises(ImageError, match="只支持 JPEG、PNG、WebP"):
            images.encode(data)
    assert images.sniff(picture("WEBP")[:16]) == "WEBP"


def test_a_file_that_claims_one_type_and_is_another_is_refused():
    fake = b"\xff\xd8\xff" + picture("PNG")  # JPEG's signature in front of a PNG
    with pytest.raises(ImageError, match="已损坏或无法识别"):
        images.encode(fake)


def test_truncated_empty_huge_tiny_and_bomb_files_are_refused_with_a_reason():
    whole = picture("PNG", size=(800, 800), color=None)
    cases = {
        "已损坏或无法识别": whole[: len(whole) // 2],
        "图片是空文件": b"",
        "每张最多 5 MB": b"\xff\xd8\xff" + b"\x00" * images.MAX_UPLOAD_BYTES,
        "图片太小": picture("PNG", size=(80, 600)),
        "图片尺寸过大": png_header_only(20_000, 20_000),  # 400 MP in 100 bytes
    }
    for reason, data in cases.items():
        with pytest.raises(ImageError, match=reason):
            images.encode(data)
    with pytest.raises(ImageError, match="最长边不超过 12000"):
        images.encode(png_header_only(13_000, 200))


def test_a_phone_photo_is_turned_upright_and_its_exif_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    exif[0x010F] = "PhoneMaker"  # Make
    photo = picture("JPEG", size=(1600, 1200), exif=exif.tobytes())
    encoded = images.encode(photo)
    large = opened(encoded.large)
    assert large.size == (810, 1080)  # portrait, as the customer should see it
    assert not large.getexif() and b"PhoneMaker" not in encoded.large


def test_the_store_writes_under_a_random_key_and_serves_only_its_own_names(tmp_path):
    store = MediaStore(tmp_path)
    key = store.save(images.encode(picture()))
    assert len(key) == 32 and set(key) <= set("0123456789abcdef")
    large = tmp_path / "media" / "products" / key[:2] / f"{key}.jpg"
    assert store.locate(f"{key}.jpg") == large and store.locate(f"{key}-t.jpg") is not None
    (tmp_path / "secret.txt").write_text("x")
    for name in ("../../secret.txt", f"{key}.png", f"{key}.jpg/..", "..", f"{key.upper()}.jpg",
                 "0" * 32 + ".jpg"):
        assert store.locate(name) is None, name
    store.delete(key)
    assert store.locate(f"{key}.jpg") is None and not large.exists()


@pytest.mark.parametrize("url", ["http://img.example.com/a.jpg", "javascript:alert(1)",
                                 "https://", "https://user:pw@img.example.com/a.jpg",
                                 "https://img.example.com/a b.jpg",
                                 'https://img.example.com/a".jpg', "https://x.cn:8443/a.jpg",
                                 "https://img.example.com/" + "a" * 600])
def test_only_plain_https_addresses_are_taken_as_pictures(url):
    with pytest.raises(ImageError, match="https://"):
        images.check_url(url)


def test_the_gallery_keeps_order_cover_and_limit(storage, tmp_path):
    store = MediaStore(tmp_path)
    with storage.sessions.begin() as db:
        product = catalog.add_product(db, name="桂花蜜", skus=[("500g", 6800, 5)])
        first = images.add_upload(db, store, product, picture())
        second = images.add_url(db, product, "https://cdn.example.com/honey.jpg")
        third = images.add_upload(db, store, product, picture("PNG"))
        with pytest.raises(ImageError, match="已经在图库中"):
            images.add_url(db, product, "https://cdn.example.com/honey.jpg")
        assert images.cover_path(product) == f"/shop/media/{first.file_key}.jpg"
        images.set_cover(db, product, third.id)
        assert [i.id for i in product.images] == [third.id, first.id, second.id]
        images.move(db, product, second.id, -1)
        images.move(db, product, third.id, -1)  # already first: nothing moves
        assert [i.id for i in product.images] == [third.id, second.id, first.id]
        assert images.cover_path(product, thumb=True) == f"/shop/media/{third.file_key}-t.jpg"
        key = images.remove(db, product, third.id)
        assert key == third.file_key
        assert images.cover_path(product) == "https://cdn.example.com/honey.jpg"
        assert [i.position for i in product.images] == [0, 1]
        for n in range(images.MAX_IMAGES - 2):
            images.add_url(db, product, f"https://cdn.example.com/{n}.jpg")
        with pytest.raises(ImageError, match="最多 9 张"):
            images.add_upload(db, store, product, picture())
        with pytest.raises(ImageError, match="不存在或已被删除"):
            images.set_cover(db, product, 99999)
        product_id = product.id
    with storage.sessions() as db:
        stored = db.scalars(select(ProductImage).where(ProductImage.product_id == product_id))
        assert len(list(stored)) == images.MAX_IMAGES


def test_a_product_without_pictures_falls_back_to_its_old_image_address(storage):
    with storage.sessions.begin() as db:
        product = catalog.add_product(db, name="山茶油", skus=[("1L", 12800, 5)])
        assert images.cover_path(product) == ""
        product.image_url = "https://img.example.com/oil.jpg"
        assert images.cover_path(product) == "https://img.example.com/oil.jpg"
        assert db.get(Product, product.id).images == []
    assert images.absolute("https://shop.example.cn/", "/shop/media/a.jpg") == (
        "https://shop.example.cn/shop/media/a.jpg")
    assert images.absolute("https://shop.example.cn", "https://cdn.x/a.jpg") == "https://cdn.x/a.jpg"
