"""One normalisation for the copy being screened and for the patterns it is screened against.

Evasions the screener must see through: full-width and styled letters (NFKC), upper case,
traditional characters, zero-width characters, and spaces, punctuation or emoji slipped
between Chinese characters (最 好, 最~佳, 最👍好), and digits standing for numerals (第1).
Because patterns go through the same function, a pattern always matches itself.

Every normalised character remembers the index of the original character it came from, so a
hit is reported with offsets into the text the author wrote.
"""

from __future__ import annotations

import importlib.resources
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Sentence ends: never dropped, so induced-sharing rules can stay within one sentence.
TERMINATORS = "。！？!?；;\n\r"
ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad\u180e"
# A separator is anything but a word character, a sentence end, % or # (100%有效, #1).
_SEP = f"(?:[^\\w{TERMINATORS}%#]|_)"
_DROP = re.compile(
    f"[{ZERO_WIDTH}]+|(?<=[{CJK}0-9%]){_SEP}{{1,4}}(?=[{CJK}0-9])"
)
_DI_DIGIT = re.compile("(?<=第)1")
_IS_CJK = re.compile(f"[{CJK}]")


@dataclass(frozen=True)
class Normalized:
    text: str
    positions: tuple[int, ...] | None  # original index of each char; None: the same index

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The [start, end) span in the original text of normalised [start, end)."""
        if self.positions is None:
            return start, end
        return self.positions[start], self.positions[end - 1] + 1


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, int]:
    """Traditional → simplified, character for character (OpenCC's table), so offsets hold."""
    source = importlib.resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    table = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        target = simplified.split(" ")[0]
        if len(traditional) == 1 and len(target) == 1 and traditional != target:
            table[ord(traditional)] = ord(target)
    return table


def _fold(text: str) -> tuple[str, list[int] | None]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    if len(folded) == len(text):
        return folded, None  # the common case: one character for one
    parts: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        piece = unicodedata.normalize("NFKC", char).casefold()
        parts.append(piece)
        positions.extend([index] * len(piece))
    return "".join(parts), positions


def normalize(text: str) -> Normalized:
    """The text the screener matches on, with a map back to the original offsets."""
    folded, positions = _fold(text)
    folded = folded.translate(_t2s_table())
    folded = _DI_DIGIT.sub("一", folded)
    drops = list(_DROP.finditer(folded))
    if not drops:
        return Normalized(folded, tuple(positions) if positions is not None else None)
    kept: list[str] = []
    mapped: list[int] = []
    cursor = 0
    for match in drops:
        kept.append(folded[cursor : match.start()])
        mapped.extend(range(cursor, match.start()))
        cursor = match.end()
    kept.append(folded[cursor:])
    mapped.extend(range(cursor, len(folded)))
    if positions is not None:
        mapped = [positions[i] for i in mapped]
    return Normalized("".join(kept), tuple(mapped))


def normalize_pattern(pattern: str) -> str:
    return normalize(pattern).text


def is_cjk(char: str) -> bool:
    return bool(_IS_CJK.match(char))
