"""The webhook's steps, in order: verify → decrypt → bind nonce → parse → match openid →
deduplicate → run the handler.

Each step is a small class with one `process(delivery, call_next)` method (Bolt's middleware
shape). A step that stops the chain returns its own response; a `ProtocolError` raised by any
step becomes a 4xx with a short reason in the log and never a stack trace to the caller.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.dedup import Claim, Ledger, NonceBinding
from bot.inbound import Inbound, parse_inbound
from bot.router import opens_service_window
from bot.wechat import MessageCrypto, ProtocolError, check_signature, check_timestamp

log = logging.getLogger("bot.webhook")


@dataclass(frozen=True)
class WebhookRequest:
    """The parts of an HTTP request the webhook needs; nothing below webhook.py sees Flask."""

    method: str
    args: Mapping[str, str]
    body: bytes
    remote: str = ""


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"

    @classmethod
    def xml(cls, body: bytes) -> WebhookResponse:
        is_xml = body.startswith(b"<")
        return cls(200, body, "application/xml; charset=utf-8" if is_xml else cls.content_type)


@dataclass
class Delivery:
    """One request travelling down the chain, filled in step by step."""

    request: WebhookRequest
    received: float = field(default_factory=time.monotonic)
    safe_mode: bool = False
    xml: bytes = b""
    msg: Inbound | None = None
    claim: Claim | None = None
    nonce: NonceBinding | None = None


Next = Callable[[Delivery], WebhookResponse]


class Middleware(Protocol):
    def process(self, delivery: Delivery, call_next: Next) -> WebhookResponse: ...


class VerifySignature:
    """Every request (GET echo and POST) must carry WeChat's signature and a fresh timestamp."""

    def __init__(self, token: str, replay_window: int):
        self.token = token
        self.replay_window = replay_window

    def process(self, delivery: Delivery, call_next: Next) -> WebhookResponse:
        args = delivery.request.args
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        check_signature(self.token, args.get("signature", ""), timestamp, nonce)
        check_timestamp(timestamp, self.replay_window)
        if delivery.request.method == "GET":  # WeChat's URL verification
            return WebhookResponse(200, args.get("echostr", "").encode())
        return call_next(delivery)


class Decrypt:
    """Safe and compatible modes (`encrypt_type=aes`): check msg_signature, unwrap the XML.

    Only an encrypted body is signed (msg_signature covers it). An account in safe mode never
    gets plaintext from WeChat, so there a plaintext body is a forgery riding on a captured
    query and is refused (`accept_plaintext=False`).
    """

    def __init__(self, crypto: MessageCrypto | None, *, accept_plaintext: bool = True):
        self.crypto = crypto
        self.accept_plaintext = accept_plaintext

    def process(self, delivery: Delivery, call_next: Next) -> WebhookResponse:
        args = delivery.request.args
        if args.get("encrypt_type", "raw").lower() != "aes":
            if not self.accept_plaintext:
                raise ProtocolError("plaintext message refused: WECHAT_MESSAGE_MODE is safe", 403)
            delivery.xml = delivery.request.body
            return call_next(delivery)
        if self.crypto is None:
            raise ProtocolError("encrypted message, but WECHAT_AES_KEY is not set")
        delivery.xml = self.crypto.decrypt_body(
            delivery.request.body,
            args.get("msg_signature", ""),
            args.get("timestamp", ""),
            args.get("nonce", ""),
        )
        delivery.safe_mode = True
        return call_next(delivery)


#: Redis key prefix of BindNonce's records: `webhook:nonce:<timestamp>:<nonce>` → sha256(xml).
NONCE_PREFIX = "webhook:nonce:"

class BindNonce:
    """Tie each signed (timestamp, nonce) to the first message that came with it.

    WeChat's signature covers the timestamp and nonce but not the body, so without this one
    captured query could carry any body, from any FromUserName, for the whole replay window.
    The same message again is WeChat retrying (Deduplicate answers it with the first reply); a
    different one is refused with 403. The record lives twice the window: check_timestamp
    accepts a timestamp up to `window` on either side of now, so a query stays usable that
    long after its first sighting. Window 0 means timestamps are not checked, nor is this.

    This step only computes the binding; the Redis check runs inside Deduplicate's claim
    script, in the round trip every message already makes (a round trip of its own cost the
    webhook ~25% of its throughput). A Redis error there answers 503, as for every outage.
    """

    def __init__(self, replay_window: int):
        self.replay_window = replay_window

    def process(self, delivery: Delivery, call_next: Next) -> WebhookResponse:
        if self.replay_window:
            args = delivery.request.args
            key = f"{NONCE_PREFIX}{args.get('timestamp', '')}:{args.get('nonce', '')}"
            # The message itself: the decrypted XML in safe mode (a retry WeChat encrypted
            # again has other bytes but the same message), the body as sent in plaintext.
            digest = hashlib.sha256(delivery.xml).hexdigest().encode()
            delivery.nonce = NonceBinding(key, digest, 2 * self.replay_window)
        return call_next(delivery)


class Parse:
    def process(self, delivery: Delivery, call_next: Next) -> WebhookResponse:
        delivery.msg = parse_inbound(delivery.xml)
        return call_next(delivery)


class MatchOpenid:
    """WeChat adds the sender's `openid` to the query of each POST: it must be FromUserName.

    A request whose query and body name different customers was not put together by WeChat.
    The query may lack `openid` (older set-ups, hand-made test requests); then there is
    nothing to compare.
    """

    def process(self, delivery: Delivery, call_next: Next) -> WebhookResponse:
        msg = delivery.msg
        assert msg is not None
        claimed = delivery.request.args.get("openid")
        if claimed is not None and claimed != msg.openid:
            raise ProtocolError("query openid does not match FromUserName", 403)
        return call_next(delivery)


class Deduplicate:
    """Claim the delivery in Redis; a retry gets the first delivery's reply bytes."""

    def __init__(self, ledger: Ledger, budget: float):
        self.ledger = ledger
        self.budget = budget

    def process(self, delivery: Delivery, call_next: Next) -> WebhookResponse:
        msg = delivery.msg
        assert msg is not None
        touch_at = time.time() if opens_service_window(msg) else None
        claim = self.ledger.claim(msg, touch_at=touch_at, nonce=delivery.nonce)
        if claim.nonce_reused:
            raise ProtocolError("timestamp and nonce already used with another body", 403)
        if not claim.first:
            log.info("retry of %s answered from the first delivery", msg.dedup_id)
            reply = self.ledger.wait_for_reply(msg.dedup_id, delivery.received + self.budget)
            return WebhookResponse.xml(reply)
        delivery.claim = claim
        return call_next(delivery)


def run_chain(steps: list[Middleware], final: Next, delivery: Delivery) -> WebhookResponse:
    """Run `delivery` through `steps` then `final`; protocol errors become 4xx responses."""

    def at(index: int) -> Next:
        if index == len(steps):
            return final
        return lambda d: steps[index].process(d, at(index + 1))

    try:
        return at(0)(delivery)
    except ProtocolError as error:
        log.warning(
            "webhook rejected a request from %s: %s", delivery.request.remote or "?", error.reason
        )
        return WebhookResponse(error.status, error.reason.encode())
