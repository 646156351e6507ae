"""A return as the merchant runs it: approve → the customer posts the goods back and sends the
number → the merchant confirms they arrived → refund; or 仅退款; or a rejection."""

from __future__ import annotations

import pytest
import requests

from shop import after_sale, orders, returns
from shop.after_sale import ReturnRequest
from shop.orders import Order, OrderError
from tests.shop.test_after_sale import HOME, product
from tests.shop.test_payments import order_state, place, wait_for

RETURN_TO = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def requested(storage, order_id: int) -> int:
    with storage.sessions.begin() as db:
        order = db.get(Order, order_id)
        return after_sale.request_return(db, order, reason="七天无理由退货", opened=None).id


def shipped_order(storage, openid: str = "o1") -> int:
    """A shipped order, without WeChat Pay (for the steps that move no money)."""
    with storage.sessions.begin() as db:
        order = orders.place(db, openid, [(product(db, "土蜂蜜"), 1)], address=HOME)
        for state in ("paid", "shipped"):
            orders.transition(db, order, state, actor="test")
        return order.id


def paid_and_shipped(shop) -> Order:
    order = place(shop.storage)
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": order.number})
    assert wait_for(lambda: order_state(shop.storage, order.number) == "paid")
    with shop.storage.sessions.begin() as db:
        orders.transition(db, db.get(Order, order.id), "shipped", actor="manager")
    return order


def refunded_fen(shop, number: str) -> int:
    return requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{number}").json()["refunded"]


def request_of(storage, request_id: int) -> ReturnRequest:
    with storage.sessions() as db:
        return db.get(ReturnRequest, request_id)


def test_approving_needs_a_return_address_and_moves_no_money(storage):
    request_id = requested(storage, shipped_order(storage))
    with pytest.raises(OrderError, match="还没有设置退货地址"), storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address="", actor="m")
    with storage.sessions.begin() as db:
        order = returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                                actor="manager")
        assert order.state == "shipped"
        assert orders.history(db, order.id)[-1].note == f"同意退货，请顾客寄回：{RETURN_TO}"
    approved = request_of(storage, request_id)
    assert (approved.state, approved.return_address, approved.decided_by) == (
        "approved", RETURN_TO, "manager")
    with pytest.raises(OrderError, match="待顾客寄回"), storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                        actor="manager2")


def test_the_number_the_customer_sends_is_kept_and_may_be_corrected(storage):
    request_id = requested(storage, shipped_order(storage))
    with pytest.raises(OrderError), storage.sessions.begin() as db:  # not approved yet
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "SF", "SF1234567890123")
    with storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                        actor="manager")
        assert returns.awaiting_parcel(db, "o1").id == request_id
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "SF", "SF1234567890123")
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "YTO", "YT1234567890123")
    sent = request_of(storage, request_id)
    assert (sent.state, sent.return_carrier, sent.return_tracking_no) == (
        "returning", "YTO", "YT1234567890123")
    assert sent.sent_back_at is not None


def test_the_refund_waits_for_the_goods_and_is_made_once(shop):
    order = paid_and_shipped(shop)
    request_id = requested(shop.storage, order.id)
    with shop.storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                        actor="manager")
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "SF", "SF1234567890123")
    assert refunded_fen(shop, order.number) == 0
    with shop.storage.sessions.begin() as db:
        returns.receive(db, db.get(ReturnRequest, request_id), shop.storage.wxpay,
                        actor="manager")
    with pytest.raises(OrderError, match="已经处理过"), shop.storage.sessions.begin() as db:
        returns.receive(db, db.get(ReturnRequest, request_id), shop.storage.wxpay, actor="m2")
    with pytest.raises(OrderError), shop.storage.sessions.begin() as db:  # a late number
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "SF", "SF1234567890124")
    assert refunded_fen(shop, order.number) == order.total_fen
    assert order_state(shop.storage, order.number) == "refunded"
    done = request_of(shop.storage, request_id)
    assert (done.state, done.refund_only, done.return_tracking_no) == (
        "refunded", False, "SF1234567890123")
    assert done.refunded_at is not None


def test_refund_without_return_is_the_merchant_s_choice_and_refunds_at_once(shop):
    order = paid_and_shipped(shop)
    request_id = requested(shop.storage, order.id)
    with shop.storage.sessions.begin() as db:
        returns.refund_without_return(db, db.get(ReturnRequest, request_id),
                                      shop.storage.wxpay, actor="manager")
    assert refunded_fen(shop, order.number) == order.total_fen
    done = request_of(shop.storage, request_id)
    assert (done.state, done.refund_only) == ("refunded", True)
    with shop.storage.sessions() as db:
        assert "仅退款（无需寄回商品）" in orders.history(db, order.id)[-1].note


def test_a_rejection_needs_a_reason_and_closes_a_return_never_posted(storage):
    request_id = requested(storage, shipped_order(storage))
    with storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                        actor="manager")
    with pytest.raises(OrderError, match="请写明原因"), storage.sessions.begin() as db:
        returns.reject(db, db.get(ReturnRequest, request_id), actor="manager", note=" ")
    with storage.sessions.begin() as db:
        returns.reject(db, db.get(ReturnRequest, request_id), actor="manager",
                       note="超过 15 天未寄回")
        assert returns.awaiting_parcel(db, "o1") is None
    assert request_of(storage, request_id).state == "rejected"


def test_a_merchant_refund_answers_a_return_on_its_way_back(shop):
    order = paid_and_shipped(shop)
    request_id = requested(shop.storage, order.id)
    with shop.storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                        actor="manager")
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "SF", "SF1234567890123")
    with shop.storage.sessions.begin() as db:
        after_sale.merchant_refund(db, db.get(Order, order.id), shop.storage.wxpay,
                                   actor="manager", reason="包裹丢失，直接退款")
    assert request_of(shop.storage, request_id).state == "refunded"
    assert refunded_fen(shop, order.number) == order.total_fen


def test_a_number_goes_to_the_oldest_return_still_waiting_for_one(storage):
    first = requested(storage, shipped_order(storage))
    second = requested(storage, shipped_order(storage))
    with storage.sessions.begin() as db:
        for request_id in (second, first):
            returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                            actor="manager")
        assert returns.awaiting_parcel(db, "o1").id == first
        returns.record_parcel(db, db.get(ReturnRequest, first), "SF", "SF1234567890123")
        assert returns.awaiting_parcel(db, "o1").id == second
        assert returns.counts(db) == {"requested": 0, "approved": 1, "returning": 1,
                                      "refunded": 0, "rejected": 0}
