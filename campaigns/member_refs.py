"""Opaque references to a customer, for console URLs.

The console addresses a customer by a reference, never by the openid itself, so openids stay
out of access logs and Referer headers; the reference opens without a lookup table.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

#: Separates this use of the app's secret from every other (sessions, CSRF).
_REF_CONTEXT = b"campaigns.segments.member_ref"
_REF_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,200}$")


@functools.lru_cache(maxsize=4)
def _sealer(secret: str) -> AESSIV:
    # AES-256-SIV takes a 64-byte key: derived from the secret, for this purpose only
    return AESSIV(hmac.new(secret.encode(), _REF_CONTEXT, hashlib.sha512).digest())


def member_ref(openid: str, secret: str) -> str:
    """The console's address of a customer: the openid sealed with a key derived from the
    app's SECRET_KEY (AES-SIV: deterministic, so a customer keeps one address, and
    authenticated, so a made-up or altered reference opens nothing). Openids stay out of
    access logs and Referer headers, and the page needs no lookup table to find the customer."""
    sealed = _sealer(secret).encrypt(openid.encode(), [_REF_CONTEXT])
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def openid_of(ref: str, secret: str) -> str | None:
    """The openid `member_ref` sealed into `ref`; None for anything it did not make (a raw
    openid, a reference made under another secret, a tampered one)."""
    if not _REF_SHAPE.match(ref or ""):
        return None
    try:
        sealed = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4))
        return _sealer(secret).decrypt(sealed, [_REF_CONTEXT]).decode()
    except (InvalidTag, ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        return None
