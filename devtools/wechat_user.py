"""WeChat's side of the callback: what WeChat would POST when a user does something.

The chat simulator, the tests and the benchmark all build their requests here, so every one
of them signs (and, in safe mode, encrypts) exactly as WeChat does.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bot.replies import cdata
from bot.wechat import MessageCrypto, sign

_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def message_xml(
    openid: str,
    account: str,
    msg_type: str,
    fields: dict[str, str | int | float],
    create_time: int | None = None,
    msg_id: int | None = None,
) -> str:
    """An inbound message body; events get no MsgId, as on WeChat."""
    parts = [
        f"<ToUserName>{cdata(account)}</ToUserName>",
        f"<FromUserName>{cdata(openid)}</FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType>{cdata(msg_type)}</MsgType>",
    ]
    for name, value in fields.items():
        parts.append(
            f"<{name}>{value}</{name}>"
            if isinstance(value, int | float)
            else f"<{name}>{cdata(value)}</{name}>"
        )
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next(_msg_ids)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class SignedRequest:
    query: str  # the query string, e.g. "signature=…&timestamp=…&nonce=…"
    body: bytes


@dataclass
class WeChatUser:
    """One follower of the account, able to produce WeChat's requests for their actions."""

    token: str
    app_id: str
    openid: str = field(default_factory=lambda: "o" + secrets.token_urlsafe(20)[:27])
    account: str = "gh_demo00000000"
    aes_key: str | None = None  # set → requests are sent in safe mode

    def sign(self, body_xml: str, timestamp: int | None = None) -> SignedRequest:
        """Sign (and in safe mode encrypt) a body the way WeChat's servers do."""
        ts = str(timestamp or int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        query = {
            "signature": sign(self.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": self.openid,
        }
        body = body_xml
        if self.aes_key:
            crypto = MessageCrypto(self.token, self.aes_key, self.app_id)
            encrypted = crypto.encrypt(body_xml)
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sign(self.token, ts, nonce, encrypted)
            body = (
                f"<xml><ToUserName>{cdata(self.account)}</ToUserName>"
                f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
            )
        return SignedRequest(urlencode(query), body.encode())

    def xml(self, msg_type: str, **fields: str | int | float) -> str:
        return message_xml(self.openid, self.account, msg_type, fields)

    def text(self, content: str) -> str:
        return self.xml("text", Content=content)

    def event(self, event: str, key: str | None = None, **extra: str | int | float) -> str:
        fields: dict[str, str | int | float] = {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self.xml("event", **fields, **extra)

    def click(self, key: str) -> str:
        return self.event("CLICK", key)

    def subscribe(self, scene: str | None = None) -> str:
        if scene is None:
            return self.event("subscribe")
        return self.event("subscribe", f"qrscene_{scene}", Ticket="TICKET")

    def scan(self, scene: str) -> str:
        return self.event("SCAN", scene, Ticket="TICKET")

    def unsubscribe(self) -> str:
        return self.event("unsubscribe")

    def location(self, lat: float, lng: float, label: str = "") -> str:
        return self.xml("location", Location_X=lat, Location_Y=lng, Scale=15, Label=label)

    def image(self, pic_url: str = "http://mmbiz.qpic.cn/demo.jpg") -> str:
        return self.xml("image", PicUrl=pic_url, MediaId="media_" + secrets.token_hex(8))


def read_reply(body: bytes, crypto: MessageCrypto | None) -> bytes:
    """The plaintext reply XML from a webhook answer (decrypting a safe-mode envelope)."""
    if crypto is None or not body.startswith(b"<xml><Encrypt>"):
        return body
    return crypto.decrypt_reply(body)
