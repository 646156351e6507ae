"""The sandbox's WeChat Pay v3: JSAPI/Native create, query, close, refund — and paying.

Requests must carry a valid merchant signature (else 401 SIGN_ERROR, as the real API
answers); every answer is signed with the platform key. `POST /sandbox/pay` is the customer
paying: the transaction succeeds and a signed, encrypted TRANSACTION.SUCCESS notification is
posted to its notify_url, retried on WeChat Pay's schedule until the merchant answers 2xx.
`POST /sandbox/pay/renotify` sends a transaction's notification again (a duplicate).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Response, current_app, request

from shop.wxpay import MAX_SKEW_SECONDS, SCHEME, encrypt_resource, sign, verify

bp = Blueprint("sandbox_pay", __name__)

#: WeChat Pay's notification retries: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h.
REAL_RETRY_SECONDS = (0, 15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800,
                      10800, 21600, 21600)
_AUTH = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class PayKeys:
    mch_id: str
    api_v3_key: bytes
    merchant_public: rsa.RSAPublicKey
    platform_private: rsa.RSAPrivateKey
    platform_serial: str = "SANDBOXPLATFORM0001"


@dataclass
class Transaction:
    out_trade_no: str
    appid: str
    description: str
    total: int
    notify_url: str
    payer: str
    trade_type: str
    state: str = "NOTPAY"  # NOTPAY → SUCCESS | CLOSED; SUCCESS → REFUND
    transaction_id: str = ""
    success_time: str = ""
    refunded: int = 0
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: list[int] = field(default_factory=list)  # HTTP statuses, in order


class PaySandbox:
    def __init__(self, keys: PayKeys, retry_seconds: tuple[float, ...] = REAL_RETRY_SECONDS):
        self.keys = keys
        self.retry_seconds = retry_seconds
        self.transactions: dict[str, Transaction] = {}
        self.lock = threading.Lock()

    def as_json(self, tx: Transaction) -> dict[str, Any]:
        data = {"appid": tx.appid, "mchid": self.keys.mch_id, "out_trade_no": tx.out_trade_no,
                "trade_type": tx.trade_type, "trade_state": tx.state,
                "amount": {"total": tx.total, "payer_total": tx.total, "currency": "CNY"},
                "payer": {"openid": tx.payer}}
        if tx.transaction_id:
            data |= {"transaction_id": tx.transaction_id, "success_time": tx.success_time}
        return data

    def notify(self, tx: Transaction) -> None:
        """Deliver TRANSACTION.SUCCESS in the background, retrying until a 2xx."""
        resource = encrypt_resource(self.keys.api_v3_key,
                                    json.dumps(self.as_json(tx), ensure_ascii=False))
        body = json.dumps({"id": secrets.token_hex(16), "create_time": tx.success_time,
                           "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS",
                           "summary": "支付成功", "resource": resource}, ensure_ascii=False)
        threading.Thread(target=self._deliver, args=(tx, body), daemon=True).start()

    def _deliver(self, tx: Transaction, body: str) -> None:
        for delay in self.retry_seconds:
            time.sleep(delay)
            headers = self.signed_headers(body)
            try:
                status = requests.post(tx.notify_url, data=body.encode(), timeout=5,
                                       headers={**headers, "Content-Type": "application/json"}
                                       ).status_code
            except requests.RequestException:
                status = 0
            with self.lock:
                tx.deliveries.append(status)
            if 200 <= status < 300:
                return

    def signed_headers(self, body: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Serial": self.keys.platform_serial,
                "Wechatpay-Signature": sign(self.keys.platform_private,
                                            f"{timestamp}\n{nonce}\n{body}\n")}


def _sandbox() -> PaySandbox:
    return current_app.extensions["sandbox_pay"]


def _answer(data: dict[str, Any] | None, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False) if data is not None else ""
    response = Response(body, status, content_type="application/json")
    if body:
        response.headers.update(_sandbox().signed_headers(body))
    return response


def _fail(status: int, code: str, message: str) -> Response:
    return _answer({"code": code, "message": message}, status)


def _authenticated() -> bool:
    """The merchant's signature over method, path+query, timestamp, nonce and body."""
    header = request.headers.get("Authorization", "")
    if not header.startswith(SCHEME + " "):
        return False
    fields = dict(_AUTH.findall(header))
    if fields.get("mchid") != _sandbox().keys.mch_id:
        return False
    timestamp = fields.get("timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    path = request.full_path.rstrip("?")
    message = (f"{request.method}\n{path}\n{timestamp}\n{fields.get('nonce_str', '')}\n"
               f"{request.get_data(as_text=True)}\n")
    return verify(_sandbox().keys.merchant_public, message, fields.get("signature", ""))


@bp.before_request
def _check_signature() -> Response | None:
    if request.path.startswith("/v3/") and not _authenticated():
        return _fail(401, "SIGN_ERROR", "签名错误")
    return None


def _create(trade_type: str) -> Response:
    body = request.get_json(silent=True) or {}
    sandbox = _sandbox()
    try:
        out_trade_no = str(body["out_trade_no"])
        total = body["amount"]["total"]
        if not isinstance(total, int) or total <= 0 or not re.fullmatch(r"[\w*|-]{6,32}",
                                                                       out_trade_no):
            raise ValueError
        if body.get("mchid") != sandbox.keys.mch_id:
            return _fail(400, "MCH_NOT_EXISTS", "商户号不存在")
    except (KeyError, TypeError, ValueError):
        return _fail(400, "PARAM_ERROR", "参数错误")
    payer = str((body.get("payer") or {}).get("openid", ""))
    if trade_type == "JSAPI" and not payer:
        return _fail(400, "PARAM_ERROR", "缺少 payer.openid")
    with sandbox.lock:
        tx = sandbox.transactions.get(out_trade_no)
        if tx is not None and (tx.total != total or tx.state != "NOTPAY"
                               or tx.trade_type != trade_type):  # as WeChat Pay: 201 重复
            return _fail(400, "ORDERPAID" if tx.state == "SUCCESS" else "OUT_TRADE_NO_USED",
                         "商户订单号重复")
        if tx is None:
            tx = sandbox.transactions[out_trade_no] = Transaction(
                out_trade_no, str(body.get("appid", "")), str(body.get("description", "")),
                total, str(body.get("notify_url", "")), payer, trade_type)
    if trade_type == "JSAPI":
        return _answer({"prepay_id": f"wx{out_trade_no}"})
    return _answer({"code_url": f"weixin://wxpay/bizpayurl?pr={out_trade_no}"})


@bp.post("/v3/pay/transactions/jsapi")
def create_jsapi() -> Response:
    return _create("JSAPI")


@bp.post("/v3/pay/transactions/native")
def create_native() -> Response:
    return _create("NATIVE")


@bp.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
def query(out_trade_no: str) -> Response:
    tx = _sandbox().transactions.get(out_trade_no)
    if tx is None:
        return _fail(404, "ORDER_NOT_EXIST", "订单不存在")
    return _answer(_sandbox().as_json(tx))


@bp.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
def close(out_trade_no: str) -> Response:
    sandbox = _sandbox()
    with sandbox.lock:
        tx = sandbox.transactions.get(out_trade_no)
        if tx is None:
            return _fail(404, "ORDER_NOT_EXIST", "订单不存在")
        if tx.state in ("SUCCESS", "REFUND"):
            return _fail(400, "ORDERPAID", "订单已支付")
        tx.state = "CLOSED"
    return _answer(None, 204)


@bp.post("/v3/refund/domestic/refunds")
def refund() -> Response:
    body = request.get_json(silent=True) or {}
    sandbox = _sandbox()
    with sandbox.lock:
        tx = sandbox.transactions.get(str(body.get("out_trade_no", "")))
        out_refund_no = str(body.get("out_refund_no", ""))
        amount = (body.get("amount") or {}).get("refund")
        if tx is None:
            return _fail(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        if out_refund_no in tx.refunds:
            return _answer(tx.refunds[out_refund_no])
        if tx.state not in ("SUCCESS", "REFUND"):
            return _fail(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if not isinstance(amount, int) or amount <= 0 or amount > tx.total - tx.refunded:
            return _fail(400, "PARAM_ERROR", "退款金额超过可退金额")
        tx.refunded += amount
        tx.state = "REFUND"
        tx.refunds[out_refund_no] = {
            "refund_id": f"50{secrets.randbelow(10**20):020d}", "out_refund_no": out_refund_no,
            "out_trade_no": tx.out_trade_no, "status": "SUCCESS",
            "amount": {"refund": amount, "total": tx.total, "currency": "CNY"},
        }
        return _answer(tx.refunds[out_refund_no])


@bp.post("/sandbox/pay")
def pay() -> Response:
    """The customer pays: {"out_trade_no": …} or {"openid": …} (their latest unpaid one)."""
    body = request.get_json(silent=True) or {}
    sandbox = _sandbox()
    with sandbox.lock:
        if body.get("out_trade_no"):
            tx = sandbox.transactions.get(str(body["out_trade_no"]))
        else:
            waiting = [t for t in sandbox.transactions.values()
                       if t.payer == body.get("openid") and t.state == "NOTPAY"]
            tx = waiting[-1] if waiting else None
        if tx is None:
            return _fail(404, "ORDER_NOT_EXIST", "没有待支付的订单")
        if tx.state != "NOTPAY":
            return _fail(400, "ORDER_CLOSED" if tx.state == "CLOSED" else "ORDERPAID",
                         f"订单状态为 {tx.state}，不能支付")
        tx.state = "SUCCESS"
        tx.transaction_id = f"42{secrets.randbelow(10**26):026d}"
        tx.success_time = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.localtime())
    if tx.payer:  # paying counts as interacting: it opens the customer-service window
        account = current_app.extensions["sandbox"]
        with account.lock:
            account.interact(tx.payer, "payment", account.clock.now())
    sandbox.notify(tx)
    return _answer({"out_trade_no": tx.out_trade_no, "trade_state": tx.state})


@bp.post("/sandbox/pay/renotify")
def renotify() -> Response:
    """Send a paid transaction's notification again (WeChat Pay does send duplicates)."""
    tx = _sandbox().transactions.get(str((request.get_json(silent=True) or {}).get(
        "out_trade_no", "")))
    if tx is None or tx.state not in ("SUCCESS", "REFUND"):
        return _fail(404, "ORDER_NOT_EXIST", "没有已支付的订单")
    _sandbox().notify(tx)
    return _answer({"out_trade_no": tx.out_trade_no})


@bp.get("/sandbox/pay/transactions/<out_trade_no>")
def describe(out_trade_no: str) -> Response:
    tx = _sandbox().transactions.get(out_trade_no)
    if tx is None:
        return _fail(404, "ORDER_NOT_EXIST", "订单不存在")
    return _answer(_sandbox().as_json(tx) | {"deliveries": tx.deliveries,
                                             "refunded": tx.refunded})
