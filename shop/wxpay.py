"""WeChat Pay API v3: signed requests, verified answers and notifications, decrypted resources.

Requests carry `Authorization: WECHATPAY2-SHA256-RSA2048 …`, an RSA-SHA256 signature of
"METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n" with the merchant's private key. Answers and payment
notifications are signed by the platform ("timestamp\\nnonce\\nbody\\n", headers Wechatpay-*),
and a notification's resource is AES-256-GCM encrypted with the APIv3 key. The same code
talks to the sandbox (devtools/sandbox/pay.py) and to api.mch.weixin.qq.com.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REAL_BASE = "https://api.mch.weixin.qq.com"
SCHEME = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW_SECONDS = 300


class PayError(Exception):
    """A call WeChat Pay refused (code, message), or an answer we could not trust."""

    def __init__(self, code: str, message: str, status: int = 0):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


class BadNotification(ValueError):
    """A notification that is not from WeChat Pay or cannot be read; it is refused (4xx)."""


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    signature = private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify(public_key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(),
                          hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def encrypt_resource(api_v3_key: bytes, plaintext: str, associated: str = "transaction"
                     ) -> dict[str, str]:
    """What the platform does to a notification's resource (used by the sandbox)."""
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(api_v3_key).encrypt(nonce.encode(), plaintext.encode(), associated.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": associated, "nonce": nonce, "original_type": "transaction"}


def decrypt_resource(api_v3_key: bytes, resource: dict[str, Any]) -> dict[str, Any]:
    try:
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise BadNotification("unknown algorithm")
        plain = AESGCM(api_v3_key).decrypt(
            str(resource["nonce"]).encode(),
            base64.b64decode(resource["ciphertext"]),
            str(resource.get("associated_data") or "").encode(),
        )
        return json.loads(plain)
    except (KeyError, ValueError, InvalidTag, TypeError) as error:
        raise BadNotification(f"resource cannot be decrypted: {type(error).__name__}") from None


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem, password=None)  # type: ignore[return-value]


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    return serialization.load_pem_public_key(pem)  # type: ignore[return-value]


@dataclass
class PayConfig:
    mch_id: str
    app_id: str
    api_v3_key: bytes  # 32 bytes
    merchant_key: rsa.RSAPrivateKey
    merchant_serial: str
    platform_key: rsa.RSAPublicKey
    notify_url: str
    base: str = REAL_BASE


