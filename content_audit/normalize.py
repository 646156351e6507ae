"""One normalisation for the copy being screened and for the patterns it is screened against.

Evasions the screener must see through: full-width and styled letters (NFKC), upper case,
traditional characters, zero-width characters, spaces, symbols or emoji slipped between
Chinese characters (最 好, 最~佳, 最👍好), digits standing for numerals (第1, 第①, 第壹, 独1份,
全网第l, 集满贰拾个赞), tone marks on pinyin (降血táng), look-alike characters (醉好, 蕞强, 集攒,
囯家级), an emoji written for a character (集👍满30个, 杀🦠), and pinyin written for a character
or a word of a term (zui好, 特gong, 有xiao, guanzhu, pyq; see `pinyin.py`).

Clause punctuation (，、：), quotation marks and sentence ends are kept, never dropped: the
screener's context rules need to know where a clause ends and what is quoted. Because
patterns go through the same function, a pattern always matches itself.

Every normalised character remembers the index of the original character it came from, so a
hit is reported with offsets into the text the author wrote.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache

from content_audit.pinyin import read_back
from core.text import one_for_one_table

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Sentence ends: never dropped, so induced-sharing rules can stay within one sentence.
TERMINATORS = "。！？!?；;\n\r"
#: Clause marks and quotes: kept too (after folding, ，：（ are their ASCII forms).
KEPT = ",，、:：\"'“”‘’「」『』【】《》()（）@"
ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad\u180e"
# A separator is anything but a word character, a kept mark, % or # (100%有效, #1).
_SEP = f"(?:[^\\w{TERMINATORS}{re.escape(KEPT)}%#]|_)"
_DROP = re.compile(
    f"[{ZERO_WIDTH}]+|(?<=[{CJK}0-9%]){_SEP}{{1,8}}(?=[{CJK}0-9])"
)
#: Any character _DROP could remove but "_" (tested with `in`): most copy has none, and
#: this one-set scan is far cheaper than running _DROP's lookbehind at every position.
#: Zero-width characters are no word characters, so the set holds them too.
_MAY_DROP = re.compile(f"[^\\w{TERMINATORS}{re.escape(KEPT)}%#]")
_DI_DIGIT = re.compile(
    "(?<=第)1(?![0-9])|(?<=唯)1(?![0-9])|(?<=第)[li](?![a-z0-9])|(?<=独)1(?=份|无|家)"
)
#: 3高 for 三高 (blood pressure, sugar and lipids), not 3高温 or a third floor.
_THREE_HIGHS = re.compile("(?<![0-9])3(?=高(?![温度层米楼端中档效]))")
_IS_CJK = re.compile(f"[{CJK}]")
#: Pinyin with tone marks, folded to plain letters one for one (táng → tang).
_TONES = {
    **{c: "a" for c in "āáǎà"}, **{c: "e" for c in "ēéěè"}, **{c: "i" for c in "īíǐì"},
    **{c: "o" for c in "ōóǒò"}, **{c: "u" for c in "ūúǔù"}, **{c: "v" for c in "üǖǘǚǜ"},
}
#: Characters written for a banned one that sounds or looks the same, where the next or the
#: previous character shows which word is meant (醉蟹 stays a dish, 醉好 is 最好).
_LOOKALIKES = (
    (re.compile("[醉蕞嘴](?=好|佳|优|强|棒|美|低|便宜|划算|实惠|正宗|地道|香|甜|火|热|专业|"
                "值|高|全|新鲜|舒服|安全|受欢迎|耐用|省|靠谱|放心|牛|给力|时尚|潮|能打|"
                "下饭|下酒|服帖|好看|好用|显瘦|保暖|轻薄|柔软|持久|清爽|滋润|耐穿|耐摔|耐磨|顺滑|"
                "耐脏)"), "最"),
    (re.compile("蕞"), "最"),
    (re.compile("(?<=集)[攒咱簪]|(?<=点)[攒咱]"), "赞"),
    (re.compile("(?<=特)[贡共]|(?<=专)[贡共]"), "供"),
    (re.compile("(?<=第)[①⑴⒈壹➊❶➀ー]"), "一"),
    (re.compile("鼎(?=级)"), "顶"),
    (re.compile("(?<=关)住(?=公众号|我们|本号|店铺|后|才)"), "注"),
    (re.compile("(?<=降三)搞"), "高"),
    (re.compile("囯"), "国"),
    (re.compile("(?<=[是称当全国网市省区城县界内业州镇量类])弟(?=一)|(?<=的)弟(?=一名)"), "第"),
    (re.compile("冶(?=好|愈|疗)"), "治"),
    (re.compile("秧(?=视)"), "央"),
    (re.compile("盆(?=友圈)"), "朋"),
    (re.compile("腿(?=款|费)"), "退"),
    (re.compile("(?<=感)帽"), "冒"),
    (re.compile("関"), "关"),
    (re.compile("専"), "专"),
    (re.compile("池(?=名商标)"), "驰"),
    (re.compile("纷(?=享)"), "分"),
    (re.compile("(?<=推)鉴"), "荐"),
)
#: Emoji written for the character of a term (集👍满30个, 集齐18个❤️, 杀🦠): read as that
#: character before separators are dropped, one code point for one so offsets hold.
_EMOJI_WORDS = (
    (re.compile("(?:(?<=[集点攒凑个亮])|(?<=[集点攒凑个亮] ))[👍❤♥💗💖]"), "赞"),
    (re.compile("(?:(?<=[杀抑除灭抗])|(?<=[杀抑除灭抗] ))🦠"), "菌"),
    # 100% in one sign (穿上💯不冷): read as a bare %, which the percent rule takes for 100%
    (re.compile("💯"), "%"),
    (re.compile("🔝(?=级|尖|流|配)"), "顶"),
)
_EMOJI_WORD_CHARS = re.compile("[👍❤♥💗💖🦠💯🔝]")


@lru_cache(maxsize=1)
def _table() -> dict[int, int]:
    table = dict(one_for_one_table())
    table.update({ord(k): ord(v) for k, v in _TONES.items()})
    return table


@dataclass
class Normalized:
    """The matched text and its way back to the original offsets.

    Most copy is never flagged, so the map back is worked out only when a flag asks for it:
    the separators dropped from `folded` cut it into kept segments, and `folded_positions`
    exists only in the rare case that NFKC changed the length (ligatures, ß). `positions`
    replaces both when a pinyin syllable was read back as its character.
    """

    text: str
    folded: str
    folded_positions: tuple[int, ...] | None = None
    positions: tuple[int, ...] | None = None  # original index of each character's start
    end_positions: tuple[int, ...] | None = None  # ... and of its last original character

    @cached_property
    def _segments(self) -> tuple[list[int], list[int]]:
        starts, origins = [0], [0]
        if len(self.text) == len(self.folded):
            return starts, origins  # nothing was dropped (the other changes are one for one)
        cursor = length = 0
        for match in _DROP.finditer(self.folded):
            length += match.start() - cursor
            cursor = match.end()
            starts.append(length)
            origins.append(cursor)
        return starts, origins

    def original_index(self, index: int) -> int:
        if self.positions is not None:
            return self.positions[index]
        starts, origins = self._segments
        segment = bisect_right(starts, index) - 1
        folded = origins[segment] + index - starts[segment]
        return folded if self.folded_positions is None else self.folded_positions[folded]

    def original_indices(self) -> list[int]:
        """`original_index` of every character, worked out in one pass (segment by segment
        instead of a search for each character)."""
        if self.positions is not None:
            return list(self.positions)
        starts, origins = self._segments
        indices: list[int] = []
        for start, stop, origin in zip(starts, [*starts[1:], len(self.text)], origins, strict=True):
            indices.extend(range(origin, origin + stop - start))
        if self.folded_positions is not None:
            return [self.folded_positions[index] for index in indices]
        return indices

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The [start, end) span in the original text of normalised [start, end)."""
        if self.folded_positions is None and self.positions is None and self.text is self.folded:
            return start, end  # nothing was dropped or read back: offsets are the original's
        if self.positions is not None and self.end_positions is not None:
            return self.positions[start], self.end_positions[end - 1] + 1
        return self.original_index(start), self.original_index(end - 1) + 1


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def _bmp_table() -> list[int]:
    """The same mapping as `_table` for the Basic Multilingual Plane, as a list indexed by
    code point. `str.translate` asks its table for every character; a dict answers a
    character it lacks (nearly all of them) by raising KeyError, a list by indexing, which
    makes the pass more than twice as fast."""
    table = list(range(0x10000))
    for code, target in _table().items():
        if code < 0x10000:
            table[code] = target
    return table


