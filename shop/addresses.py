"""Shipping addresses as customers type them ("李四 13700137000 杭州西湖区文一路5号").

The parser finds the phone (a mobile in any spacing, with +86, or a landline with its area
code), the name (before, after or between the parts), and the region against the national
division list (shop/divisions.py): a city or a district alone implies its province and city,
short and former names are understood, and a district several cities have (朝阳区) is reported
as ambiguous with its candidates instead of guessed. The street keeps the customer's words.
Missing and ambiguous parts are named, so the chat asks only for those; the last address a
customer used is kept on their orders and offered again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace

from shop.divisions import NAMED_ONLY, Division, table

LABELS = {"name": "收件人姓名", "phone": "手机号", "province": "省份", "city": "城市",
          "district": "区县", "street": "详细地址"}
_MOBILE = re.compile(
    r"(?<![\d-])(?:[(]?(?:\+|00)?86[)]?[\s-]*)?[(]?(1[3-9](?:[\s.()-]{0,2}\d){9})(?!\d)")
_LANDLINE = re.compile(
    r"(?<!\d)[(（]?(0(?:10|2\d|[3-9]\d{2}))[)）]?[\s-]*(\d{3,4})[\s-]?(\d{4})"
    r"(?:\s*(?:-|转|ext\.?)\s*\d{1,5})?(?!\d)")
_PHONE_ATTEMPT = re.compile(r"(?<!\d)\+?\d[\d\s-]{5,16}\d(?!\d)")
#: "收件人：" and the like say the next part is the name; it is marked so (NAME_MARK).
_NAME_LABEL = re.compile(r"(?:收件人|收货人|联系人|姓名|名字|收(?=\s*[:：]))\s*[:：]?\s*")
_LABEL = re.compile(
    r"(?:手机号码|手机号|联系电话|电话号码|办公电话|家庭电话|座机|固话|电话|手机|tel|phone"
    r"|收货地址|收件地址|详细地址|所在地区|地址)\s*[:：]?", re.IGNORECASE)
NAME_MARK = "\x01"
#: Words of a remark to the courier or the shop, not of the address: "麻烦放快递柜",
#: "电话等下发你", "周末也可以送", "地址待会发".
_REMARK = re.compile(r"麻烦|请|帮忙|谢谢|待会|等下|稍后|还没|也可以|可以送|不要|尽快|送货前"
                     r"|打电话|电联|发你|放门口|放快递柜|放驿站|工作日|周末|节假日")
_SEPARATORS = re.compile(r"[,，;；、/|\\\n\r\t]+|\s+|[:：]")
_SENDING = re.compile(r"^(?:送到|寄到|发到|寄往|送至|寄至|收货地)")
_NAME = re.compile(
    r"^(?:[\u4e00-\u9fa5]{1,5}(?:·[\u4e00-\u9fa5]{1,6})?|[A-Za-z][A-Za-z .'-]{1,30})$")
_TITLE = re.compile(r"^[\u4e00-\u9fa5](?:先生|女士|小姐|老师|师傅|阿姨|总|哥|姐|工|主任|经理)$"
                    r"|^[小老阿][\u4e00-\u9fa5]$")
_PLACE_MARKS = set("省市区县旗镇乡村路街道巷弄号栋幢楼室座院园里苑城厦府单元期组")
#: Surnames: a token that starts with one is likelier the name (彭涛 before 花桥), and a name
#: glued to the street's end ("…2504室熊涛") must start with one. The common single ones and
#: the compound ones still in use.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥"
    "南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支"
    "卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印"
    "逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "萧赖傅郗鄂桓"
) | {"欧阳", "上官", "诸葛", "司马", "令狐", "皇甫", "慕容", "东方", "夏侯", "尉迟", "公孙",
     "长孙", "宇文", "司徒", "西门", "端木", "独孤", "南宫", "轩辕", "澹台"}
#: After a short form (浦东, 长安), these mean a street, not the division: 浦东大道, 珠山中路.
_STREET_AFTER_SHORT = re.compile(r"[东西南北中]?(?:路|街|大道|大街|巷|弄|胡同|桥|里|号|镇|乡)")


@dataclass(frozen=True)
class Address:
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    #: When the region named fits several divisions: their "province/city/district" labels.
    ambiguous: tuple[str, ...] = field(default=(), compare=False)

    @property
    def missing(self) -> list[str]:
        """The parts still to ask for. A city without districts (东莞市) needs none; a district
        named but ambiguous is not missing, its province and city are."""
        missing = [part for part in LABELS if not getattr(self, part)]
        if "district" in missing and (self.ambiguous or not needs_district(self)):
            missing.remove("district")
        return missing

    def merged(self, other: Address) -> Address:
        """This address with `other`'s parts filling what is missing."""
        filled = {k: v for k, v in asdict(other).items()
                  if k != "ambiguous" and v and not getattr(self, k)}
        return replace(self, **filled)

    def region(self) -> str:
        city = self.city if self.city != self.province else ""
        return self.province + city + self.district

    def one_line(self, *, hide_phone: bool = True) -> str:
        phone = self.phone
        if hide_phone and phone and "-" not in phone:
            phone = f"{phone[:3]}****{phone[-4:]}"
        return " ".join(part for part in (self.name, phone, self.region() + self.street) if part)

    def as_dict(self) -> dict[str, str]:
        return {part: getattr(self, part) for part in LABELS}

    def with_candidates(self) -> dict[str, object]:
        """as_dict plus the ambiguous candidates, for a conversation still asking which."""
        return {**self.as_dict(), "ambiguous": list(self.ambiguous)}


