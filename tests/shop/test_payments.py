"""WeChat Pay through the sandbox: signed notifications, exactly-once, refunds, expiry."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import select

from shop import jobs, orders
from shop.catalog import Product, Sku
from shop.orders import Order
from shop.payments import Payment
from shop.wxpay import encrypt_resource, sign
from tests.shop.conftest import free_port

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "street": "文三路100号"}


def place(storage, openid="o-buyer", product="土蜂蜜", count=1) -> Order:
    with storage.sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == product))
        order = orders.place(db, openid, [(sku.id, count)], address=ADDRESS)
    storage.wxpay.jsapi(order.number, "test", order.total_fen, openid)
    return order


def wait_for(check, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (result := check()):
            return result
        time.sleep(0.05)
    return check()


def order_state(storage, number: str) -> str:
    with storage.sessions() as db:
        return db.scalar(select(Order.state).where(Order.number == number))


def payments_of(storage, number: str) -> list[str]:
    with storage.sessions() as db:
        return list(db.scalars(select(Payment.outcome).where(Payment.out_trade_no == number)))


def test_paying_marks_the_order_paid_once_and_tells_the_customer(shop):
    sandbox, storage = shop.sandbox, shop.storage
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": "o-buyer", "kind": "subscribe"})
    order = place(storage)
    assert requests.post(f"{sandbox}/sandbox/pay", json={"openid": "o-buyer"}).ok
    assert wait_for(lambda: order_state(storage, order.number) == "paid")
    requests.post(f"{sandbox}/sandbox/pay/renotify", json={"out_trade_no": order.number})
    tx = wait_for(lambda: (lambda t: t if len(t["deliveries"]) == 2 else None)(
        requests.get(f"{sandbox}/sandbox/pay/transactions/{order.number}").json()))
    assert tx["deliveries"] == [204, 204]
    assert payments_of(storage, order.number) == ["paid"]
    def confirmation():
        sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": "o-buyer"}).json()
        return [m for m in sent["messages"] if "支付成功" in json.dumps(m, ensure_ascii=False)]

    assert len(wait_for(confirmation)) == 1  # one message, not one per notification
    with storage.sessions() as db:
        assert db.scalar(select(Product.sold_count).where(Product.name == "土蜂蜜")) == 1


def test_a_forged_notification_is_refused_and_changes_nothing(shop, keys):
    storage = shop.storage
    order = place(storage)
    base = storage.wxpay.config.notify_url
    body = json.dumps({"event_type": "TRANSACTION.SUCCESS", "resource": encrypt_resource(
        keys["api_v3"], json.dumps({"out_trade_no": order.number, "trade_state": "SUCCESS",
                                    "transaction_id": "x1", "amount": {"total": 1}}))})
    forged = requests.post(base, data=body, headers={
        "Wechatpay-Timestamp": str(int(time.time())), "Wechatpay-Nonce": "n",
        "Wechatpay-Signature": "Zm9yZ2Vk", "Content-Type": "application/json"})
    assert forged.status_code == 401 and order_state(storage, order.number) == "pending_payment"
    assert requests.post(base, data=b"\xff\xfe", headers={}).status_code == 401


def _notify(storage, keys, payload: dict) -> int:
    from cryptography.hazmat.primitives import serialization

    platform = serialization.load_pem_private_key(keys["platform"], password=None)
    body = json.dumps({"event_type": "TRANSACTION.SUCCESS",
                       "resource": encrypt_resource(keys["api_v3"], json.dumps(payload))})
    stamp, nonce = str(int(time.time())), "abc"
    return requests.post(storage.wxpay.config.notify_url, data=body, headers={
        "Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign(platform, f"{stamp}\n{nonce}\n{body}\n"),
        "Content-Type": "application/json"}).status_code


def test_a_wrong_amount_is_never_marked_paid(shop, keys):
    storage = shop.storage
    order = place(storage)
    status = _notify(storage, keys, {"out_trade_no": order.number, "trade_state": "SUCCESS",
                                     "transaction_id": "4200000001", "mchid": "1900000109",
                                     "amount": {"total": order.total_fen - 1}})
    assert status == 204
    assert order_state(storage, order.number) == "pending_payment"
    assert payments_of(storage, order.number) == ["amount_mismatch"]


def test_a_payment_after_cancellation_takes_the_stock_again_or_is_refunded(shop):
    sandbox, storage = shop.sandbox, shop.storage
    kept = place(storage, product="动漫角色手办", count=1)  # 限定版? no: 标准版, plenty left
    with storage.sessions.begin() as db:
        orders.transition(db, db.get(Order, kept.id), "cancelled", actor="o-buyer")
    requests.post(f"{sandbox}/sandbox/pay", json={"out_trade_no": kept.number})
    assert wait_for(lambda: order_state(storage, kept.number) == "paid")
    assert payments_of(storage, kept.number) == ["reserved_again"]

    gone = place(storage, openid="o-late", product="复古胶片相机", count=8)  # all of 奶白
    with storage.sessions.begin() as db:
        orders.transition(db, db.get(Order, gone.id), "cancelled", actor="o-late")
        place_all = db.scalar(select(Sku).where(Sku.variant == "奶白"))
        orders.place(db, "o-other", [(place_all.id, 8)])  # someone else took the stock
    requests.post(f"{sandbox}/sandbox/pay", json={"out_trade_no": gone.number})
    assert wait_for(lambda: payments_of(storage, gone.number) == ["refunded"])
    assert order_state(storage, gone.number) == "cancelled"
    tx = requests.get(f"{sandbox}/sandbox/pay/transactions/{gone.number}").json()
    assert tx["trade_state"] == "REFUND" and tx["refunded"] == gone.total_fen


def test_expiry_closes_at_wechat_pay_first_and_catches_a_lost_notification(shop):
    sandbox, storage = shop.sandbox, shop.storage
    unpaid = place(storage, openid="o-slow")
    later = datetime.now(UTC) + timedelta(minutes=31)
    assert jobs.release_unpaid_orders(storage, later) == 1
    assert order_state(storage, unpaid.number) == "cancelled"
    tx = requests.get(f"{sandbox}/sandbox/pay/transactions/{unpaid.number}").json()
    assert tx["trade_state"] == "CLOSED"
    assert requests.post(f"{sandbox}/sandbox/pay",
                         json={"out_trade_no": unpaid.number}).status_code == 400


def test_cancelling_by_chat_closes_or_refunds_at_wechat_pay(shop):
    from tests.conftest import WeChat

    customer = WeChat(shop.app.test_client())
    customer.user.openid = "o-cancel"
    unpaid = place(shop.storage, openid="o-cancel")
    assert "确定取消订单" in customer.say("取消订单")
    assert "订单保留不变" in customer.say("算了")
    assert order_state(shop.storage, unpaid.number) == "pending_payment"
    customer.say("取消订单")
    assert f"订单 {unpaid.number} 已取消" in customer.say("确认取消")
    tx = requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{unpaid.number}").json()
    assert tx["trade_state"] == "CLOSED"

    paid = place(shop.storage, openid="o-cancel")
    requests.post(f"{shop.sandbox}/sandbox/pay", json={"out_trade_no": paid.number})
    assert wait_for(lambda: order_state(shop.storage, paid.number) == "paid")
    customer.say("取消订单")
    answer = customer.say("确认取消")
    assert "将原路退回" in answer
    tx = requests.get(f"{shop.sandbox}/sandbox/pay/transactions/{paid.number}").json()
    assert tx["refunded"] == paid.total_fen
    with shop.storage.sessions() as db:
        honey = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        assert honey.stock == 40  # both units back on sale
        assert db.get(Product, honey.product_id).sold_count == 0  # and not counted as sold


def test_odd_headers_are_refused_not_a_500(shop):
    order = place(shop.storage)
    answer = requests.post(shop.storage.wxpay.config.notify_url, data=b"{}", headers={
        "Wechatpay-Timestamp": "\u00b2", "Wechatpay-Nonce": "n", "Wechatpay-Signature": "x"})
    assert answer.status_code == 401
    assert order_state(shop.storage, order.number) == "pending_payment"


def test_expiry_waits_for_orders_wechat_pay_cannot_answer(shop):
    unpaid = place(shop.storage, openid="o-offline")
    shop.storage.wxpay.config.base = f"http://127.0.0.1:{free_port()}"  # WeChat Pay unreachable
    later = datetime.now(UTC) + timedelta(minutes=31)
    assert jobs.release_unpaid_orders(shop.storage, later) == 0
    assert order_state(shop.storage, unpaid.number) == "pending_payment"  # not released blind


def test_a_payment_the_dead_process_never_announced_is_announced_by_the_retry(shop):
    """kill -9 between the payment's commit and the 支付成功 message: WeChat Pay gets no 2xx,
    retries, and the retry (a duplicate) tells the customer — once."""
    from sqlalchemy import update

    sandbox, storage = shop.sandbox, shop.storage
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": "o-buyer", "kind": "subscribe"})
    order = place(storage)
    assert requests.post(f"{sandbox}/sandbox/pay", json={"openid": "o-buyer"}).ok
    assert wait_for(lambda: order_state(storage, order.number) == "paid")

    def told() -> int:
        sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": "o-buyer"}).json()
        return sum("支付成功" in json.dumps(m, ensure_ascii=False) for m in sent["messages"])

    assert wait_for(lambda: told() == 1)
    with storage.sessions.begin() as db:  # as the killed process left it: paid, not announced
        db.execute(update(Payment).values(announced_at=None))
    for _ in range(2):
        requests.post(f"{sandbox}/sandbox/pay/renotify", json={"out_trade_no": order.number})
    assert wait_for(lambda: told() == 2)
    time.sleep(0.5)
    assert told() == 2  # announced by one retry, not by each
    assert payments_of(storage, order.number) == ["paid"]