#: The full-width marks nearly every line of Chinese copy has (the table maps them to ASCII).
_WIDE_MARKS = "，：；！？"


@lru_cache(maxsize=1)
def _folding() -> tuple[tuple[tuple[str, str], ...], re.Pattern[str]]:
    """The common full-width marks with their ASCII forms, and a one-set test for any other
    character the table changes (astral characters included: only the dict maps those)."""
    table = _table()
    marks = tuple((mark, chr(table[ord(mark)])) for mark in _WIDE_MARKS)
    # Replacing first must leave translate nothing different to do.
    assert not any(ord(plain) in table for _, plain in marks)
    assert _plain_marks(_WIDE_MARKS) == "".join(plain for _, plain in marks)
    rest = "".join(chr(code) for code in sorted(table) if code < 0x10000)
    return marks, re.compile(f"[{re.escape(rest)}\U00010000-\U0010ffff]")


def _fold(text: str) -> tuple[str, list[int] | None]:
    """NFKC, case folding and traditional → simplified; the map only if lengths changed.

    `str.translate` asks its table about every character, which makes it the dearest step of
    screening clean copy; yet in Chinese copy it nearly always changes only the full-width
    marks (，：；). Those are replaced directly (one for one, so the result is the same), and
    translate runs only when the set test finds a character of the table still left: a
    traditional character, a full-width letter, an emoji.
    """
    table = _table()
    _, more_to_fold = _folding()
    quick = _plain_marks(text)
    if more_to_fold.search(quick):
        # Emoji and rare characters beyond the BMP are not in the list: such copy takes the dict.
        quick = quick.translate(table if _ASTRAL.search(quick) else _bmp_table())
    if unicodedata.is_normalized("NFKC", quick):
        folded = quick.casefold()
        if len(folded) == len(text):
            return folded, None
    parts: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        piece = unicodedata.normalize("NFKC", char).casefold().translate(table)
        parts.append(piece)
        positions.extend([index] * len(piece))
    return "".join(parts), positions


