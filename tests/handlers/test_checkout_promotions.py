"""Coupons and points at the chat's read-back, as the customer sees them, and what is charged."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.inbound import parse_xml_fields
from content_audit import default_screener
from devtools.demo import seed_catalog
from promotions import coupon_batches, coupons, points
from promotions.checkout import CheckoutError
from promotions.checkout import place as place_with_promotions
from promotions.coupon_batches import BatchTerms
from promotions.coupons import Coupon
from promotions.points import PointsLot
from shop import after_sale, members, orders
from shop.catalog import Product
from shop.members import Customer
from shop.orders import Order


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


@pytest.fixture()
def shop(app, wechat):
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    return wechat


def give_coupon(app, openid: str, **terms) -> int:
    terms = {"name": "满199减20", "kind": "threshold", "threshold_fen": 19900, "off_fen": 2000,
             "valid_days": 30, **terms}
    now = datetime.now(UTC)
    with app.extensions["storage"].sessions.begin() as db:
        batch = coupon_batches.create_batch(db, BatchTerms(**terms), now)
        return coupons.issue(db, batch.id, openid, now, source="test").id


def give_points(app, openid: str, amount: int, tier_level: int = 1) -> None:
    """Points earned this year by a customer of `tier_level` (1 = 青铜, whose benefit
    积分抵现 is)."""
    now = datetime.now(UTC)
    with app.extensions["storage"].sessions.begin() as db:
        members.on_order_placed(db, openid, now)
        db.execute(update(Customer).where(Customer.openid == openid)
                   .values(tier_level=tier_level))
        db.add(PointsLot(openid=openid, year=now.year, balance=amount, updated_at=now))


def coupon_state(app, coupon_id: int) -> str:
    with app.extensions["storage"].sessions() as db:
        return db.get(Coupon, coupon_id).state


def balance(app, openid: str) -> int:
    with app.extensions["storage"].sessions() as db:
        return points.balance(db, openid, datetime.now(UTC))


def latest_order(app, openid: str) -> Order:
    with app.extensions["storage"].sessions() as db:
        order = db.scalar(select(Order).where(Order.openid == openid).order_by(Order.id.desc()))
        db.expunge(order)
        return order


def to_read_back(app, shop, product: str = "丝绒哑光口红", count: str = "买 2") -> str:
    with app.extensions["storage"].sessions() as db:
        product_id = db.scalar(select(Product.id).where(Product.name == product))
    shop.say(f"商品 {product_id}")
    shop.say(count)
    shop.say("1")
    return text(shop.say("张三 13800138000 浙江省杭州市西湖区文三路100号"))


def test_the_best_coupon_is_suggested_and_charged(app, shop):
    coupon_id = give_coupon(app, shop.user.openid)
    read_back = to_read_back(app, shop)  # 2 × ¥129 = ¥258
    assert "商品金额 ¥258\n优惠券：满199减20" in read_back
    assert "−¥20（回复「不用券」不使用）\n应付 ¥238，包邮" in read_back
    done = text(shop.say("确认"))
    assert "应付 ¥238" in done
    order = latest_order(app, shop.user.openid)
    assert (order.total_fen, order.coupon_fen, order.coupon_id) == (23800, 2000, coupon_id)
    assert coupon_state(app, coupon_id) == "used"


def test_declining_the_coupon_charges_the_full_price_and_keeps_it(app, shop):
    coupon_id = give_coupon(app, shop.user.openid)
    to_read_back(app, shop)
    declined = text(shop.say("不用券"))
    assert declined.startswith("好的，本单不使用优惠券。")
    assert "有 1 张优惠券可用，回复「换券」选择\n应付 ¥258" in declined
    assert "应付 ¥258" in text(shop.say("确认"))
    assert latest_order(app, shop.user.openid).coupon_id is None
    assert coupon_state(app, coupon_id) == "available"


def test_changing_the_coupon_lists_every_usable_one(app, shop):
    give_coupon(app, shop.user.openid)
    smaller = give_coupon(app, shop.user.openid, name="无门槛5元", kind="flat", threshold_fen=0,
                          off_fen=500)
    give_coupon(app, shop.user.openid, name="满999减100", threshold_fen=99900, off_fen=10000)
    to_read_back(app, shop)
    menu = text(shop.say("换券"))
    assert menu.startswith("请选择优惠券（回复序号）：\n1. 满199减20")
    assert "2. 无门槛减5元" in menu and "满999减100" not in menu and "0. 不使用优惠券" in menu
    assert text(shop.say("9")).startswith("请回复 0–2 之间的序号")
    assert "应付 ¥253" in text(shop.say("2"))
    text(shop.say("确认"))
    assert latest_order(app, shop.user.openid).coupon_id == smaller


def test_points_are_offered_not_spent_until_asked(app, shop):
    give_points(app, shop.user.openid, 50_000)
    read_back = to_read_back(app, shop)  # goods ¥258; at most 50% → ¥129 = 12,900 points
    assert "积分 50000 分，本单最多可用 12900 分抵 ¥129（回复「用积分」使用）" in read_back
    assert "应付 ¥258" in read_back
    asked = text(shop.say("用积分 20000"))
    assert asked.startswith("本单最多可用 12900 分，已按 12900 分抵扣。")
    assert "积分抵现：12900 分 −¥129" in asked and "应付 ¥129" in asked
    text(shop.say("确认"))
    order = latest_order(app, shop.user.openid)
    assert (order.total_fen, order.points_used, order.points_fen) == (12900, 12900, 12900)
    assert balance(app, shop.user.openid) == 50_000 - 12_900


def test_cancelling_gives_the_coupon_and_the_points_back(app, shop):
    coupon_id = give_coupon(app, shop.user.openid)
    give_points(app, shop.user.openid, 1_000)
    to_read_back(app, shop)
    shop.say("用积分")
    text(shop.say("确认"))
    assert coupon_state(app, coupon_id) == "used" and balance(app, shop.user.openid) == 0
    order = latest_order(app, shop.user.openid)
    with app.extensions["storage"].sessions.begin() as db:
        after_sale.cancel(db, db.get(Order, order.id), None, actor=shop.user.openid)
    assert coupon_state(app, coupon_id) == "available"
    assert balance(app, shop.user.openid) == 1_000


def test_without_coupon_or_points_the_read_back_is_plain(app, shop):
    read_back = to_read_back(app, shop)
    assert "合计 ¥258，包邮" in read_back and "优惠券" not in read_back
    assert text(shop.say("换券")).startswith("这笔订单没有可用的优惠券。")
    assert text(shop.say("用积分")).startswith("本单暂无可用积分。")


def test_a_coupon_used_meanwhile_places_nothing_and_shows_the_new_bill(app, shop):
    coupon_id = give_coupon(app, shop.user.openid)
    to_read_back(app, shop)
    with app.extensions["storage"].sessions.begin() as db:  # the same coupon on another phone
        sku_id = db.scalar(select(Product).where(Product.name == "土蜂蜜")).skus[0].id
        order = orders.place(db, shop.user.openid, [(sku_id, 5)])
        coupons.redeem(db, coupon_id, shop.user.openid, order.id, order.total_fen,
                       datetime.now(UTC))
    reply = text(shop.say("确认"))
    assert reply.startswith("这张优惠券已使用，请看新的金额：\n请确认订单：")
    assert "合计 ¥258" in reply
    with app.extensions["storage"].sessions() as db:
        assert db.scalar(select(Order).where(Order.openid == shop.user.openid)
                         .order_by(Order.id.desc())).id == order.id  # nothing new placed
    assert "应付 ¥258" in text(shop.say("确认"))


def test_one_balance_cannot_pay_two_orders_at_once(app, shop):
    """Two checkouts spending the same points at the same moment: one of them fails."""
    give_points(app, shop.user.openid, 10_000)
    sessions = app.extensions["storage"].sessions
    with sessions() as db:
        sku_id = db.scalar(select(Product).where(Product.name == "土蜂蜜")).skus[0].id
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def checkout() -> None:
        start.wait()
        try:
            with sessions.begin() as db:
                place_with_promotions(
                    db, shop.user.openid, [(sku_id, 5)], address={}, coupon_id=None,
                    points_used=10_000, expected_total=None, now=datetime.now(UTC),
                    config=app.config, payment_minutes=30, checkout_key=None)
            outcomes.append("placed")
        except CheckoutError as error:
            outcomes.append(str(error))
        except Exception as error:  # SQLite's writer lock: a refused writer
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=checkout) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("placed") == 1, outcomes
    assert balance(app, shop.user.openid) == 0


def test_below_bronze_points_are_not_offered(app, shop):
    """积分抵现 is the playbook's 青铜 benefit: an ordinary member keeps the points for later."""
    give_points(app, shop.user.openid, 5_000, tier_level=0)
    read_back = to_read_back(app, shop)
    assert "合计 ¥258，包邮" in read_back and "积分" not in read_back
    assert text(shop.say("用积分")).startswith("本单暂无可用积分。")
