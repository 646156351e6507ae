"""Coupons: terms and their text, limits and redemption under concurrency, give-back on
cancellation, claim codes, triggers, and the usage figures the console shows.

The races run on SQLite here and on PostgreSQL too where TEST_DATABASE_URL names one
(the `any_storage` fixture), each thread with its own session, as separate workers would be.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from devtools.demo import seed_demo_coupons
from promotions import coupon_batches, coupon_issuing, coupon_text, coupon_usage, coupons
from promotions.coupon_batches import BatchTerms
from promotions.coupons import Coupon, CouponBatch, CouponError
from shop import catalog, orders
from shop.orders import Order

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def batch(db, **overrides) -> CouponBatch:
    terms = {"name": "满199减20", "kind": "threshold", "threshold_fen": 19900, "off_fen": 2000,
             "valid_days": 7, **overrides}
    return coupon_batches.create_batch(db, BatchTerms(**terms), NOW)


def sku(db, price: int = 25000, stock: int = 100) -> int:
    return catalog.add_product(db, name="土蜂蜜", skus=[("500g", price, stock)]).skus[0].id


def checkout(db, openid: str, sku_id: int, coupon_id: int | None, now=NOW) -> Order:
    """What the chat's checkout does with a coupon: place, redeem, charge the rest."""
    order = orders.place(db, openid, [(sku_id, 1)], now=now)
    off = coupons.redeem(db, coupon_id, openid, order.id, order.total_fen, now) if coupon_id else 0
    db.execute(update(Order).where(Order.id == order.id)
               .values(total_fen=order.total_fen - off, coupon_id=coupon_id if off else None,
                       coupon_fen=off))
    db.refresh(order)
    return order


def run_together(count: int, work) -> list[str]:
    """`work(n)` in `count` threads released at once; each outcome as text."""
    start = threading.Barrier(count)
    results: list[str] = []

    def run(n: int) -> None:
        start.wait()
        try:
            results.append(work(n))
        except CouponError as error:
            results.append(str(error))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- terms ------------------------------------------------------------------------------------


def test_each_kind_reads_as_customers_know_it(storage):
    with storage.sessions.begin() as db:
        full = batch(db)
        eight = batch(db, name="8.8折", kind="discount", percent=88, cap_fen=3000,
                      threshold_fen=0, off_fen=0)
        nine = batch(db, name="满100享9折", kind="discount", percent=90, cap_fen=5000,
                     threshold_fen=10000, off_fen=0)
        free = batch(db, name="无门槛", kind="flat", off_fen=500, threshold_fen=0)
        coupon = coupons.issue(db, full.id, "o-a", NOW, source="test")
        texts = [coupon_text.terms_text(b) for b in (full, eight, nine, free)]
        described = coupon_text.describe(coupon)
        assert [coupons.discount_of(full, fen) for fen in (19899, 19900)] == [0, 2000]
        assert [coupons.discount_of(eight, fen) for fen in (10000, 100000)] == [1200, 3000]
        assert coupons.discount_of(nine, 9999) == 0
        assert coupons.discount_of(free, 300) == 299  # WeChat Pay takes no order of 0 fen
    assert texts == ["满199减20", "8.8折（最多减30元）", "满100享9折（最多减50元）", "无门槛减5元"]
    assert described == "满199减20（有效期至12月7日）"  # 7 days counting 1 Dec, Shanghai


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"name": " "}, "请填写券名称"),
    ({"threshold_fen": 2000}, "满减券的门槛需高于减免金额"),
    ({"kind": "discount", "percent": 100, "cap_fen": 100}, "折扣需在 1–99 之间"),
    ({"kind": "discount", "percent": 88, "cap_fen": 0}, "折扣券需设置最多减免金额"),
    ({"kind": "flat", "off_fen": 0}, "无门槛券需填写减免金额"),
    ({"valid_days": 0}, "领取后有效天数需在 1–366 之间"),
    ({"valid_days": None, "valid_from": NOW, "valid_until": NOW - timedelta(days=1)},
     "结束日期需晚于开始日期"),
    ({"valid_days": None, "valid_from": NOW - timedelta(days=9),
      "valid_until": NOW - timedelta(days=1)}, "结束日期已经过去"),
    ({"per_customer": 0}, "每人限领需在 1–20 张之间"),
    ({"total_limit": 0}, "发放总量需在"),
    ({"code": "好"}, "券码需为 4–20 位"),
    ({"trigger": "whenever"}, "请选择发放方式"),
])
def test_bad_terms_are_refused_with_a_reason(storage, overrides, reason):
    with pytest.raises(CouponError, match=reason), storage.sessions.begin() as db:
        batch(db, **overrides)
    with storage.sessions() as db:
        assert db.scalar(select(func.count()).select_from(CouponBatch)) == 0


