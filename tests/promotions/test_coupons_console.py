"""The manager's coupon pages: create a batch (refused forms say why), issue it, see what it
cost, pause and end it; every change in the audit log; other roles refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from console.audit_log import AuditEntry
from core.clock import SHANGHAI
from promotions import coupons
from promotions.coupons import Coupon, CouponBatch
from shop import catalog, members, orders, tiers
from shop.members import Customer
from shop.notices import CustomerNotice
from shop.orders import Order
from tests.console.conftest import signed_in

GOOD = {"name": "双十二满减", "kind": "threshold", "threshold": "199", "off": "20",
        "validity": "days", "days": "7", "per_customer": "1", "total_limit": "100",
        "code": "", "trigger": "", "bundle": ""}


def batch_of(app, name: str) -> CouponBatch | None:
    with app.extensions["storage"].sessions() as db:
        return db.scalar(select(CouponBatch).where(CouponBatch.name == name))


def test_a_manager_creates_a_batch_and_bad_forms_say_why(console_app):
    manager = signed_in(console_app, "manager")
    assert "优惠券" in manager.get("/admin/promotions/coupons").text
    assert 'name="csrf_token"' in manager.get("/admin/promotions/coupons/new").text
    refusals = [({"threshold": "20"}, "满减券的门槛需高于减免金额（例如满199减20）"),
                ({"off": "二十"}, "减免金额需为金额，如 199 或 19.90"),
                ({"kind": "discount", "percent": "100", "cap": "30"}, "折扣需在 1–99 之间"),
                ({"kind": "discount", "percent": "88"}, "折扣券需设置最多减免金额"),
                ({"validity": "window", "start": "2026-12-10", "end": "2026-12-01"},
                 "有效期的结束日期需晚于开始日期"),
                ({"validity": "window", "start": "", "end": ""}, "请填写开始日期"),
                ({"per_customer": "0"}, "每人限领需在 1–20 张之间"),
                ({"total_limit": "-5"}, "发放总量需为正整数")]
    for change, reason in refusals:
        page = manager.post("/admin/promotions/coupons/new", {**GOOD, **change})
        assert page.status_code == 400 and reason in page.text, reason
        assert 'value="双十二满减"' in page.text  # the form comes back filled in
    assert batch_of(console_app, "双十二满减") is None
    assert "券码需为 4–20 位" in manager.post("/admin/promotions/coupons/new",
                                           {**GOOD, "code": "d12"}).text
    created = manager.post("/admin/promotions/coupons/new", {**GOOD, "code": "dd12"},
                           follow_redirects=True)
    assert "已创建「双十二满减」" in created.text
    assert "满199减20" in created.text and "券码 DD12" in created.text
    assert "领取后7天内有效" in created.text
    assert "券码 DD12 已被「双十二满减」使用" in manager.post(
        "/admin/promotions/coupons/new", {**GOOD, "name": "另一批", "code": "Dd12"}).text
    with console_app.extensions["storage"].sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "coupon.create"))
        assert entry.actor == "manager" and entry.details["terms"] == "满199减20"


def test_a_discount_batch_with_a_fixed_window(console_app):
    manager = signed_in(console_app, "manager")
    today = datetime.now(SHANGHAI).date()
    first, last = today - timedelta(days=1), today + timedelta(days=30)
    form = {**GOOD, "name": "八八折", "kind": "discount", "threshold": "", "off": "",
            "percent": "88", "cap": "30", "validity": "window", "start": first.isoformat(),
            "end": last.isoformat()}
    page = manager.post("/admin/promotions/coupons/new", form, follow_redirects=True)
    assert "8.8折（最多减30元）" in page.text and f"{first} 至 {last}" in page.text
    too_long = manager.post("/admin/promotions/coupons/new",
                            {**form, "end": (first + timedelta(days=400)).isoformat()})
    assert "有效期最长 366 天" in too_long.text


def test_issuing_to_a_pasted_list_and_what_it_cost(console_app):
    manager = signed_in(console_app, "manager")
    manager.post("/admin/promotions/coupons/new", GOOD)
    batch_id = batch_of(console_app, "双十二满减").id
    pasted = "o-alice-0001\no-bob-00002, o-alice-0001，not-ok!\n"
    page = manager.post(f"/admin/promotions/coupons/{batch_id}/issue",
                        {"openids": pasted, "notify": "1"}, follow_redirects=True)
    assert "「双十二满减」发放 2 张（未发放 1 人：OpenID 格式不对 1）" in page.text
    again = manager.post(f"/admin/promotions/coupons/{batch_id}/issue",
                         {"openids": "o-alice-0001"}, follow_redirects=True)
    assert "发放 0 张（未发放 1 人：已领满每人限领张数 1）" in again.text
    assert "请粘贴要发放的顾客 OpenID" in manager.post(
        f"/admin/promotions/coupons/{batch_id}/issue", {"openids": " "},
        follow_redirects=True).text
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        notices = db.scalars(select(CustomerNotice.openid)).all()
        assert sorted(notices) == ["o-alice-0001", "o-bob-00002"]
        sku = catalog.add_product(db, name="土蜂蜜", skus=[("500g", 25000, 9)]).skus[0].id
        coupon = db.scalar(select(Coupon).where(Coupon.openid == "o-alice-0001"))
        now = datetime.now(UTC)
        order = orders.place(db, "o-alice-0001", [(sku, 1)], now=now)
        off = coupons.redeem(db, coupon.id, "o-alice-0001", order.id, order.total_fen, now)
        db.execute(update(Order).where(Order.id == order.id).values(
            total_fen=order.total_fen - off, coupon_id=coupon.id, coupon_fen=off))
        db.refresh(order)
        orders.transition(db, order, "paid", actor="wxpay", now=now)
    listing = manager.get("/admin/promotions/coupons").text
    row = listing.split(f'data-batch="{batch_id}"')[1].split("</tr>")[0]
    for figure, value in [("issued", "2 / 100"), ("used", "1"), ("rate", "50.0%"),
                          ("orders", "1"), ("cost", "¥20"), ("gmv", "¥230")]:
        assert f'data-figure="{figure}">{value}</td>' in row, figure
    with storage.sessions() as db:
        actions = db.scalars(select(AuditEntry.action).where(
            AuditEntry.action.startswith("coupon.")).order_by(AuditEntry.id)).all()
    assert actions == ["coupon.create", "coupon.issue", "coupon.issue"]


def test_issuing_to_a_tier(console_app):
    storage = console_app.extensions["storage"]
    now = datetime.now(UTC)
    with storage.sessions.begin() as db:
        for openid, level in [("o-silver-01", 2), ("o-plain-01", 0)]:
            members.on_order_placed(db, openid, now)
            db.execute(update(Customer).where(Customer.openid == openid)
                       .values(tier_level=level))
    silver = tiers.configured().name(2)
    manager = signed_in(console_app, "manager")
    manager.post("/admin/promotions/coupons/new", GOOD)
    batch_id = batch_of(console_app, "双十二满减").id
    page = manager.post(f"/admin/promotions/coupons/{batch_id}/issue", {"tier": silver},
                        follow_redirects=True)
    assert "「双十二满减」发放 1 张" in page.text
    refused = manager.post(f"/admin/promotions/coupons/{batch_id}/issue", {"tier": "钻石"},
                           follow_redirects=True)
    assert "没有「钻石」这个会员等级" in refused.text
    with storage.sessions() as db:
        assert db.scalars(select(Coupon.openid)).all() == ["o-silver-01"]


def test_pause_resume_and_end(console_app):
    manager = signed_in(console_app, "manager")
    manager.post("/admin/promotions/coupons/new", {**GOOD, "code": "PAUSE1"})
    batch_id = batch_of(console_app, "双十二满减").id
    base = f"/admin/promotions/coupons/{batch_id}"
    assert "「双十二满减」已暂停" in manager.post(f"{base}/pause", follow_redirects=True).text
    issued = manager.post(f"{base}/issue", {"openids": "o-alice-0001"}, follow_redirects=True)
    assert "未发放 1 人：该优惠券暂停发放 1" in issued.text
    assert "「双十二满减」发放中" in manager.post(f"{base}/resume", follow_redirects=True).text
    assert "「双十二满减」已结束" in manager.post(f"{base}/end", follow_redirects=True).text
    assert "这批券已结束，不能恢复" in manager.post(f"{base}/resume", follow_redirects=True).text
    assert batch_of(console_app, "双十二满减").state == "ended"
    with console_app.extensions["storage"].sessions() as db:
        actions = db.scalars(select(AuditEntry.action).where(
            AuditEntry.action.in_(["coupon.pause", "coupon.resume", "coupon.end"]))
            .order_by(AuditEntry.id)).all()
    assert actions == ["coupon.pause", "coupon.resume", "coupon.end"]


def test_an_agent_is_refused_and_a_form_needs_its_token(console_app):
    agent = signed_in(console_app, "agent")
    assert agent.get("/admin/promotions/coupons").status_code == 403
    assert agent.post("/admin/promotions/coupons/new", GOOD).status_code == 403
    assert "优惠券" not in agent.get("/admin/account").text.split("</nav>")[0]
    manager = signed_in(console_app, "manager")
    assert manager.post("/admin/promotions/coupons/new", GOOD,
                        with_token=False).status_code == 400
    assert batch_of(console_app, "双十二满减") is None
