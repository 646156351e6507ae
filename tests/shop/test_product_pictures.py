"""Product pictures end to end: the manager uploads and arranges them in the console, phones
load them from /shop/media, the chat's card leads with the cover, the product page shows the
gallery, the price, the stock and how to buy in the chat."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote_plus as unquote

import pytest
from PIL import Image
from sqlalchemy import select

from bot.inbound import parse_xml_fields
from console import accounts
from console.audit_log import AuditEntry
from shop import catalog, images
from shop.catalog import Product
from tests.conftest import WeChat
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, ROLE_ACCOUNTS, signed_in
from tests.shop.test_images import picture

BASE = "https://shop.example.cn"


@pytest.fixture()
def app(make_app):
    """The console app with one account per role, seen by phones at BASE."""
    made = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD, PUBLIC_BASE_URL=BASE)
    with made.extensions["storage"].sessions.begin() as db:
        for name, role in ROLE_ACCOUNTS.items():
            accounts.create(db, name, role, PASSWORD)
    return made


@pytest.fixture()
def honey(app) -> int:
    with app.extensions["storage"].sessions.begin() as db:
        return catalog.add_product(db, name="桂花蜜", category_name="农家特产",
                                   skus=[("500g", 6800, 20), ("1kg", 12800, 0)]).id


def pictures_of(app, product_id: int) -> list:
    with app.extensions["storage"].sessions() as db:
        return list(db.get(Product, product_id).images)


def files(*named: tuple[str, bytes]) -> dict:
    return {"images": [(io.BytesIO(data), name) for name, data in named]}


def test_a_manager_uploads_several_and_a_bad_one_is_named_with_why(app, honey):
    manager = signed_in(app, "manager")
    page = manager.get(f"/admin/shop/products/{honey}/edit").text
    assert 'id="pictures"' in page and "还没有图片" in page
    assert 'enctype="multipart/form-data"' in page and 'name="images" multiple' in page
    done = manager.post(f"/admin/shop/products/{honey}/images",
                        files(("front.jpg", picture()), ("side.png", picture("PNG")),
                              ("evil.jpg", picture("GIF")), ("back.webp", picture("WEBP"))))
    assert done.status_code == 302 and done.location.endswith("#pictures")
    message = unquote(done.location)
    assert "已上传 3 张图片" in message
    assert "「evil.jpg」只支持 JPEG、PNG、WebP 格式的图片（按文件内容识别，改扩展名无效）" \
        in message
    stored = pictures_of(app, honey)
    assert [p.position for p in stored] == [0, 1, 2] and all(p.file_key for p in stored)
    assert (stored[0].width, stored[0].height) == (1080, 810)
    page = manager.get(done.location).text
    assert "已上传 3 张图片" in page and "「evil.jpg」" in page
    assert f'src="/shop/media/{stored[0].file_key}-t.jpg"' in page
    assert "<strong>封面</strong>" in page
    with app.extensions["storage"].sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "product.images"))
        assert entry.actor == "manager" and entry.details["change"] == "upload"


def test_cover_order_delete_and_an_object_store_address(app, honey):
    manager = signed_in(app, "manager")
    manager.get(f"/admin/shop/products/{honey}/edit")
    manager.post(f"/admin/shop/products/{honey}/images",
                 files(("a.jpg", picture()), ("b.jpg", picture(color="blue"))))
    first, second = pictures_of(app, honey)
    refused = manager.post(f"/admin/shop/products/{honey}/images/url",
                           {"url": "http://cdn.example.com/c.jpg"})
    assert "图片链接需为 https:// 开头" in unquote(refused.location)
    manager.post(f"/admin/shop/products/{honey}/images/url",
                 {"url": "https://cdn.example.com/c.jpg"})
    third = pictures_of(app, honey)[2]
    assert third.url == "https://cdn.example.com/c.jpg" and third.file_key == ""
    manager.post(f"/admin/shop/products/{honey}/images/{third.id}/cover")
    manager.post(f"/admin/shop/products/{honey}/images/{first.id}/move", {"step": "down"})
    assert [p.id for p in pictures_of(app, honey)] == [third.id, second.id, first.id]
    page = manager.get(f"/admin/shop/products/{honey}/edit")
    assert "img-src 'self' data: https:" in page.headers["Content-Security-Policy"]
    assert 'src="https://cdn.example.com/c.jpg"' in page.text
    gone = manager.post(f"/admin/shop/products/{honey}/images/{second.id}/delete")
    assert "图片已删除" in unquote(gone.location)
    assert [p.id for p in pictures_of(app, honey)] == [third.id, first.id]
    assert images.MediaStore(app.config["BOT_DATA_DIR"]).locate(f"{second.file_key}.jpg") is None
    assert app.test_client().get(f"/shop/media/{second.file_key}.jpg").status_code == 404
    again = manager.post(f"/admin/shop/products/{honey}/images/{second.id}/delete")
    assert "图片不存在或已被删除" in unquote(again.location)


def test_pictures_need_the_catalog_role_the_token_and_a_product(app, honey):
    reviewer = signed_in(app, "reviewer")
    assert reviewer.post(f"/admin/shop/products/{honey}/images",
                         files(("a.jpg", picture()))).status_code == 403
    assert reviewer.post(f"/admin/shop/products/{honey}/images/url",
                         {"url": "https://cdn.example.com/c.jpg"}).status_code == 403
    anonymous = app.test_client().post(f"/admin/shop/products/{honey}/images/url",
                                       data={"url": "https://cdn.example.com/c.jpg"})
    assert anonymous.status_code in (302, 400)
    manager = signed_in(app, "manager")
    assert manager.post(f"/admin/shop/products/{honey}/images", files(("a.jpg", picture())),
                        with_token=False).status_code == 400
    assert manager.post("/admin/shop/products/999/images",
                        files(("a.jpg", picture()))).status_code == 404
    assert pictures_of(app, honey) == []


def test_too_much_at_once_is_refused_with_a_reason(app, honey):
    manager = signed_in(app, "manager")
    big = b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024)
    one = manager.post(f"/admin/shop/products/{honey}/images", files(("big.jpg", big)))
    assert "「big.jpg」图片太大：每张最多 5 MB" in unquote(one.location)
    many = manager.post(f"/admin/shop/products/{honey}/images",
                        files(*[(f"{n}.jpg", big) for n in range(4)]))
    assert "一次最多上传 20 MB" in unquote(many.location)
    nothing = manager.post(f"/admin/shop/products/{honey}/images", {})
    assert "请选择要上传的图片" in unquote(nothing.location)
    assert pictures_of(app, honey) == []


def test_stored_pictures_are_served_as_our_jpeg_and_nothing_else(app, honey):
    manager = signed_in(app, "manager")
    manager.post(f"/admin/shop/products/{honey}/images", files(("a.png", picture("PNG"))))
    [stored] = pictures_of(app, honey)
    client = app.test_client()
    served = client.get(f"/shop/media/{stored.file_key}.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]
    assert client.get(f"/shop/media/{stored.file_key}-t.jpg").status_code == 200
    for name in ("..%2F..%2Fbot.sqlite3", "secret_key", f"{stored.file_key}.png",
                 "0" * 32 + ".jpg"):
        assert client.get(f"/shop/media/{name}").status_code == 404, name


def test_the_chat_card_leads_with_the_cover_as_an_absolute_picurl(app, honey):
    wechat = WeChat(app.test_client())
    bare = parse_xml_fields(wechat.say(f"商品 {honey}").encode())["Articles"]["item"]
    assert bare["PicUrl"] == ""  # no pictures yet: a card of words
    manager = signed_in(app, "manager")
    manager.post(f"/admin/shop/products/{honey}/images", files(("a.jpg", picture())))
    [stored] = pictures_of(app, honey)
    card = parse_xml_fields(wechat.say(f"商品 {honey}").encode())["Articles"]["item"]
    assert card["PicUrl"] == f"{BASE}/shop/media/{stored.file_key}.jpg"
    assert card["Url"] == f"{BASE}/shop/p/{honey}"


def test_the_product_page_shows_gallery_price_stock_and_how_to_buy(app, honey):
    manager = signed_in(app, "manager")
    manager.post(f"/admin/shop/products/{honey}/images",
                 files(("a.jpg", picture()), ("b.jpg", picture(color="blue"))))
    manager.post(f"/admin/shop/products/{honey}/images/url",
                 {"url": "https://cdn.example.com/c.jpg"})
    first, second, _ = pictures_of(app, honey)
    page = app.test_client().get(f"/shop/p/{honey}")
    html = page.get_data(as_text=True)
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs == [f"/shop/media/{first.file_key}.jpg", f"/shop/media/{second.file_key}.jpg",
                    "https://cdn.example.com/c.jpg"]
    assert "左右滑动查看 3 张图片" in html
    assert "¥68起" in html and '<span id="stock">库存 20</span>' in html
    assert f'发送 <span class="code" id="buy-code">商品 {honey}</span>' in html
    assert "回复 <span class=\"code\">买 1</span>" in html
    assert f'data-code="商品 {honey}"' in html
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'self' https:" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1]
    script = app.test_client().get("/shop/static/buy.js")
    assert script.status_code == 200 and b"clipboard" in script.data
    script.close()


def test_a_sold_out_product_page_says_so_instead_of_how_to_buy(app, honey):
    with app.extensions["storage"].sessions.begin() as db:
        for sku in db.get(Product, honey).skus:
            sku.stock = 0
    html = app.test_client().get(f"/shop/p/{honey}").get_data(as_text=True)
    assert '<span id="stock">暂时缺货</span>' in html and 'id="buy"' not in html
