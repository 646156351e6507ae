"""The returns page runs each step: approve (the address goes to the customer), 仅退款, the
goods received, or reject; without RETURN_ADDRESS it says so and offers only 仅退款 or 拒绝."""

from __future__ import annotations

import requests

from shop.after_sale import ReturnRequest
from tests.console.conftest import signed_in
from tests.shop.test_payments import order_state, wait_for
from tests.shop.test_service_views import RETURN_TO, paid, refunded, returned, told  # noqa: F401


def test_without_a_return_address_only_refund_or_rejection_is_offered(shop, paid):  # noqa: F811
    shop.app.config["RETURN_ADDRESS"] = ""
    request_id = returned(shop, paid)
    manager = signed_in(shop.app, "manager")
    page = manager.get("/admin/shop/returns").text
    assert 'id="no-return-address"' in page
    assert ('<button type="submit" disabled title="未设置退货地址">同意退货（顾客寄回）</button>'
            in page)
    refused = manager.post(f"/admin/shop/returns/{request_id}/approve")
    assert "还没有设置退货地址" in requests.utils.unquote(refused.location)
    with shop.storage.sessions() as db:
        assert db.get(ReturnRequest, request_id).state == "requested"
    manager.post(f"/admin/shop/returns/{request_id}/refund_only")
    assert refunded(shop, paid.number) == paid.total_fen
    assert order_state(shop.storage, paid.number) == "refunded"
    assert wait_for(lambda: told(shop, "商品无需寄回"))
    listing = manager.get("/admin/shop/returns?state=refunded").text
    assert "已退款（仅退款） · manager" in listing


def test_the_tabs_count_each_step_and_a_posted_parcel_shows(shop, paid):  # noqa: F811
    from shop import returns

    shop.app.config["RETURN_ADDRESS"] = RETURN_TO
    request_id = returned(shop, paid)
    with shop.storage.sessions.begin() as db:
        request = db.get(ReturnRequest, request_id)
        returns.approve(db, request, return_address=RETURN_TO, actor="manager")
        returns.record_parcel(db, request, "SF", "SF1234567890123")
    manager = signed_in(shop.app, "manager")
    page = manager.get("/admin/shop/returns?state=returning").text
    assert '顾客已寄回 <span class="count">1</span>' in page
    assert '待商家处理 <span class="count">0</span>' in page
    row = page.split(f'data-return="{request_id}"')[1].split("</tr>")[0]
    assert "顺丰速运 SF1234567890123" in row and "已收到退货，退款 ¥136" in row
    assert "仅退款" not in row  # the goods are on their way: wait for them
    manager.post(f"/admin/shop/returns/{request_id}/reject", {"note": "收到的商品已拆封使用"})
    assert refunded(shop, paid.number) == 0
    assert wait_for(lambda: told(shop, "收到的商品已拆封使用"))
