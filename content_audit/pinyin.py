"""Read a pinyin syllable written inside a Chinese word back as the character it stands for.

Copywriters who know a word is screened write one of its characters in pinyin: zui好,
特gong, 有xiao, 降xue压, 关zhu. A syllable has many characters, so one is read back only
when it completes a word the screener cares about (xiao before 果 is 效, xiao before 炎 is
消), or when the syllable has a single such character (zui is always 最 here). The words are
the hand-picked ones below and the shipped rule set's own (its diseases, state bodies, rank
words and word terms), so a syllable completing any of those is read back; where several
characters fit, the one completing the longest piece of a word wins. A whole word spelled in
pinyin (guanzhu) or by its initials (pyq) is read back too. Latin text that is no such
syllable (iPhone, ml, VIP) is left alone.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from pathlib import Path
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
    "止痒", "退烧", "永远", "绝不", "磁疗", "紫外线", "一贴", "第一批", "集满", "防止",
    "消退", "包你", "包您", "平安", "保平安", "必消", "一辈子", "包结果", "保准", "最多", "最少",
    "不敢", "脊柱侧弯", "结石", "诊断", "抗菌", "毒素", "胰岛素", "吃药", "降压药", "眼镜",
    "牙医", "修复", "降三高", "不犯", "调理", "脚气", "在用", "都在用",
)

#: The shipped rule set's lists whose words are evasion targets too (diseases, state bodies,
#: rank words...), and its word rules' terms: a syllable that completes one is read back.
_RULES_FILE = Path(__file__).with_name("rules") / "adlaw.toml"
_TARGET_LISTS = ("disease", "symptom", "cosmetic_concern", "state_body", "rank_word")
_CJK_ONLY = re.compile("[\u3400-\u9fff]+")


@lru_cache(maxsize=1)
def _rule_words() -> tuple[str, ...]:
    """Words of the shipped rule set (read as TOML, not through ruleset.py, which imports
    this module by way of normalize.py)."""
    with _RULES_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    lexicon = data.get("lexicon", {})
    words = [word for name in _TARGET_LISTS for word in lexicon.get(name, [])]
    for rule in data.get("rule", []):
        if rule.get("kind") == "word":
            words += [t for t in rule.get("terms", []) if not t.startswith("<<")]
    return tuple(w for w in words if len(w) >= 2 and _CJK_ONLY.fullmatch(w))


_RUN = re.compile("(?<![a-z])[a-z]{1,12}(?![a-z])")
#: Initials merchants write for a whole word (晒到pyq, 关注gzh).
_INITIALS = {"pyq": "朋友圈", "gzh": "公众号", "jz": "集赞"}


@lru_cache(maxsize=1)
def _spelled_words() -> dict[str, str]:
    """A whole screened word of two to four characters written in pinyin (guanzhu → 关注),
    and the initials merchants write for one."""
    from pypinyin import Style, lazy_pinyin

    spelled = {
        "".join(_toneless(s) for s in lazy_pinyin(word, style=Style.NORMAL)): word
        for word in TARGET_WORDS if 2 <= len(word) <= 4
    }
    spelled.update(_INITIALS)
    return spelled


_CJK = re.compile("[\u3400-\u9fff]")
_LATIN_BY_CJK = re.compile("[\u3400-\u9fff] ?[a-z]|[a-z] ?[\u3400-\u9fff]")
_LATIN = re.compile("[a-z]")  # a cheap first test: most copy has no Latin letter at all


def _toneless(syllable: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", syllable)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


@cache  # one entry per word list: the hand-picked and the rule set's
def _vocabulary(
    words: tuple[str, ...] = TARGET_WORDS,
) -> tuple[dict[str, set[str]], dict[str, set[str]], set[str]]:
    """Syllable → the target characters whose main reading it is, → those with it as any
    reading; and every piece (two to five characters) of the words."""
    from pypinyin import Style, pinyin

    main: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    pieces: set[str] = set()
    for word in words:
        for size in range(2, 6):
            pieces.update(word[i : i + size] for i in range(len(word) - size + 1))
        for char in word:
            readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
            main.setdefault(_toneless(readings[0]), set()).add(char)
            for reading in readings:
                every.setdefault(_toneless(reading), set()).add(char)
    return main, every, pieces


def _fit(char: str, left: str, right: str, pieces: set[str]) -> int:
    """How many characters of the text around `char` it completes a piece of a word with
    (0 when it pairs with neither neighbour)."""
    longest = 0
    for i in range(len(left) + 1):
        for j in range(len(right) + 1):
            size = i + j + 1
            if size > longest and size > 1 and left[len(left) - i :] + char + right[:j] in pieces:
                longest = size
    return longest


def _meant(syllable: str, left: str, right: str) -> str | None:
    """The character the syllable stands for, given up to three characters either side: the
    one completing the longest piece of a screened word (教育bu推 → 部 of 教育部, not 不 of
    发育不良); then the hand-picked words before the rule set's; then a character's main
    reading before its others (世jie级 → 界, not 家, whose jie is rare)."""
    best: tuple[int, bool, int] | None = None
    chosen = None
    for tier, words in ((2, TARGET_WORDS), (1, _rule_words())):
        main, every, pieces = _vocabulary(words)
        for char in sorted(every.get(syllable, ())):
            fit = _fit(char, left, right, pieces)
            if not fit:
                continue
            score = (fit, char in main.get(syllable, ()), tier)
            if best is None or score > best:
                best, chosen = score, char
    if chosen is not None:
        return chosen
    chars = _vocabulary(TARGET_WORDS)[1].get(syllable)
    if chars and len(chars) == 1 and syllable == "zui":
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
        syllables = match.group()
        word = _INITIALS.get(syllables) or (
            _spelled_words().get(syllables) if len(syllables) > 2 else None
        )
        char = word or (
            _meant(syllables, text[max(0, left - 3) : left], text[right : right + 3])
            if len(syllables) <= 6 else None
        )
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
        # a whole word read back: its characters share the span of the letters
        starts += [origin[start]] * len(char)
        ends += [origin[end - 1]] * len(char)
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