def test_a_claim_code_is_unique_whatever_its_case(storage):
    with storage.sessions.begin() as db:
        batch(db, code="vip88")
    with pytest.raises(CouponError, match="券码 VIP88 已被「满199减20」使用"), \
            storage.sessions.begin() as db:
        batch(db, name="另一批", code="ＶＩＰ８８")


# --- limits under concurrency -----------------------------------------------------------------


def test_the_total_limit_holds_when_customers_claim_at_once(any_storage):
    with any_storage.sessions.begin() as db:
        limited = batch(db, total_limit=5, code="ONLY5").id

    def claim(n: int) -> str:
        with any_storage.sessions.begin() as db:
            coupon_issuing.claim_code(db, f"o-{n}", "only5", NOW)
        return "ok"

    results = run_together(16, claim)
    assert sorted(results) == ["ok"] * 5 + ["该优惠券已经被领完了"] * 11
    with any_storage.sessions() as db:
        assert db.get(CouponBatch, limited).issued == 5
        assert db.scalar(select(func.count()).select_from(Coupon)) == 5


def test_the_per_customer_limit_holds_when_one_customer_taps_many_times(any_storage):
    with any_storage.sessions.begin() as db:
        twice = batch(db, per_customer=2, code="TWICE").id

    def claim(_n: int) -> str:
        with any_storage.sessions.begin() as db:
            coupon_issuing.claim_code(db, "o-eager", "TWICE", NOW)
        return "ok"

    results = run_together(12, claim)
    assert sorted(results) == ["ok"] * 2 + ["每人限领2张，你已经领过了"] * 10
    with any_storage.sessions() as db:
        copies = db.scalars(select(Coupon.copy).where(Coupon.batch_id == twice)).all()
        assert sorted(copies) == [1, 2] and db.get(CouponBatch, twice).issued == 2


def test_a_coupon_is_redeemed_once_by_many_checkouts_at_once(any_storage):
    with any_storage.sessions.begin() as db:
        honey = sku(db)
        coupon_id = coupons.issue(db, batch(db).id, "o-twin", NOW, source="test").id

    def check_out(_n: int) -> str:
        with any_storage.sessions.begin() as db:
            return str(checkout(db, "o-twin", honey, coupon_id).id)

    results = run_together(16, check_out)
    placed = [r for r in results if r.isdigit()]
    assert len(placed) == 1 and results.count("这张优惠券已使用") == 15
    with any_storage.sessions() as db:
        kept = db.scalars(select(Order).where(Order.coupon_id == coupon_id)).all()
        assert [o.id for o in kept] == [int(placed[0])]
        assert (kept[0].total_fen, kept[0].coupon_fen) == (23000, 2000)
        assert db.get(Coupon, coupon_id).order_id == kept[0].id


# --- redemption and give-back -----------------------------------------------------------------


def test_redeem_says_why_not(storage):
    with storage.sessions.begin() as db:
        honey, cheap = sku(db), sku(db, price=9900)
        terms = batch(db)
        mine = coupons.issue(db, terms.id, "o-me", NOW, source="test").id
        later = coupons.issue(db, batch(db, name="下月用", valid_days=None,
                                        valid_from=NOW + timedelta(days=3),
                                        valid_until=NOW + timedelta(days=9)).id,
                              "o-me", NOW, source="test").id
    attempts = [("o-other", honey, mine, NOW, "这张优惠券不是你的"),
                ("o-me", cheap, mine, NOW, "未满足门槛：满199元可用"),
                ("o-me", honey, mine, NOW + timedelta(days=7), "这张优惠券已过期"),
                ("o-me", honey, later, NOW, "这张优惠券12月4日起才能使用")]
    for openid, sku_id, coupon_id, at, reason in attempts:
        with pytest.raises(CouponError, match=reason), storage.sessions.begin() as db:
            checkout(db, openid, sku_id, coupon_id, now=at)
    with storage.sessions.begin() as db:
        checkout(db, "o-me", honey, mine)
    with pytest.raises(CouponError, match="已使用"), storage.sessions.begin() as db:
        checkout(db, "o-me", honey, mine)
    with storage.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Order)) == 1


def test_usable_lists_the_best_first_and_none_at_flash_prices(storage):
    with storage.sessions.begin() as db:
        small = coupons.issue(db, batch(db, name="满199减10", off_fen=1000).id, "o-me", NOW,
                              source="t")
        big_late = coupons.issue(db, batch(db, valid_days=30).id, "o-me", NOW, source="t")
        big_soon = coupons.issue(db, batch(db, valid_days=2).id, "o-me", NOW, source="t")
        coupons.issue(db, batch(db, name="满500减100", threshold_fen=50000, off_fen=10000).id,
                      "o-me", NOW, source="t")
        ranked = [(c.id, fen) for c, fen in coupons.usable(db, "o-me", 25000, NOW)]
        assert coupons.usable(db, "o-me", 25000, NOW + timedelta(days=40)) == []
    assert ranked == [(big_soon.id, 2000), (big_late.id, 2000), (small.id, 1000)]


