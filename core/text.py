"""Text normalisation shared by matching everywhere (routes, FAQ, statistics)."""

from __future__ import annotations

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
