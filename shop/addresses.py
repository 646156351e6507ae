"""Shipping addresses typed as one line ("张三 13800138000 浙江省杭州市西湖区文三路100号").

The parser splits free text into name, phone, province, city, district and street, and says
which parts are missing, so the chat asks only for those. The last address a customer used is
kept on their orders and offered again next time.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港",
    "澳门",
)
MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
_PHONE_ATTEMPT = re.compile(r"(?<!\d)\+?\d[\d\s-]{5,16}\d(?!\d)")
_CITY = re.compile(r"^(.{1,9}?(?:自治州|地区|盟|市))")
_DISTRICT = re.compile(r"^(.{1,9}?(?:自治县|区|县|市|旗))")
_NAME = re.compile(r"^[\u4e00-\u9fa5·]{2,8}$|^[A-Za-z][A-Za-z .'-]{1,30}$")
LABELS = {"name": "收件人姓名", "phone": "手机号", "province": "省份", "city": "城市",
          "district": "区县", "street": "详细地址"}


@dataclass(frozen=True)
class Address:
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""

    @property
    def missing(self) -> list[str]:
        return [field for field in LABELS if not getattr(self, field)]

    def merged(self, other: Address) -> Address:
        """This address with `other`'s parts filling what is missing."""
        filled = {k: v for k, v in asdict(other).items() if v and not getattr(self, k)}
        return replace(self, **filled)

    def one_line(self, *, hide_phone: bool = True) -> str:
        phone = self.phone
        if hide_phone and phone:
            phone = f"{phone[:3]}****{phone[-4:]}"
        region = self.province + (self.city if self.city != self.province else "") + self.district
        return " ".join(part for part in (self.name, phone, region + self.street) if part)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


_PLACE_MARKS = set("省市区县旗镇乡村路街道巷弄号栋幢楼室座院园里")


def _looks_like_name(part: str) -> bool:
    """张三 or Zhang San, not 文三路100号 or 浙江省杭州市."""
    if not _NAME.match(part) or _province(part)[0]:
        return False
    return not (_PLACE_MARKS & set(part)) and (len(part) <= 4 or part.isascii())


def _province(text: str) -> tuple[str, str]:
    for name in sorted(PROVINCES, key=len, reverse=True):
        if text.startswith(name):
            rest = text[len(name):]
            for suffix in _SUFFIXES:
                if rest.startswith(suffix):
                    rest = rest[len(suffix):]
                    break
            return name, rest
    return "", text


def bad_phone(text: str) -> str:
    """A number that was meant as the phone but is not a mainland mobile number (10 or 12
    digits, or not 1[3-9]…), so the customer is told instead of finding it in the street."""
    if _PHONE.search(text or ""):
        return ""
    match = _PHONE_ATTEMPT.search(text or "")
    return match.group(0).strip() if match else ""


def parse(text: str) -> Address:
    """Whatever parts of an address `text` holds (missing parts stay empty)."""
    text = re.sub(r"[，,；;：:\n\t]+", " ", text or "").strip()
    phone = ""
    if match := _PHONE.search(text):
        phone = "".join(match.groups())
        text = (text[: match.start()] + " " + text[match.end():]).strip()
    elif match := _PHONE_ATTEMPT.search(text):
        text = (text[: match.start()] + " " + text[match.end():]).strip()
    name, place_parts = "", []
    for part in text.split():
        part = re.sub(r"^(收件人|收货人|姓名|电话|手机|地址)", "", part)
        if not part:
            continue
        if not name and _looks_like_name(part):
            name = part
        else:
            place_parts.append(part)
    place = "".join(place_parts)
    province, rest = _province(place)
    city = district = ""
    if province in MUNICIPALITIES:
        city = province
        rest = rest.removeprefix("市")
    elif match := _CITY.match(rest):
        city, rest = match.group(1), rest[match.end():]
    if match := _DISTRICT.match(rest):
        district, rest = match.group(1), rest[match.end():]
    street = rest.strip()
    return Address(name=name, phone=phone, province=province, city=city, district=district,
                   street=street)


def from_dict(data: dict[str, str] | None) -> Address:
    data = data or {}
    return Address(**{k: str(data.get(k, "")) for k in LABELS})