def cancel(storage, order_id: int, to_state: str, at: datetime) -> None:
    with storage.sessions.begin() as db:
        order = db.get(Order, order_id)
        if to_state == "refunded":
            orders.transition(db, order, "paid", actor="wxpay", now=at)
        orders.transition(db, order, to_state, actor="test", now=at)


def test_a_cancelled_order_gives_its_coupon_back_once(storage):
    with storage.sessions.begin() as db:
        honey = sku(db)
        coupon_id = coupons.issue(db, batch(db).id, "o-me", NOW, source="t").id
        first = checkout(db, "o-me", honey, coupon_id).id
    cancel(storage, first, "cancelled", NOW + timedelta(hours=1))
    with storage.sessions.begin() as db:
        assert db.get(Coupon, coupon_id).state == "available"
        second = checkout(db, "o-me", honey, coupon_id, now=NOW + timedelta(hours=2)).id
    with storage.sessions.begin() as db:  # the first order's change heard again: no effect
        coupons.give_back(db, db.get(Order, first), "pending_payment", "cancelled",
                          NOW + timedelta(hours=3))
    with storage.sessions() as db:
        assert (db.get(Coupon, coupon_id).state, db.get(Coupon, coupon_id).order_id) == (
            "used", second)


def test_a_refund_after_the_coupon_expired_keeps_it_used(storage):
    with storage.sessions.begin() as db:
        honey = sku(db)
        coupon_id = coupons.issue(db, batch(db, valid_days=1).id, "o-me", NOW, source="t").id
        order_id = checkout(db, "o-me", honey, coupon_id).id
    cancel(storage, order_id, "refunded", NOW + timedelta(days=2))
    with storage.sessions() as db:
        coupon = db.get(Coupon, coupon_id)
        assert (coupon.state, coupon.order_id) == ("used", order_id)


def test_a_refund_while_valid_gives_it_back(storage):
    with storage.sessions.begin() as db:
        honey = sku(db)
        coupon_id = coupons.issue(db, batch(db).id, "o-me", NOW, source="t").id
        order_id = checkout(db, "o-me", honey, coupon_id).id
    cancel(storage, order_id, "refunded", NOW + timedelta(days=1))
    with storage.sessions() as db:
        assert coupons.usable(db, "o-me", 25000, NOW + timedelta(days=1))[0][0].id == coupon_id


# --- claim codes, triggers, bundles -----------------------------------------------------------


def test_claim_code_errors_change_nothing(storage):
    with storage.sessions.begin() as db:
        batch(db, code="HELLO")
        batch(db, name="已暂停", code="PAUSED")
        coupon_batches.set_state(db, batch(db, name="已结束", code="ENDED").id, "end")
        gone = batch(db, name="已过期", valid_days=None, valid_from=NOW - timedelta(days=3),
                     valid_until=NOW + timedelta(days=1), code="OLD1")
        gone_id = gone.id
        coupon_batches.set_state(db, db.scalar(select(CouponBatch.id).where(
            CouponBatch.code == "PAUSED")), "pause")
    with storage.sessions.begin() as db:
        assert len(coupon_issuing.claim_code(db, "o-me", " hello ", NOW)) == 1
    tries = [("NOPE", NOW, "券码不存在"), ("x" * 50, NOW, "券码不存在"),
             ("Hello", NOW, "每人限领1张，你已经领过了"), ("paused", NOW, "暂停发放"),
             ("ended", NOW, "活动已结束"), ("old1", NOW + timedelta(days=2), "已过期")]
    for code, at, reason in tries:
        with pytest.raises(CouponError, match=reason), storage.sessions.begin() as db:
            coupon_issuing.claim_code(db, "o-me", code, at)
    with storage.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Coupon)) == 1
        assert db.get(CouponBatch, gone_id).issued == 0


def test_a_bundle_code_gives_the_whole_bundle(storage):
    with storage.sessions.begin() as db:
        batch(db, name="新人满减", bundle="新人礼", code="NEWBIE")
        batch(db, name="新人无门槛", kind="flat", off_fen=500, threshold_fen=0, bundle="新人礼")
        batch(db, name="别的礼包", bundle="老客礼")
    with storage.sessions.begin() as db:
        given = coupon_issuing.claim_code(db, "o-new", "newbie", NOW)
        names = [coupon.batch.name for coupon in given]
    assert names == ["新人满减", "新人无门槛"]