class WxPay:
    """The merchant side: create, query, close, refund; and read notifications."""

    def __init__(self, config: PayConfig, session: requests.Session | None = None):
        self.config = config
        self.http = session or requests.Session()

    # --- calls ------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")) if body else ""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = sign(self.config.merchant_key, f"{method}\n{path}\n{timestamp}\n{nonce}\n"
                                                   f"{payload}\n")
        authorization = (
            f'{SCHEME} mchid="{self.config.mch_id}",nonce_str="{nonce}",timestamp="{timestamp}",'
            f'serial_no="{self.config.merchant_serial}",signature="{signature}"'
        )
        try:
            response = self.http.request(
                method, self.config.base + path, data=payload.encode() if payload else None,
                headers={"Authorization": authorization, "Accept": "application/json",
                         "Content-Type": "application/json"},
                timeout=10,
            )
        except requests.RequestException as error:
            raise PayError("NETWORK", type(error).__name__) from None
        text = response.text
        if text and not self.verify_headers(response.headers, text):
            raise PayError("SIGN_ERROR", "answer not signed by the platform", response.status_code)
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            raise PayError("BAD_ANSWER", "answer is not JSON", response.status_code) from None
        if response.status_code >= 400:
            raise PayError(str(data.get("code", "HTTP")), str(data.get("message", "")),
                           response.status_code)
        return data

    def jsapi(self, out_trade_no: str, description: str, total_fen: int, openid: str
              ) -> dict[str, str]:
        """Create a JSAPI payment; returns the parameters WeixinJSBridge needs."""
        answer = self.call("POST", "/v3/pay/transactions/jsapi", {
            "appid": self.config.app_id, "mchid": self.config.mch_id,
            "description": description[:127], "out_trade_no": out_trade_no,
            "notify_url": self.config.notify_url,
            "amount": {"total": total_fen, "currency": "CNY"}, "payer": {"openid": openid},
        })
        package = f"prepay_id={answer['prepay_id']}"
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        pay_sign = sign(self.config.merchant_key,
                        f"{self.config.app_id}\n{timestamp}\n{nonce}\n{package}\n")
        return {"appId": self.config.app_id, "timeStamp": timestamp, "nonceStr": nonce,
                "package": package, "signType": "RSA", "paySign": pay_sign}

    def native(self, out_trade_no: str, description: str, total_fen: int) -> str:
        """Create a Native payment; returns the code_url to show as a QR code."""
        answer = self.call("POST", "/v3/pay/transactions/native", {
            "appid": self.config.app_id, "mchid": self.config.mch_id,
            "description": description[:127], "out_trade_no": out_trade_no,
            "notify_url": self.config.notify_url,
            "amount": {"total": total_fen, "currency": "CNY"},
        })
        return str(answer["code_url"])

    def query(self, out_trade_no: str) -> dict[str, Any]:
        return self.call("GET", f"/v3/pay/transactions/out-trade-no/{out_trade_no}"
                                f"?mchid={self.config.mch_id}")

    def close(self, out_trade_no: str) -> None:
        self.call("POST", f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close",
                  {"mchid": self.config.mch_id})

    def refund(self, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str = "") -> dict[str, Any]:
        return self.call("POST", "/v3/refund/domestic/refunds", {
            "out_trade_no": out_trade_no, "out_refund_no": out_refund_no, "reason": reason[:80],
            "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
        })

    # --- what the platform sends ------------------------------------------------------------

    def verify_headers(self, headers: Any, body: str, now: float | None = None) -> bool:
        timestamp = str(headers.get("Wechatpay-Timestamp", ""))
        nonce = str(headers.get("Wechatpay-Nonce", ""))
        signature = str(headers.get("Wechatpay-Signature", ""))
        if not (timestamp.isascii() and timestamp.isdigit() and nonce and signature):
            return False
        if abs((now or time.time()) - int(timestamp)) > MAX_SKEW_SECONDS:
            return False
        return verify(self.config.platform_key, f"{timestamp}\n{nonce}\n{body}\n", signature)

    def read_notification(self, headers: Any, body: bytes) -> tuple[str, dict[str, Any]]:
        """(event type, decrypted resource) of a verified notification; BadNotification else."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadNotification("body is not UTF-8") from None
        if not self.verify_headers(headers, text):
            raise BadNotification("signature missing, stale or wrong")
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
            event = str(envelope["event_type"])
        except (ValueError, KeyError, TypeError):
            raise BadNotification("not a notification envelope") from None
        data = decrypt_resource(self.config.api_v3_key, resource)
        if data.get("mchid") not in (None, self.config.mch_id):
            raise BadNotification("notification for another merchant")
        return event, data


def client_from_settings(settings: Any) -> WxPay | None:
    """A client from the WXPAY setting (a dict, as the demo passes) or the WXPAY_* variables;
    None when WeChat Pay is not set up (orders then say payment is not open yet)."""
    from pathlib import Path

    given = settings.get("WXPAY")
    if given is None and settings.get("WXPAY_MCH_ID"):
        given = {
            "mch_id": settings["WXPAY_MCH_ID"],
            "api_v3_key": str(settings.get("WXPAY_API_V3_KEY") or "").encode(),
            "merchant_private_pem": Path(settings["WXPAY_PRIVATE_KEY_FILE"]).read_bytes(),
            "merchant_serial": settings.get("WXPAY_MERCHANT_SERIAL") or "",
            "platform_public_pem": Path(settings["WXPAY_PLATFORM_PUBLIC_KEY_FILE"]).read_bytes(),
            "base": settings.get("WXPAY_API_BASE") or REAL_BASE,
        }
    if not given:
        return None
    base_url = str(settings.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return WxPay(PayConfig(
        mch_id=str(given["mch_id"]),
        app_id=str(settings.get("WECHAT_APP_ID") or ""),
        api_v3_key=given["api_v3_key"],
        merchant_key=load_private_key(given["merchant_private_pem"]),
        merchant_serial=str(given.get("merchant_serial") or "MERCHANTSERIAL"),
        platform_key=load_public_key(given["platform_public_pem"]),
        notify_url=str(given.get("notify_url") or f"{base_url}/shop/wxpay/notify"),
        base=str(given.get("base") or REAL_BASE).rstrip("/"),
    ))
