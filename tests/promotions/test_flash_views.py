"""The manager's 秒杀 pages: items added with their stock carved out, honest 原价 enforced
with the reason, live counts, ending a session early; audit-logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from console.audit_log import AuditEntry
from core.clock import as_utc
from promotions import flash, flash_reminders
from promotions.flash import FlashItem, FlashReminder, FlashSession
from shop.notices import CustomerNotice
from tests.console.conftest import signed_in
from tests.promotions.flash_helpers import make_sku, paid_order, sku_stock


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
    assert "划线价须为近7天最低成交价¥99" in refusal(reference="129")
    assert "划线价须为近7天最低成交价¥99" in refusal(reference="89")  # never paid
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
    # Tomorrow's session has not started: 取消本场 calls it off.
    assert "本场已取消，10件已退回库存" in ended.text and "已取消</h2>" in ended.text
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


def test_calling_off_a_session_not_started_tells_those_waiting_for_a_reminder(console_app):
    sessions = console_app.extensions["storage"].sessions
    sku_id = make_sku(sessions, stock=30)
    manager = signed_in(console_app, "manager")
    manager.get(f"/admin/promotions/flash?day={tomorrow()}")
    session_id = first_session(console_app)
    manager.post(f"/admin/promotions/flash/{session_id}/items",
                 {"sku_id": str(sku_id), "price": "59", "stock": "10", "limit": "1"})
    now = datetime.now(UTC)
    with sessions.begin() as db:
        for openid in ("o-waiting", "o-other"):
            flash_reminders.ask_reminder(db, db.get(FlashSession, session_id), openid, now,
                                         minutes=5, template_id=None)
    manager.post(f"/admin/promotions/flash/{session_id}/end")
    with sessions() as db:
        called_off = db.get(FlashSession, session_id)
        assert as_utc(called_off.ends_at) == as_utc(called_off.starts_at)  # not before it
        assert called_off.state == "settled" and flash.is_called_off(called_off)
        told = db.scalars(select(CustomerNotice).order_by(CustomerNotice.openid)).all()
        assert [(n.key, n.title) for n in told] == [
            (f"flash:{session_id}:o-other:cancelled", "本场秒杀已取消"),
            (f"flash:{session_id}:o-waiting:cancelled", "本场秒杀已取消")]
        assert told[0].text.startswith("很抱歉，本场秒杀已取消：明天 ")
        assert as_utc(told[0].event_at) == as_utc(called_off.starts_at)
        assert set(db.scalars(select(FlashReminder.state))) == {"cancelled"}
    # Its start comes: no 即将开始 for a session that was called off.
    with sessions.begin() as db:
        starts = as_utc(db.get(FlashSession, session_id).starts_at)
        assert flash_reminders.queue_due_reminders(db, starts - timedelta(minutes=3), 5) == 0
    with sessions() as db:
        assert db.query(CustomerNotice).count() == 2


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-01", "明天"])
def test_a_day_out_of_range_is_refused_and_creates_nothing(console_app, day):
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/promotions/flash", query_string={"day": day})
    assert page.status_code == 400
    assert ("只能查看前后60天内的秒杀场次" in page.text) or ("日期格式不对" in page.text)
    with console_app.extensions["storage"].sessions() as db:
        assert db.query(FlashSession).count() == 0


def test_the_days_shown_reach_sixty_days_either_way(console_app):
    manager = signed_in(console_app, "manager")
    today = flash.shanghai_day(datetime.now(UTC))
    edge = manager.get(f"/admin/promotions/flash?day={today + timedelta(days=60)}")
    assert edge.status_code == 200 and "后一天 →" not in edge.text and "← 前一天" in edge.text
    past = manager.get(f"/admin/promotions/flash?day={today - timedelta(days=60)}")
    assert past.status_code == 200 and "← 前一天" not in past.text
    beyond = manager.get(f"/admin/promotions/flash?day={today + timedelta(days=61)}")
    assert beyond.status_code == 400
    assert (f"只能查看前后60天内的秒杀场次（{today - timedelta(days=60)} 至 "
            f"{today + timedelta(days=60)}）") in beyond.text
    with console_app.extensions["storage"].sessions() as db:
        assert db.query(FlashSession).count() == 6  # the two days shown, three each


def test_coupons_are_allowed_per_session_by_the_manager(console_app):
    manager = signed_in(console_app, "manager")
    manager.get(f"/admin/promotions/flash?day={tomorrow()}")
    session_id = first_session(console_app)
    page = manager.post(f"/admin/promotions/flash/{session_id}/coupons", {"allowed": "1"},
                        follow_redirects=True).text
    assert "本场秒杀订单可以使用优惠券（自动选用最划算的一张）" in page
    assert page.count('data-coupons="on"') == 1
    with console_app.extensions["storage"].sessions() as db:
        assert db.get(FlashSession, session_id).coupons_allowed
        assert db.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "flash.coupons")) == "flash.coupons"
    page = manager.post(f"/admin/promotions/flash/{session_id}/coupons", {"allowed": "0"},
                        follow_redirects=True).text
    assert "本场秒杀订单不能使用优惠券" in page and 'data-coupons="on"' not in page