def test_triggers_give_once_per_occasion(storage):
    with storage.sessions.begin() as db:
        batch(db, name="关注礼", trigger="follow", per_customer=3)
        batch(db, name="生日礼", trigger="birthday", per_customer=5)
        batch(db, name="白银礼", trigger="tier:白银")
        batch(db, name="暂停的关注礼", trigger="follow").state = "paused"
    with storage.sessions.begin() as db:
        first = [c.batch.name for c in coupon_issuing.issue_on(db, "o-me", "follow", NOW)]
        again = coupon_issuing.issue_on(db, "o-me", "follow", NOW + timedelta(days=1))
        birthdays = [len(coupon_issuing.issue_on(db, "o-me", "birthday", at))
                     for at in (NOW, NOW + timedelta(hours=1), NOW + timedelta(days=365))]
        silver = coupon_issuing.on_tier_upgrade(db, "o-me", "青铜", "白银", NOW)
        gold = coupon_issuing.on_tier_upgrade(db, "o-me", "白银", "黄金", NOW)
    assert first == ["关注礼"] and again == [] and birthdays == [1, 0, 1]
    assert [c.batch.name for c in silver] == ["白银礼"] and gold == []


def test_issue_to_a_list_reports_what_it_skipped(storage):
    with storage.sessions.begin() as db:
        three = batch(db, total_limit=3).id
        coupons.issue(db, three, "o-had-one", NOW, source="t")
        result = coupon_issuing.issue_to_list(
            db, three, ["o-had-one", "o-first", "o-first", "bad id!", "o-second", "o-third"],
            NOW, source="console:manager")
    assert result["issued"] == 2
    assert result["skipped"] == {"o-had-one": "已领满每人限领张数", "bad id!": "OpenID 格式不对",
                                 "o-third": "该优惠券已经被领完了"}
    assert coupon_text.skipped_summary(result["skipped"]).startswith("未发放 3 人：")


# --- 我的优惠券 and usage -------------------------------------------------------------------


def test_my_coupons_show_usable_first_then_used_and_expired(storage):
    with storage.sessions.begin() as db:
        honey = sku(db)
        short = coupons.issue(db, batch(db, name="短期券", valid_days=1).id, "o-me", NOW,
                              source="t")
        used = coupons.issue(db, batch(db, name="已用券").id, "o-me", NOW, source="t").id
        coupons.issue(db, batch(db, name="长期券", valid_days=30).id, "o-me", NOW, source="t")
        checkout(db, "o-me", honey, used)
    later = NOW + timedelta(days=2)
    with storage.sessions() as db:
        rows = coupon_usage.for_customer(db, "o-me", later)
        text = coupon_text.summary(rows)
    assert [(c.batch.name, state) for c, state in rows] == [
        ("长期券", "available"), ("短期券", "expired"), ("已用券", "used")]
    assert short.id in {c.id for c, _ in rows}
    assert text.startswith("我的优惠券（可用 1 张）：\n1. 长期券：满199减20（有效期至12月30日）")
    assert "· 短期券：满199减20 已过期" in text and "· 已用券：满199减20 已使用" in text


def test_usage_counts_cost_and_sales_of_orders_kept(storage):
    with storage.sessions.begin() as db:
        honey = sku(db)
        terms = batch(db)
        held = [coupons.issue(db, terms.id, f"o-{n}", NOW, source="t").id for n in range(4)]
        kept = checkout(db, "o-0", honey, held[0])
        refunded = checkout(db, "o-1", honey, held[1])
        checkout(db, "o-2", honey, held[2])  # unpaid: used, not yet a cost
        for order in (kept, refunded):
            orders.transition(db, order, "paid", actor="wxpay", now=NOW)
        orders.transition(db, refunded, "refunded", actor="test", now=NOW)
    with storage.sessions() as db:
        figures = coupon_usage.usage(db, NOW)[terms.id]
    assert (figures.issued, figures.used, figures.orders) == (4, 2, 1)
    assert (figures.discount_fen, figures.gmv_fen, figures.rate) == (2000, 23000, 0.5)


def test_the_demo_batches_are_made_once_and_a_follower_gets_the_gift(storage):
    with storage.sessions.begin() as db:
        made = [b.name for b in seed_demo_coupons(db, NOW)]
        assert seed_demo_coupons(db, NOW) == []
        gift = coupon_issuing.issue_on(db, "o-new", "follow", NOW)
        claimed = coupon_issuing.claim_code(db, "o-new", "vip88", NOW)
    assert len(made) == 5
    assert [coupon_text.terms_text(c) for c in gift] == ["满199减20", "无门槛减5元"]
    assert coupon_text.describe(claimed[0]) == "8.8折（最多减30元）（有效期至12月30日）"
