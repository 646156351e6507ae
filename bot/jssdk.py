"""The JS-SDK's `wx.config`: what a page needs before it may call `wx.openAddress`.

WeChat's client checks a SHA-1 over the account's jsapi_ticket, a nonce, a timestamp and the
page's exact URL (without its #fragment); a page on another URL, or a stale ticket, is refused
with `config:invalid signature`. The ticket comes from WeChatAPI.jsapi_ticket (shared in Redis).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any


def signature(ticket: str, nonce: str, timestamp: int, url: str) -> str:
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(plain.encode()).hexdigest()


def page_config(app_id: str, ticket: str, url: str, api_list: list[str],
                now: float | None = None) -> dict[str, Any]:
    """The object a page passes to wx.config for `url`."""
    nonce = secrets.token_urlsafe(12)
    timestamp = int(now if now is not None else time.time())
    return {"appId": app_id, "timestamp": timestamp, "nonceStr": nonce,
            "signature": signature(ticket, nonce, timestamp, url), "jsApiList": api_list}
