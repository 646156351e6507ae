"""Text normalisation shared by matching everywhere (routes, FAQ, statistics)."""

from __future__ import annotations

import importlib.resources
import unicodedata
from functools import lru_cache
from pathlib import Path

STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")


def normalize(text: str) -> str:
    """Full-width → half-width, case folded, outer spaces and trailing punctuation dropped."""
    return unicodedata.normalize("NFKC", text).casefold().strip().rstrip("!?.。！？~～ ")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Words too common to mean anything on their own (的, 了, 吗 …), from stopwords.txt."""
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def one_for_one_table() -> dict[int, int]:
    """Traditional → simplified (OpenCC's character table) and full-width ASCII → ASCII.

    Both map one character to one, so offsets hold, and doing them with `str.translate`
    spares most copy the much slower NFKC pass (Chinese copy is full of full-width
    punctuation, which is all NFKC would have changed).
    """
    source = importlib.resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    table = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
    table[0x3000] = 0x20  # ideographic space
    for line in source.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        target = simplified.split(" ")[0]
        if len(traditional) == 1 and len(target) == 1 and traditional != target:
            table[ord(traditional)] = ord(target)
    return table


def simplified(text: str) -> str:
    """Traditional characters (typed in Hong Kong or Taiwan) as mainland ones, character by
    character."""
    return text.translate(one_for_one_table())
