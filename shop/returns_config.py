"""Where customers send returned goods: RETURN_ADDRESS, checked once at start.

A return the merchant approves sends the customer this address, so it must be one a courier
can deliver to: a recipient, a phone and a full region and street, parsed by the same rules as
customers' shipping addresses (shop/addresses.py). Unset is allowed: the console then offers
only 仅退款 or a rejection, and says why, instead of sending a customer an empty address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shop.addresses import LABELS, parse

NAME = "RETURN_ADDRESS"
MAX_LENGTH = 200  # ReturnRequest.return_address
EXAMPLE = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def address_problem(text: str) -> str | None:
    """Why `text` cannot be a return address (English, for the config error line), or None."""
    if len(text) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    parsed = parse(text)
    missing = [LABELS[part] for part in parsed.missing]
    if parsed.ambiguous:
        return f"the region is ambiguous ({'/'.join(parsed.ambiguous[:3])}); name the city"
    if missing:
        return f"needs a recipient, a phone and a full address; missing {'、'.join(missing)}"
    return None


def check_config(config: dict[str, Any]) -> list[str]:
    """RETURN_ADDRESS (registered by shop.register): unset, or an address a courier can use."""
    text = " ".join(str(config.get(NAME) or "").split())
    config[NAME] = text
    if text and (why := address_problem(text)):
        return [f"{NAME}: {why} (e.g. {EXAMPLE})"]
    return []


def return_address(config: Mapping[str, Any]) -> str:
    """The configured return address, or "" when returns cannot be sent back yet."""
    return str(config.get(NAME) or "")