_CAPITALS = "贰叁肆伍陆柒捌玖拾佰"
_LOOKALIKE_CHARS = re.compile(
    f"[醉蕞嘴攒咱簪贡共①⑴⒈壹➊❶➀ー鼎住搞囯秧弟冶盆腿帽関専池纷鉴{_CAPITALS}]"
)
#: The capital numerals of banking (集满贰拾个赞), one for one.
_CAPITAL_NUMERALS = str.maketrans(_CAPITALS, "二三四五六七八九十百")


def _lookalikes(text: str) -> str:
    if not _LOOKALIKE_CHARS.search(text):
        return text
    text = text.translate(_CAPITAL_NUMERALS)
    for pattern, meant in _LOOKALIKES:
        if pattern.search(text):
            text = pattern.sub(meant, text)  # one character for one: offsets hold
    return text


@lru_cache(maxsize=1)
def _after_folding() -> re.Pattern[str]:
    """One set test for every character a step after folding acts on: a character _DROP may
    drop (what _MAY_DROP finds, and _), a look-alike, a Latin letter (perhaps a pinyin
    syllable). Most copy has none of them, and one test of the set spelled out character by
    character costs a third of the three tests it stands for."""
    codes = [
        code for code in range(0x10000)
        if _MAY_DROP.match(chr(code)) or _LOOKALIKE_CHARS.match(chr(code))
        or chr(code) == "_" or "a" <= chr(code) <= "z"
    ]
    # Beyond the BMP: all, to be safe.
    return re.compile(f"[{_spelled(codes)}\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def _all_steps() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Two set tests. The first finds every character any step of `normalize` could change
    or act on, once the common full-width marks are replaced: one the table maps, one
    `casefold` changes, one a step after folding acts on (`_after_folding`), and anything
    beyond the BMP. The second finds the same but the lower-case Latin letters, which only
    the pinyin step (`read_back`) acts on.

    Copy with none of them (most Chinese copy, given NFKC holds and no 第1 or 唯1) comes out
    as it went in but for those marks, and copy whose only such characters are Latin letters
    (500ml, iPhone, zui好) as `read_back` leaves it; one or two tests then stand for the table
    test, the case folding and the test after folding (`_fold` and `normalize` give the same
    answer the long way: `casefold` works character by character, so it leaves such copy
    alone)."""
    table = _table()
    _folding()  # asserts that `_plain_marks` folds the marks as the table does
    after = _after_folding()
    latin = set(range(ord("a"), ord("z") + 1))
    but_latin = [
        code for code in range(0x10000)
        if code not in latin
        and (code in table or chr(code).casefold() != chr(code) or after.match(chr(code)))
    ]
    beyond_bmp = "\U00010000-\U0010ffff"  # all of it, to be safe
    return (
        re.compile(f"[{_spelled(sorted(latin.union(but_latin)))}{beyond_bmp}]"),
        re.compile(f"[{_spelled(but_latin)}{beyond_bmp}]"),
    )


def _spelled(codes: list[int]) -> str:
    """Sorted code points as the inside of a character class, runs written as ranges."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in runs)


def _plain_marks(text: str) -> str:
    """`text` with the full-width marks of `_WIDE_MARKS` as ASCII, as the table maps them
    (`_folding` checks that); written out because this runs on every copy screened."""
    return (
        text.replace("，", ",").replace("：", ":").replace("；", ";").replace("！", "!")
        .replace("？", "?")
    )


_DI_ANY = re.compile("第[1lLiI]")


def _has_di_digit(text: str) -> bool:
    """第1, 唯1, 独1份, 3高, and a Latin l or I written for the 1 (全网第l)."""
    return "唯1" in text or "独1" in text or "3高" in text or (
        "第" in text and bool(_DI_ANY.search(text))
    )


def normalize(text: str) -> Normalized:
    """The text the screener matches on, with a map back to the original offsets."""
    plain = _plain_marks(text)
    if not _has_di_digit(plain) and unicodedata.is_normalized("NFKC", plain):
        anything, but_latin = _all_steps()
        first = anything.search(plain)
        if first is None:
            return Normalized(plain, plain)  # most copy: only the marks were to fold
        if "a" <= first.group() <= "z" and not but_latin.search(plain, first.end()):
            return read_back(Normalized(plain, plain))  # and perhaps pinyin to read back
    folded, positions = _fold(text)
    if _EMOJI_WORD_CHARS.search(folded):
        for pattern, meant in _EMOJI_WORDS:
            folded = pattern.sub(meant, folded)
    if "朋有圈" in folded:  # 朋🈶圈: NFKC has read the emoji as 有
        folded = folded.replace("朋有圈", "朋友圈")
    if not (_after_folding().search(folded) or _has_di_digit(folded)):
        # Most copy: no separator, look-alike, pinyin or 第1 to see through.
        return Normalized(folded, folded, tuple(positions) if positions is not None else None)
    kept = _DROP.sub("", folded) if "_" in folded or _MAY_DROP.search(folded) else folded
    if _has_di_digit(kept):
        kept = _THREE_HIGHS.sub("三", _DI_DIGIT.sub("一", kept))
    kept = _lookalikes(kept)
    norm = Normalized(kept, folded, tuple(positions) if positions is not None else None)
    return read_back(norm)


def normalize_pattern(pattern: str) -> str:
    return normalize(pattern).text


def is_cjk(char: str) -> bool:
    return bool(_IS_CJK.match(char))
