"""China's administrative divisions, province → prefecture → county, as customers name them.

The table (divisions.tsv, built from jionlp's copy of the Ministry of Civil Affairs list by
scripts/build_divisions.py) gives every division its code, official name and short name. A
customer writes any of: the official name (浙江省, 延边朝鲜族自治州), the short one (浙江, 延边),
an autonomous prefecture as 延边州, a name no longer official (襄樊, 莱芜市 — division_renames.tsv
and RENAMES below). One spelling can name several divisions (朝阳区 in 北京 and in 长春; 吉林 the
province and the city): callers get every candidate and decide with the rest of the address.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("divisions.tsv")
RENAMES_TABLE = Path(__file__).with_name("division_renames.tsv")
#: Mergers and renames of the last twenty years the source list does not carry, still written
#: by customers: (old name, today's official name, its prefecture) — 莱芜市 joined 济南市 in
#: 2019, 闸北区 静安区 in 2015, 下城区 拱墅区 in 2021.
RENAMES = (
    ("莱芜市", "莱芜区", "济南市"), ("莱芜", "莱芜区", "济南市"), ("莱城区", "莱芜区", "济南市"),
    ("卢湾区", "黄浦区", "上海市"), ("卢湾", "黄浦区", "上海市"), ("闸北区", "静安区", "上海市"),
    ("闸北", "静安区", "上海市"), ("南汇区", "浦东新区", "上海市"), ("崇文区", "东城区", "北京市"),
    ("崇文", "东城区", "北京市"), ("宣武区", "西城区", "北京市"), ("宣武", "西城区", "北京市"),
    ("江东区", "鄞州区", "宁波市"), ("楚州区", "淮安区", "淮安市"), ("白下区", "秦淮区", "南京市"),
    ("下关区", "鼓楼区", "南京市"), ("崇安区", "梁溪区", "无锡市"), ("南长区", "梁溪区", "无锡市"),
    ("北塘区", "梁溪区", "无锡市"), ("下城区", "拱墅区", "杭州市"), ("江干区", "上城区", "杭州市"),
    ("沧浪区", "姑苏区", "苏州市"), ("平江区", "姑苏区", "苏州市"), ("金阊区", "姑苏区", "苏州市"),
    ("戚墅堰区", "武进区", "常州市"), ("塘沽区", "滨海新区", "天津市"),
    ("汉沽区", "滨海新区", "天津市"), ("大港区", "滨海新区", "天津市"),
    ("萝岗区", "黄埔区", "广州市"), ("东山区", "越秀区", "广州市"), ("芳村区", "荔湾区", "广州市"),
    ("郫县", "郫都区", "成都市"), ("户县", "鄠邑区", "西安市"), ("唐海县", "曹妃甸区", "唐山市"),
    ("东陵区", "浑南区", "沈阳市"), ("动力区", "香坊区", "哈尔滨市"), ("蓟县", "蓟州区", "天津市"),
    ("开县", "开州区", "重庆市"), ("翠云区", "思茅区", "普洱市"), ("桥东区", "襄都区", "邢台市"),
    ("桥西区", "信都区", "邢台市"),
)
#: Changes the source list has not caught up with: (prefecture, name in the list, name today).
CORRECTIONS = (("西宁市", "湟中县", "湟中区"),)
#: Abbreviations everyone uses that are no official short name: (abbreviation, official name).
COLLOQUIAL = (
    ("呼市", "呼和浩特市"), ("乌市", "乌鲁木齐市"), ("昆区", "昆都仑区"), ("堆龙", "堆龙德庆区"),
    ("石市", "石家庄市"), ("哈市", "哈尔滨市"), ("内蒙", "内蒙古自治区"),
)
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
#: Provinces whose districts are only meant when the province is named (台湾省, 香港, 澳门):
#: "永康" alone is 浙江's 永康市, not 台南's 永康区.
NAMED_ONLY = ("71", "81", "82")
#: Groupings that are no place a customer would name: counties directly under a province
#: (省直辖县级行政区划) and a city's towns without districts (东莞 市直辖).
_PLACEHOLDER = "省直辖"
_PLACEHOLDERS = (_PLACEHOLDER, "市直辖")


@dataclass(frozen=True)
class Division:
    level: int  # 1 province, 2 prefecture, 3 county
    code: str
    name: str
    short: str
    parent: Division | None

    def ancestors(self) -> Iterator[Division]:
        node: Division | None = self
        while node is not None:
            yield node
            node = node.parent

    def at(self, level: int) -> Division | None:
        return next((d for d in self.ancestors() if d.level == level), None)

    def within(self, other: Division) -> bool:
        """Whether this division lies inside `other` (strictly)."""
        return other is not self and any(d is other for d in self.ancestors())

    @property
    def path(self) -> tuple[str, str, str]:
        """(province, city, district) official names; a municipality is its own city, a county
        directly under a province (仙桃市) is its own city too."""
        province = self.at(1)
        city = self.at(2)
        county = self.at(3)
        city_name = city.name if city else ""
        if city is None and province is not None and province.name in MUNICIPALITIES:
            city_name = province.name  # 上海市 alone: the municipality is its own city
        if city is not None and city.short == _PLACEHOLDER:
            city_name, county = (county.name if county else ""), None
        return (province.name if province else "", city_name, county.name if county else "")

    def label(self) -> str:
        return "/".join(self.path)


class DivisionTable:
    def __init__(self, rows: list[tuple[int, str, str, str, str]]):
        self.divisions: list[Division] = []
        by_code: dict[tuple[int, str], Division] = {}
        for level, code, name, short, parent_code in rows:
            parent = by_code.get((level - 1, parent_code)) if level > 1 else None
            division = Division(level, code, name, short, parent)
            by_code[(level, code)] = division
            self.divisions.append(division)
        self._children: dict[int, list[Division]] = {}
        for division in self.divisions:
            if division.parent is not None:
                self._children.setdefault(id(division.parent), []).append(division)
        self.aliases: dict[str, list[Division]] = {}
        for division in self.divisions:
            for alias in _aliases(division):
                found = self.aliases.setdefault(alias, [])
                if division not in found:
                    found.append(division)
        self.longest = max(map(len, self.aliases))

    def add_alias(self, alias: str, division: Division) -> None:
        found = self.aliases.setdefault(alias, [])
        if division not in found:
            found.append(division)
        self.longest = max(self.longest, len(alias))

    def children(self, division: Division) -> list[Division]:
        """The divisions directly inside `division` that a customer can name."""
        return [d for d in self._children.get(id(division), []) if d.short not in _PLACEHOLDERS]

    def find(self, name: str, within: Division | None = None) -> Division | None:
        """The division officially called `name` (inside `within` if given; a municipality's
        city level when it is called by the municipality's name)."""
        found = [d for d in self.aliases.get(name, [])
                 if d.name == name and (within is None or d.within(within))]
        if not found:
            return None
        return max(found, key=lambda d: d.level) if within is not None else found[0]

    def names_at(self, text: str, start: int) -> list[tuple[str, list[Division]]]:
        """Every spelling of a division that `text` has at `start`, longest first."""
        found = []
        for size in range(min(self.longest, len(text) - start), 1, -1):
            piece = text[start:start + size]
            if piece in self.aliases:
                found.append((piece, self.aliases[piece]))
        return found


def is_zone(division: Division) -> bool:
    """A development or pilot zone (code xxxx7x: 高新区, 经开区), no county a customer names by
    its short form."""
    return division.level == 3 and division.code[4:5] == "7"


def _aliases(division: Division) -> Iterator[str]:
    if division.short in _PLACEHOLDERS:
        return
    yield division.name
    if is_zone(division):
        return
    shorts = [s for s in division.short.split("/") if len(s) >= 2]
    yield from shorts
    for short in shorts:
        if division.name.endswith("自治州"):
            yield short + "州"  # 黔西南州, 延边州
        elif division.name.endswith("自治县"):
            yield short + "县"  # 石柱县, 大通县
        elif division.name.endswith("自治旗"):
            yield short + "旗"
    if division.level == 3 and division.name.endswith(("区", "县", "市", "旗")):
        stem = division.name[:-1]
        if len(stem) >= 2 and stem not in shorts:
            yield stem


@lru_cache(maxsize=1)
def table() -> DivisionTable:
    """The division table, loaded once per process."""
    rows = []
    corrected = {old: new for _, old, new in CORRECTIONS}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        level, code, name, short, parent = (line.split("\t") + [""] * 5)[:5]
        rows.append((int(level), code, corrected.get(name, name), short, parent))
    divisions = DivisionTable(rows)
    for city, old, new in CORRECTIONS:
        prefecture = divisions.find(city)
        if prefecture is not None and (target := divisions.find(new, prefecture)):
            divisions.add_alias(old, target)
    _add_renames(divisions)
    return divisions


def _add_renames(divisions: DivisionTable) -> None:
    for line in RENAMES_TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "=>" not in line:
            continue
        before, after = line.split("\t=>\t")
        old, new = before.split("\t")[1:], after.split("\t")
        target = None
        for name in new:
            target = divisions.find(name, target) or target
        if target is None or target.name != new[-1]:
            continue
        old_name, old_short = old[-2], old[-1]
        for alias in (old_name, old_short):
            current = [d for d in divisions.aliases.get(alias, []) if d.name == alias]
            if len(alias) >= 2 and alias not in (target.name, target.short) and not current:
                divisions.add_alias(alias, target)  # not 城区: another division's name today
    for old, name, city in RENAMES:
        prefecture = divisions.find(city)
        target = divisions.find(name, prefecture) if prefecture else None
        if target is not None:
            divisions.add_alias(old, target)
    for abbreviation, name in COLLOQUIAL:
        if (target := divisions.find(name)) is not None:
            divisions.add_alias(abbreviation, target)
