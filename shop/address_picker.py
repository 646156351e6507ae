"""使用微信收货地址: the customer's saved WeChat addresses, picked on a page, checked like typed.

The chat links a page (/shop/address/<token>, one per customer, valid half an hour) when a typed
address is incomplete. There the JS-SDK's openAddress shows the addresses the customer keeps in
WeChat; the one they pick is posted back, checked against the division list (WeChat's own
names are not always today's official ones, and a client can post anything), and kept for the
chat, which takes it on the customer's next message.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from typing import Any

import redis

from shop.addresses import Address, from_dict, parse

PAGE_SECONDS = 1800
_PAGE = "address_page:"
_PICKED = "address_picked:"


def issue_page(client: redis.Redis, openid: str) -> str:
    """A token for the customer's address page (no openid in the URL)."""
    token = secrets.token_urlsafe(18)
    client.set(_PAGE + token, openid, ex=PAGE_SECONDS)
    return token


def page_owner(client: redis.Redis, token: str) -> str | None:
    if not token or len(token) > 64:
        return None
    owner = client.get(_PAGE + token)
    return owner.decode() if isinstance(owner, bytes) else owner


def from_wechat(fields: dict[str, Any]) -> Address:
    """An address as openAddress returns it (userName, telNumber, provinceName, cityName,
    countryName, detailInfo), in official names; ValueError (Chinese) when its region is not
    one place the division list knows."""
    def text(key: str) -> str:
        value = fields.get(key)
        return value.strip()[:120] if isinstance(value, str) else ""

    region = text("provinceName") + text("cityName") + text("countryName")
    if not region or not text("detailInfo"):
        raise ValueError("微信地址不完整，请选择其他地址，或在聊天中直接发送地址")
    placed = parse(region)
    if placed.ambiguous or not placed.province or not placed.city or (
            text("countryName") and not placed.district):
        raise ValueError(f"没能确认「{region}」这个地区，请在聊天中直接发送地址")
    phone = parse(text("telNumber")).phone
    return replace(placed, name=text("userName")[:40], phone=phone,
                   street=text("detailInfo"))


def remember(client: redis.Redis, openid: str, address: Address) -> None:
    client.set(_PICKED + openid, json.dumps(address.as_dict(), ensure_ascii=False),
               ex=PAGE_SECONDS)


def take(client: redis.Redis, openid: str) -> Address | None:
    """The address the customer picked on the page, once."""
    raw = client.getdel(_PICKED + openid)
    return from_dict(json.loads(raw)) if raw else None
