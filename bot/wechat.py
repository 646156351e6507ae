"""WeChat's callback protocol: signatures and safe-mode (AES) envelopes.

wechatpy 1.8.18 does the AES work, but lets bad input escape as raw exceptions (a wrong key
gives UnicodeDecodeError, a short body an IndexError) and compares signatures with `!=`.
Everything here turns such input into `ProtocolError` with a short reason, so the webhook can
answer 4xx and log one line instead of a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import struct
import time

from wechatpy.crypto import PrpCrypto

from bot.errors import ProtocolError
from bot.inbound import parse_xml_fields

__all__ = ["MessageCrypto", "ProtocolError", "check_signature", "check_timestamp", "sign"]


def sign(*parts: str) -> str:
    """WeChat's SHA-1 over the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(token: str, signature: str, timestamp: str, nonce: str) -> None:
    """Raise 403 unless `signature` is sha1(sorted(token, timestamp, nonce))."""
    expected = sign(token, timestamp, nonce)
    if not hmac.compare_digest(expected, (signature or "").lower()):
        raise ProtocolError("bad signature", 403)


def check_timestamp(timestamp: str, window: int, now: float | None = None) -> None:
    """Reject a signed request whose timestamp lies outside the replay window (0 = off)."""
    if not window:
        return
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise ProtocolError("timestamp is not a number", 403) from None
    if abs((time.time() if now is None else now) - sent) > window:
        raise ProtocolError("timestamp outside the replay window", 403)


class MessageCrypto:
    """Safe-mode envelopes for one account: decrypt what WeChat sends, encrypt our replies."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str):
        self.token = token
        self.app_id = app_id
        self._key = base64.b64decode(encoding_aes_key + "=")
        self._prp = PrpCrypto(self._key)

    def decrypt_body(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> bytes:
        """Verify msg_signature over the envelope's Encrypt and return the inner XML bytes."""
        fields = parse_xml_fields(body)
        encrypted = fields.get("Encrypt")
        if not encrypted:
            raise ProtocolError("safe-mode body has no Encrypt element")
        expected = sign(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise ProtocolError("bad msg_signature", 403)
        return self.decrypt(encrypted)

    def decrypt(self, encrypted: str) -> bytes:
        """Strictly unwrap random(16) + length(4) + xml + appid; any flaw is a ProtocolError."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError("Encrypt is not base64") from None
        if not data or len(data) % 32:
            raise ProtocolError("Encrypt has a bad length")
        plain = self._prp.cipher.decrypt(data)
        pad = plain[-1]
        if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
            raise ProtocolError("bad padding (wrong EncodingAESKey?)")
        content = plain[16:-pad]
        if len(content) < 4:
            raise ProtocolError("decrypted message is too short")
        (length,) = struct.unpack(">I", content[:4])
        xml, app_id = content[4 : 4 + length], content[4 + length :]
        if len(xml) != length:
            raise ProtocolError("decrypted length field is wrong (wrong EncodingAESKey?)")
        if not hmac.compare_digest(app_id, self.app_id.encode()):
            raise ProtocolError("message is for another appid", 403)
        return xml

    def encrypt(self, xml: str) -> str:
        """random(16) + length + xml + appid, AES-CBC, base64 — the Encrypt element's text."""
        return self._prp.encrypt(xml, self.app_id).decode()

    def decrypt_reply(self, envelope_xml: bytes) -> bytes:
        """Verify and open one of our own reply envelopes (for the simulator and tests)."""
        envelope = parse_xml_fields(envelope_xml)
        expected = sign(
            self.token,
            envelope.get("TimeStamp", ""),
            envelope.get("Nonce", ""),
            envelope.get("Encrypt", ""),
        )
        if not hmac.compare_digest(expected, envelope.get("MsgSignature", "")):
            raise ProtocolError("reply envelope has a bad MsgSignature")
        return self.decrypt(envelope["Encrypt"])

    def encrypt_reply(
        self, xml: str, timestamp: str | None = None, nonce: str | None = None
    ) -> str:
        """Wrap a reply in the encrypted envelope WeChat expects in safe mode."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or "".join(secrets.choice(string.digits) for _ in range(10))
        encrypted = self.encrypt(xml)
        signature = sign(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )
