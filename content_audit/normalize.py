"""One normalisation for the copy being screened and for the patterns it is screened against.

Evasions the screener must see through: full-width and styled letters (NFKC), upper case,
traditional characters, zero-width characters, and spaces, punctuation or emoji slipped
between Chinese characters (最 好, 最~佳, 最👍好), and digits standing for numerals (第1).
Because patterns go through the same function, a pattern always matches itself.

Every normalised character remembers the index of the original character it came from, so a
hit is reported with offsets into the text the author wrote.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from core.text import one_for_one_table

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


@dataclass
class Normalized:
    """The matched text and its way back to the original offsets.

    Most copy is never flagged, so the map back is worked out only when a flag asks for it:
    the separators dropped from `folded` cut it into kept segments, and `folded_positions`
    exists only in the rare case that NFKC changed the length (ligatures, ß).
    """

    text: str
    folded: str
    folded_positions: tuple[int, ...] | None = None

    @cached_property
    def _segments(self) -> tuple[list[int], list[int]]:
        starts, origins = [0], [0]
        cursor = length = 0
        for match in _DROP.finditer(self.folded):
            length += match.start() - cursor
            cursor = match.end()
            starts.append(length)
            origins.append(cursor)
        return starts, origins

    def original_index(self, index: int) -> int:
        starts, origins = self._segments
        segment = bisect_right(starts, index) - 1
        folded = origins[segment] + index - starts[segment]
        return folded if self.folded_positions is None else self.folded_positions[folded]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The [start, end) span in the original text of normalised [start, end)."""
        return self.original_index(start), self.original_index(end - 1) + 1


def _fold(text: str) -> tuple[str, list[int] | None]:
    """NFKC, case folding and traditional → simplified; the map only if lengths changed."""
    table = one_for_one_table()
    quick = text.translate(table)
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


def normalize(text: str) -> Normalized:
    """The text the screener matches on, with a map back to the original offsets."""
    folded, positions = _fold(text)
    kept = _DROP.sub("", folded)
    if "第1" in kept:
        kept = _DI_DIGIT.sub("一", kept)  # one character for one: offsets hold
    return Normalized(kept, folded, tuple(positions) if positions is not None else None)


def normalize_pattern(pattern: str) -> str:
    return normalize(pattern).text


def is_cjk(char: str) -> bool:
    return bool(_IS_CJK.match(char))