def needs_district(address: Address) -> bool:
    """False for a city that has no districts or counties (东莞市, 儋州市, 仙桃市)."""
    if not address.city:
        return True
    divisions = table()
    province = divisions.find(address.province) if address.province else None
    city = divisions.find(address.city, province) or divisions.find(address.city)
    if city is None or city.level == 3:
        return city is None
    return bool(divisions.children(city))


_DASHES = str.maketrans({"—": "-", "–": "-", "－": "-", "―": "-"})


def _fold(text: str) -> str:
    """Full-width digits, letters and punctuation as ASCII; every dash as "-"."""
    return unicodedata.normalize("NFKC", text or "").translate(_DASHES)


def _take_phone(text: str) -> tuple[str, str]:
    """(the phone in a canonical form, the text without it)."""
    if match := _MOBILE.search(text):
        phone = re.sub(r"\D", "", match.group(1))
    elif match := _LANDLINE.search(text):
        phone = f"{match.group(1)}-{match.group(2)}{match.group(3)}"
    else:
        return "", text
    return phone, text[: match.start()] + " " + text[match.end():]


def bad_phone(text: str) -> str:
    """A number that was meant as the phone but is neither a mainland mobile nor a landline
    with its area code, so the customer is told instead of finding it in the street."""
    text = _fold(text)
    if _take_phone(text)[0]:
        return ""
    match = _PHONE_ATTEMPT.search(text)
    return match.group(0).strip() if match else ""


def has_surname(part: str) -> bool:
    return part[:2] in SURNAMES or part[:1] in SURNAMES


def _trailing_name(street: str) -> tuple[str, str]:
    """A name glued to the end of the street ("…2504室熊涛"): (name, street without it). Only
    after a number or a room word, and only a name that starts with a surname."""
    for size in (4, 3, 2):
        name, before = street[-size:], street[:-size]
        if (len(street) > size and re.fullmatch(r"[\u4e00-\u9fa5]+", name)
                and re.search(r"[\dA-Za-z室号楼栋幢层座]$", before)
                and has_surname(name) and not _PLACE_MARKS & set(name)):
            return name, before
    return "", street


def parse(text: str) -> Address:
    """Whatever parts of an address `text` holds (missing parts stay empty)."""
    text = _fold(text)
    phone, text = _take_phone(text)
    if not phone and (match := _PHONE_ATTEMPT.search(text)):
        text = text[: match.start()] + " " + text[match.end():]
    text = _LABEL.sub(" ", _NAME_LABEL.sub(" " + NAME_MARK, text))
    parts, labelled = [], None
    for part in _SEPARATORS.split(text):
        marked = part.startswith(NAME_MARK)
        part = _SENDING.sub("", part.strip(NAME_MARK + "()（）[]【】<>《》\"'“”‘’.。!！?？~-_ "))
        if part[:1] in "送寄发" and table().names_at(part, 1):
            part = part[1:]  # 发西宁: "send to 西宁"
        if not part or (_REMARK.search(part) and not any(c.isdigit() for c in part)):
            continue  # a remark to the courier is no part of the address
        if marked and labelled is None and _NAME.match(part):
            labelled = part  # after 收件人：, even 贺兰 is a name
            continue
        parts.append(part)
    region, rest = _region(parts)
    name = None if labelled else _pick_name(rest)
    street = "".join(part for n, (part, _) in enumerate(rest) if n != name)
    name_text = labelled or (rest[name][0] if name is not None else "")
    if len(name_text) >= 3 and name_text.endswith("收"):
        name_text = name_text[:-1]  # 周敏收: "for 周敏"
    if not name_text:
        name_text, street = _trailing_name(street)
    fields = {"name": name_text, "phone": phone, "street": street}
    if len(region) == 1:
        province, city, district = region[0].path
        return Address(province=province, city=city, district=district, **fields)
    if region:
        return Address(ambiguous=tuple(sorted(d.label() for d in region)), **fields)
    return Address(**fields)


