"""Read a pinyin syllable written inside a Chinese word back as the character it stands for.

Copywriters who know a word is screened write one of its characters in pinyin: zui好,
特gong, 有xiao, 降xue压, 关zhu. A syllable has many characters, so one is read back only
when it completes a word the screener cares about (xiao before 果 is 效, xiao before 炎 is
消), or when the syllable has a single such character (zui is always 最 here). Latin text
that is no such syllable (iPhone, ml, VIP) is left alone.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # normalize.py imports this module; the type is only for the checker
    from content_audit.normalize import Normalized

#: The words evasions are written for: superlatives, marks of authority, guarantees,
#: medical claims and the actions of induced sharing. Only their characters are read back.
TARGET_WORDS = (
    "感冒", "肠炎", "痛经", "病毒", "军队", "聪明", "止痛",
    "提高", "三高", "不转", "治愈", "赚钱", "上岸",
    "最好", "最佳", "最强", "最低", "最高", "最便宜", "最正宗", "第一", "首选",
    "冠军", "之王", "王者", "王牌", "顶级", "顶尖", "极品", "极致", "巅峰",
    "世界级", "唯一", "独一无二", "绝无仅有", "国家级", "特供", "专供", "专用", "驰名",
    "商标", "免检", "央视", "推荐", "领导", "部队", "机关", "国宴", "保证", "保过",
    "包过", "有效", "效果", "见效", "无效", "退款", "退费", "零风险", "风险",
    "稳赚", "赚钱", "绝对", "安全", "永久", "永不", "万能", "根治", "百分百",
    "治疗", "治愈", "专治", "防治", "预防", "消炎", "杀菌", "抗癌", "防癌",
    "抗肿瘤", "肿瘤", "降压", "血压", "血糖", "血脂", "尿酸", "止咳", "止泻",
    "化痰", "失眠", "湿疹", "便秘", "腹泻", "痛风", "疗效", "药效", "药用", "药妆",
    "医用", "医院", "抗生素", "脱发", "疾病", "转发", "分享", "朋友圈", "集赞",
    "点赞", "关注", "公众号", "好友", "领取", "解锁", "抽奖", "红包", "返现",
    "提升", "提分", "就好", "好了", "白内障", "能治", "祛斑",
    "降血压", "降血糖", "降血脂", "降脂", "降糖",
    "包成活", "包治", "包好", "包瘦",
    "血管", "康复", "痊愈", "鼻炎", "咽炎", "胃炎", "皮炎", "口腔炎", "关节炎",
    "保障", "腰椎", "腰间盘", "免疫", "排毒", "补肾", "无敌", "包有效", "手足口病", "风湿",
    "政府", "防流感", "立竿见影",
    # a result told in pinyin: zhi好了, 全xiao了, 个zan, 不ke了
    "治好", "消了", "全消", "个赞", "不咳", "咳嗽", "疏通", "颈椎", "百分之百", "炎症", "妇科炎症",
)

_RUN = re.compile("(?<![a-z])[a-z]{1,6}(?![a-z])")
_CJK = re.compile("[\u3400-\u9fff]")
_LATIN_BY_CJK = re.compile("[\u3400-\u9fff] ?[a-z]|[a-z] ?[\u3400-\u9fff]")
_LATIN = re.compile("[a-z]")  # a cheap first test: most copy has no Latin letter at all


def _toneless(syllable: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", syllable)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[dict[str, set[str]], set[str]]:
    """Syllable → the target characters with that reading, and every adjacent pair."""
    from pypinyin import Style, pinyin

    by_sound: dict[str, set[str]] = {}
    pairs: set[str] = set()
    for word in TARGET_WORDS:
        for a, b in itertools.pairwise(word):
            pairs.add(a + b)
        for char in word:
            for reading in pinyin(char, style=Style.NORMAL, heteronym=True)[0]:
                by_sound.setdefault(_toneless(reading), set()).add(char)
    return by_sound, pairs


def _meant(syllable: str, before: str, after: str) -> str | None:
    by_sound, pairs = _vocabulary()
    chars = by_sound.get(syllable)
    if not chars:
        return None
    fitting = sorted(c for c in chars if before + c in pairs or c + after in pairs)
    if fitting:
        return fitting[0]
    if len(chars) == 1 and syllable == "zui":
        return next(iter(chars))
    return None


def read_back(norm: Normalized) -> Normalized:
    """`norm` with pinyin syllables inside Chinese words read back (offsets kept)."""
    text = norm.text
    if not _LATIN.search(text) or not _LATIN_BY_CJK.search(text):
        return norm
    origin = norm.original_indices()
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cursor = 0
    changed = False
    for match in _RUN.finditer(text):
        start, end = match.span()
        # One space may stand between the syllable and the word it hides in (包 guo 面试).
        left = start - 1 if start >= 2 and text[start - 1] == " " else start
        right = end + 1 if end + 1 < len(text) and text[end] == " " else end
        before = text[left - 1] if left else ""
        after = text[right] if right < len(text) else ""
        if not (_CJK.match(before or " ") or _CJK.match(after or " ")):
            continue
        char = _meant(match.group(), before, after)
        if char is None:
            continue
        if not _CJK.match(before or " "):
            left = start
        if not _CJK.match(after or " "):
            right = end
        if left < cursor:
            continue
        pieces.append(text[cursor:left])
        starts += origin[cursor:left]
        ends += origin[cursor:left]
        pieces.append(char)
        starts.append(origin[start])
        ends.append(origin[end - 1])
        cursor = right
        changed = True
    if not changed:
        return norm
    pieces.append(text[cursor:])
    starts += origin[cursor:]
    ends += origin[cursor:]
    return type(norm)(
        "".join(pieces), norm.folded, norm.folded_positions, tuple(starts), tuple(ends)
    )
