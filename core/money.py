"""Money is integer fen everywhere; this module turns it into text and back."""

from __future__ import annotations

import re

MAX_FEN = 100_000_000  # one million yuan a unit: more is a typo, not a price
#: Amounts are int4 columns on PostgreSQL; no order total may come near their limit.
MAX_TOTAL_FEN = 2_000_000_000
_YUAN = re.compile(r"^\s*[¥￥]?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*(?:元)?\s*$")


class MoneyError(ValueError):
    pass


def yuan(fen: int) -> str:
    """¥12.90 for 1290; whole yuan without decimals (¥99)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole}" if cents == 0 else f"{sign}¥{whole}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """'12.9', '¥12.90', '99元' → fen; anything else (negative, 3 decimals, words) is refused."""
    match = _YUAN.match(str(text))
    if not match:
        raise MoneyError(f"not a price: {text!r}")
    fen = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if fen > MAX_FEN:
        raise MoneyError(f"price too large: {text!r}")
    return fen