#: Words that make a short token a place, not a person: 中商广场, 颐和国际, 前台.
_PLACE_WORDS = ("广场", "大厦", "中心", "花园", "国际", "公寓", "家园", "小区", "大学", "学院",
                "医院", "公司", "超市", "商场", "市场", "前台", "门卫", "驿站", "快递", "物业",
                "工业", "园区", "社区", "大道", "大街", "油田", "基地", "街道", "对面", "附近",
                "楼下", "门口", "旁边")
#: Characters no name has after its first (国栋 and 志城 are names; 3号 and 东区 are not).
_ADDRESS_CHARS = set("省市区县路街号室楼")
_PLACE_ENDINGS = set("湖塘桥湾港庄坊阁庭站营屯堡寨铺集厂段园苑府城门口村镇乡巷弄院里侧旁")


def _name_score(part: str) -> int:
    """How much a separate token looks like the recipient: 周小姐 and 彭涛 much, 大石 a
    little, 花桥 or 中商广场 not at all."""
    if not _NAME.match(part):
        return 0
    if part.isascii():
        return 1 if not part.isupper() else 0  # Zhang San, not IFS
    if _TITLE.match(part):
        return 4
    if len(part) < 2 or _ADDRESS_CHARS & set(part[1:]) or any(w in part for w in _PLACE_WORDS):
        return 0
    score = 1 + 2 * (has_surname(part) and len(part) <= 4)
    score -= 3 * (part[-1] in _PLACE_ENDINGS)
    score -= 2 * bool(table().names_at(part, 0))  # 乌兰 the county, or 乌兰 the person
    return max(score, 0)


def _pick_name(rest: list[tuple[str, bool]]) -> int | None:
    """The index of the whole token most like a name (first of the best), if any."""
    ends = {0, len(rest) - 1}  # a name is written before or after the address, seldom inside
    best: tuple[int, int] = (0, 0)
    for n, (part, whole) in enumerate(rest):
        score = _name_score(part) if whole else 0
        if score:
            best = max(best, (score + (n in ends), -n))
    return -best[1] if best[0] else None


def _consume(divisions, text: str, paths: list[tuple[Division, ...]]):
    """Read division names from the start of `text` as far as they fit `paths`: (characters
    read, paths)."""
    position = 0
    while position < len(text):
        step = _next_division(divisions, text, position, paths)
        if step is None:
            break
        position, paths = step
    return position, paths


def _region(parts: list[str]) -> tuple[list[Division], list[tuple[str, bool]]]:
    """The divisions the parts name (one, several when ambiguous, none), and what is left of
    the parts in their order — (text, whether it is a whole part) — for the name and street.

    Parts that are nothing but division names count wherever they were written, broadest
    first ("梧桐街876号，槐荫区，济南市，山东省"), if they fit together; then the first other part
    that starts with a division continues the region, and the rest of it is the street."""
    divisions = table()
    paths: list[tuple[Division, ...]] = [()]
    used: set[int] = set()
    whole = []
    for n, part in enumerate(parts):
        read, found = _consume(divisions, part, [()])
        if read == len(part):
            whole.append((min(path[0].level for path in found if path), n))
    for _, n in sorted(whole):
        read, extended = _consume(divisions, parts[n], paths)
        if read == len(parts[n]):
            used.add(n)
            paths = extended
    rest: list[tuple[str, bool]] = []
    continued = False
    for n, part in enumerate(parts):
        if n in used:
            continue
        if not continued:
            read, extended = _consume(divisions, part, paths)
            if read:
                continued, paths = True, extended
                if part[read:].strip():
                    rest.append((part[read:].strip(), False))
                continue
            # past the first piece of street (人民北路), a place name is the street's (吉首大学)
            continued = any(c.isdigit() or c in _ADDRESS_CHARS for c in part)
        rest.append((part, True))
    deepest = {path[-1] for path in paths if path}
    return _settle(deepest), rest


