"""退款进度 shows every refund, whatever caused it, and each return's step and what to do next.

Regression (issue 13): after a paid order was cancelled and refunded, 退款进度 answered
"您没有退货申请".
"""

from __future__ import annotations

import requests
from sqlalchemy import select

from shop import after_sale, orders, refund_progress, returns
from shop.after_sale import ReturnRequest
from shop.catalog import Sku
from shop.orders import Order
from tests.conftest import WeChat
from tests.handlers.test_order import text
from tests.shop.test_payments import order_state, payments_of, place, wait_for
from tests.shop.test_returns import RETURN_TO, paid_and_shipped, requested, shipped_order


def progress(storage, openid: str = "o-buyer") -> str:
    with storage.sessions() as db:
        return refund_progress.text(db, openid)


def test_a_refunded_cancellation_shows_in_refund_progress(shop):
    customer = WeChat(shop.app.test_client())
    customer.user.openid = "o-cancel"
    assert text(customer.say("退款进度")) == refund_progress.NONE
    paid = place(shop.storage, openid="o-cancel")
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": paid.number})
    assert wait_for(lambda: order_state(shop.storage, paid.number) == "paid")
    customer.say("取消订单")
    customer.say("确认取消")
    answer = text(customer.say("退款进度"))
    assert answer.startswith(f"订单 {paid.number}：¥68 已原路退回（顾客发货前取消），")
    assert "您没有退货申请" not in answer


def test_a_merchant_refund_and_a_payment_given_back_on_arrival_show_too(shop):
    order = place(shop.storage)
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": order.number})
    assert wait_for(lambda: order_state(shop.storage, order.number) == "paid")
    with shop.storage.sessions.begin() as db:
        after_sale.merchant_refund(db, db.get(Order, order.id), shop.storage.wxpay,
                                   actor="manager", reason="仓库缺货")
    assert progress(shop.storage).startswith(f"订单 {order.number}：¥68 已原路退回（仓库缺货），")

    late = place(shop.storage, product="复古胶片相机", count=8)  # all of 奶白
    with shop.storage.sessions.begin() as db:
        orders.transition(db, db.get(Order, late.id), "cancelled", actor="o-buyer")
        gone = db.scalar(select(Sku).where(Sku.variant == "奶白"))
        orders.place(db, "o-other", [(gone.id, 8)])
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": late.number})
    assert wait_for(lambda: payments_of(shop.storage, late.number) == ["refunded"])
    latest, earlier = progress(shop.storage).split("\n\n")
    assert latest.startswith(f"订单 {late.number}：一笔 ¥")
    assert "的付款（订单已关闭或已付过款）已原路退回" in latest
    assert earlier.startswith(f"订单 {order.number}：¥68 已原路退回")


def test_each_step_of_a_return_shows_with_what_to_do_next(storage):
    request_id = requested(storage, shipped_order(storage))
    assert "退货申请已提交" in progress(storage, "o1")
    assert progress(storage, "o1").endswith(
        "✓提交申请 → 【商家同意】 → 寄回商品 → 商家收货 → 退款")
    with storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                        actor="manager")
    approved = progress(storage, "o1")
    assert f"商家已同意退货，请将商品寄回：\n{RETURN_TO}\n寄出后直接回复快递单号" in approved
    assert approved.endswith("✓提交申请 → ✓商家同意 → 【寄回商品】 → 商家收货 → 退款")
    with storage.sessions.begin() as db:
        returns.record_parcel(db, db.get(ReturnRequest, request_id), "SF", "SF1234567890123")
    posted = progress(storage, "o1")
    assert "退货已寄回（顺丰速运 SF1234567890123），商家确认收货后原路退款。" in posted
    assert posted.endswith("✓提交申请 → ✓商家同意 → ✓寄回商品 → 【商家收货】 → 退款")
    with storage.sessions.begin() as db:
        returns.reject(db, db.get(ReturnRequest, request_id), actor="manager",
                       note="收到的商品已使用")
    assert "退货申请未通过：收到的商品已使用。" in progress(storage, "o1")


def test_a_return_refunded_on_receipt_shows_the_refund_and_its_cause(shop):
    order = paid_and_shipped(shop)
    request_id = requested(shop.storage, order.id)
    with shop.storage.sessions.begin() as db:
        returns.approve(db, db.get(ReturnRequest, request_id), return_address=RETURN_TO,
                        actor="manager")
        returns.receive(db, db.get(ReturnRequest, request_id), shop.storage.wxpay,
                        actor="manager")
    assert progress(shop.storage).startswith(
        f"订单 {order.number}：¥68 已原路退回（七天无理由退货，商家已收到退回的商品），")
