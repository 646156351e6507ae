"""The manager's 秒杀 pages: items added with their stock carved out, honest 原价 enforced
with the reason, live counts, ending a session early; audit-logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from console import accounts
from console.audit_log import AuditEntry
from promotions import flash
from promotions.flash import FlashItem, FlashSession
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, ROLE_ACCOUNTS, signed_in
from tests.promotions.flash_helpers import make_sku, paid_order, sku_stock


@pytest.fixture()
def console_app(make_app):
    """The console with one account per role (as tests/console/conftest.py makes it)."""
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD)
    with app.extensions["storage"].sessions.begin() as db:
        for name, role in ROLE_ACCOUNTS.items():
            accounts.create(db, name, role, PASSWORD)
    return app


def tomorrow() -> str:
    return (flash.shanghai_day(datetime.now(UTC)) + timedelta(days=1)).isoformat()


def first_session(app) -> int:
    """The first session shown (the page made the day's sessions)."""
    with app.extensions["storage"].sessions() as db:
        return db.scalar(select(FlashSession.id).order_by(FlashSession.starts_at).limit(1))


def test_a_manager_fills_a_session_and_dishonest_prices_are_refused(console_app):
    sessions = console_app.extensions["storage"].sessions
    sku_id = make_sku(sessions, stock=30)
    manager = signed_in(console_app, "manager")
    page = manager.get(f"/admin/promotions/flash?day={tomorrow()}")
    assert page.status_code == 200 and "每日秒杀 · " + tomorrow() in page.text
    assert page.text.count("data-session=") == 3
    assert "丝绒哑光口红（#01 正红）¥129 · 库存30" in page.text
    session_id = first_session(console_app)
    url = f"/admin/promotions/flash/{session_id}/items"
    form = {"sku_id": str(sku_id), "price": "59", "stock": "10", "limit": "1"}

    def refusal(**changes) -> str:
        return manager.post(url, {**form, **changes}, follow_redirects=True).text

    assert "近7天没有成交记录，不能标划线价" in refusal(reference="129")
    assert "库存不足：该规格现有库存30件，不能拿出31件做秒杀" in refusal(stock="31")
    assert "秒杀价需低于售价¥129" in refusal(price="129")
    paid_order(sessions, "o-buyer", sku_id, datetime.now(UTC) - timedelta(days=1),
               flash_price=(0, 9900))
    assert "近7天最低成交价为¥99，划线价不能高于它" in refusal(reference="129")
    assert sku_stock(sessions, sku_id) == 30  # no refusal took stock
    done = manager.post(url, {**form, "reference": "99"}, follow_redirects=True).text
    assert "已添加秒杀商品" in done and "¥99" in done
    assert sku_stock(sessions, sku_id) == 20
    with sessions() as db:
        added = db.scalar(select(FlashItem))
        assert (added.stock, added.price_fen, added.reference_price_fen) == (10, 5900, 9900)
        assert db.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "flash.item_add")) == "flash.item_add"
    assert "这个规格已在本场秒杀中" in refusal(stock="1")
    ended = manager.post(f"/admin/promotions/flash/{session_id}/end", follow_redirects=True)
    assert "本场已结束，未售出的10件已退回库存" in ended.text
    assert sku_stock(sessions, sku_id) == 30


def test_only_managers_and_with_a_csrf_token(console_app):
    reviewer = signed_in(console_app, "reviewer")
    assert reviewer.get("/admin/promotions/flash").status_code == 403
    manager = signed_in(console_app, "manager")
    manager.get("/admin/promotions/flash")
    with console_app.extensions["storage"].sessions() as db:
        session_id = db.scalar(select(FlashSession.id))
    assert manager.post(f"/admin/promotions/flash/{session_id}/end",
                        with_token=False).status_code == 400
