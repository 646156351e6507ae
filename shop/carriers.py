"""Carriers the shop ships with, and the tracking-number formats each one prints.

A manager picks the carrier from this list (the console's select, or a name in the shipping
CSV) and the number is checked against its formats, so a digit typed twice or the wrong
carrier is caught before the customer is told "已发货" with a number no carrier knows.
Customers sending a return parcel's number in the chat are checked against the same list.

The formats are the ones in use as of 2026 (newer lettered numbers first, then the older
all-digit ones some branches still print). A carrier starting a new format only needs its
pattern here. Order.carrier stores the code; orders shipped before it existed keep carrier and
number together in tracking_no, and `shipment_label` shows both kinds the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Carrier:
    code: str  # stored on the order: stable when a carrier renames itself
    name: str  # what the customer and the manager read
    pattern: re.Pattern[str]
    example: str  # shown when a number is refused
    aliases: tuple[str, ...] = ()  # what people type: 顺丰, SF, 顺丰快递

    def fits(self, number: str) -> bool:
        return bool(self.pattern.fullmatch(number))


def _carrier(code: str, name: str, pattern: str, example: str, *aliases: str) -> Carrier:
    return Carrier(code, name, re.compile(pattern), example, aliases)


CARRIERS: tuple[Carrier, ...] = (
    _carrier("SF", "顺丰速运", r"SF[0-9A-Z]\d{12}|\d{12}", "SF1234567890123", "顺丰", "顺丰快递"),
    _carrier("ZTO", "中通快递", r"7[3-8]\d{12}|\d{12}", "73123456789012", "中通"),
    _carrier("YTO", "圆通速递", r"YT\d{13}", "YT1234567890123", "圆通", "圆通快递"),
    _carrier("YUNDA", "韵达快递", r"[34]\d{14}|[1-5]\d{12}", "431234567890123", "韵达", "YD"),
    _carrier("STO", "申通快递", r"(?:77|43)\d{11,13}|[2-9]68\d{9}", "7712345678901", "申通"),
    _carrier("EMS", "邮政EMS", r"[1589]\d{12}|[A-Z]{2}\d{9}[A-Z]{2}|P[A-Z]\d{11}",
             "1123456789012", "EMS", "邮政", "中国邮政", "邮政快递", "邮政包裹"),
    _carrier("JD", "京东物流", r"JD[0-9A-Z]{2}\d{11}", "JDVA12345678901", "京东", "京东快递"),
    _carrier("JT", "极兔速递", r"JT\d{13}", "JT1234567890123", "极兔", "极兔快递"),
    _carrier("DPK", "德邦快递", r"DPK\d{12}", "DPK123456789012", "德邦", "德邦物流"),
)
BY_CODE = {carrier.code: carrier for carrier in CARRIERS}
_BY_NAME = {
    key.casefold(): carrier
    for carrier in CARRIERS
    for key in (carrier.code, carrier.name, *carrier.aliases)
}
#: Every name a carrier goes by, longest first (a regex alternation for the chat).
NAMES = sorted(_BY_NAME, key=len, reverse=True)


class TrackingError(ValueError):
    """Why a carrier or a tracking number is refused; the message is Chinese, for people."""


def find(text: str) -> Carrier | None:
    """The carrier a manager or customer named (code, name or a common short name)."""
    return _BY_NAME.get(text.strip().casefold())


def clean_number(text: str) -> str:
    """Upper case, without the spaces and dashes people copy from a label."""
    return re.sub(r"[\s\-—_]", "", text).upper()


def check(carrier_text: str, number_text: str) -> tuple[Carrier, str]:
    """(carrier, cleaned number), or TrackingError naming what is wrong and an example."""
    carrier = find(carrier_text)
    if carrier is None:
        if not carrier_text.strip():
            raise TrackingError("请选择快递公司")
        raise TrackingError(f"快递公司「{carrier_text.strip()[:16]}」不在列表中"
                            f"（可选：{'、'.join(c.name for c in CARRIERS)}）")
    number = clean_number(number_text)
    if not number:
        raise TrackingError("请填写快递单号")
    if not carrier.fits(number):
        raise TrackingError(f"「{number[:40]}」不是{carrier.name}的单号格式"
                            f"（例如 {carrier.example}），请检查是否选错快递公司或输错单号")
    return carrier, number


def matching(number: str) -> list[Carrier]:
    """The carriers whose formats fit `number` (all-digit numbers may fit several)."""
    return [carrier for carrier in CARRIERS if carrier.fits(number)]


def label(code: str, number: str) -> str:
    """"顺丰速运 SF1234567890123"; a number recorded before carriers were a list stays as is."""
    carrier = BY_CODE.get(code)
    return f"{carrier.name} {number}" if carrier and number else number


def shipment_label(order: object) -> str:
    """The carrier and tracking number an order shipped with, for every page and message."""
    return label(getattr(order, "carrier", "") or "", getattr(order, "tracking_no", "") or "")


#: What a customer sends for a parcel they posted: "SF1234567890123", "顺丰 SF1234567890123",
#: "退货单号：中通 73123456789012". Only the shape; `read_sent` checks the number itself.
SENT_PATTERN = re.compile(
    r"^(?:(?:我的)?(?:退货|寄回)?的?(?:快递|物流)?(?:单号|运单号)(?:是|为)?\s*[:：]?\s*)?"
    r"(?P<carrier>" + "|".join(re.escape(name) for name in NAMES) + r")?\s*"
    r"(?:快递|速运|速递|物流)?\s*(?:(?:单号|运单号)(?:是|为)?)?\s*[:：]?\s*"
    r"(?P<number>[A-Za-z]{0,4}\d[\d \-]{6,22}[A-Za-z]{0,2})$",
    re.IGNORECASE,
)


def read_sent(text: str) -> tuple[Carrier | None, str]:
    """(carrier if named or the only one that fits, cleaned number) of a customer's message;
    TrackingError when it is not a number any listed carrier prints."""
    found = SENT_PATTERN.match(text.strip())
    if found is None:
        raise TrackingError("没有认出快递单号")
    named, number = found["carrier"] or "", clean_number(found["number"])
    if named.isascii() and matching(clean_number(named) + number):
        named, number = "", clean_number(named) + number  # "SF123…" is all number
    if named:
        return check(named, number)
    fits = matching(number)
    if not fits:
        raise TrackingError(f"「{number[:40]}」不像快递单号")
    return (fits[0] if len(fits) == 1 else None), number