def _next_division(divisions, place: str, position: int,
                   paths: list[tuple[Division, ...]]):
    """Read one more division name at `position` that fits the paths so far: (new position,
    narrowed paths), or None when what follows is the street."""
    for spelling, found in divisions.names_at(place, position):
        end = position + len(spelling)
        official = any(d.name == spelling for d in found)
        street_follows = not official and bool(_STREET_AFTER_SHORT.match(place, end))
        if street_follows and not divisions.names_at(place, end):  # (邢台桥东区: two names)
            continue  # 长安街, 浦东大道, 珠山中路: a street named after the place
        if not any(path for path in paths):  # nothing named yet: not 台湾's 永康区 for 永康,
            found = [d for d in found if d.code[:2] not in NAMED_ONLY] or found
            current = [d for d in found if spelling in (d.name, *d.short.split("/"))]
            found = current or found  # nor 邢台's former 桥西区 when two cities have one today
        narrowed = []
        repeated = False
        for path in paths:
            last = path[-1] if path else None
            for division in found:
                if last is None or division.within(last):
                    narrowed.append((*path, division))
                elif division is last or (last.within(division) and last.level < 3):
                    repeated = True  # 北京 北京市, 杭州市杭州: said twice

        if not narrowed and official:
            # 资阳简阳市: 简阳 moved to 成都 in 2016 — the county knows its city
            narrowed = [(*path[:-1], d.parent, d) for path in paths if path
                        for d in found if path[-1].level == 2 and d.level == 3 and d.parent
                        and d.parent.parent is path[-1].parent]
        if narrowed:
            suffix = place[end:end + 1]
            if not official and suffix and suffix in "省市区县旗" and not divisions.names_at(
                    place, end):
                end += 1  # 长乐市 for what is now 长乐区
            return end, narrowed
        if repeated and not street_follows:
            return position + len(spelling), paths
    return None


def _settle(deepest: set[Division]) -> list[Division]:
    """One division when the candidates agree (or one lies inside the others: 恩施 the
    prefecture and 恩施市 in it → the prefecture), else every candidate."""
    if len(deepest) <= 1:
        return list(deepest)
    outer = [d for d in deepest if not any(d.within(other) for other in deepest)]
    if len(outer) == 1:
        return outer
    return sorted(outer, key=lambda d: d.code)


def official(address: Address) -> Address:
    """The region in official names when it is one the list knows (a merged or stored address
    written with short names), else unchanged."""
    if not address.province and not address.city and not address.district:
        return address
    parsed = parse(address.region())
    if len(parsed.ambiguous) or not parsed.province:
        return address
    return replace(address, province=parsed.province, city=parsed.city,
                   district=parsed.district or address.district)


def from_dict(data: dict | None) -> Address:
    data = data or {}
    return Address(**{k: str(data.get(k, "")) for k in LABELS},
                   ambiguous=tuple(str(c) for c in data.get("ambiguous") or ()))


def combine(before: Address, reply: str) -> Address:
    """The address being gathered with the customer's next message. An ambiguous region is
    settled by a number (the candidate's place in the list) or by a province or city that
    only one candidate lies in; otherwise the message fills what is still missing."""
    reply = _fold(reply).strip()
    if before.ambiguous:
        chosen = _choose(before.ambiguous, reply)
        if chosen is not None:
            province, city, district = chosen.split("/")
            settled = replace(before, province=province, city=city, district=district,
                              ambiguous=())
            return settled if reply.isdigit() else parse(reply).merged(settled)
        if reply.isdigit() and len(reply) < 3:
            return before  # not one of the numbers offered: ask again
    new = parse(reply)
    if before.ambiguous and not new.province and not new.ambiguous:
        new = replace(new, ambiguous=before.ambiguous)
    return new.merged(before)


def _choose(candidates: tuple[str, ...], reply: str) -> str | None:
    if reply.isdigit():
        index = int(reply) - 1
        return candidates[index] if 0 <= index < len(candidates) else None
    named = parse(reply)
    wanted = [part for part in (named.province, named.city) if part]
    fitting = [c for c in candidates if wanted and all(w in c.split("/")[:2] for w in wanted)]
    return fitting[0] if len(fitting) == 1 else None


__all__ = ["LABELS", "Address", "bad_phone", "combine", "from_dict", "needs_district",
           "official", "parse"]
