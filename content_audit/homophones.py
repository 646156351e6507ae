"""The pinyin channel: 最 written as pinyin (zui好) or as a character that sounds the same (醉好).

Such spellings are what copywriters use once they know 最 is screened. The channel can only
raise a review, never block: 醉 is also a real word, and a person should look.

The sound-alike characters come from pypinyin's dictionary (every character with a reading
that is the term's reading, tones ignored), so the list needs no upkeep.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from content_audit.normalize import normalize_pattern
from content_audit.ruleset import Rule


def toneless(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


@lru_cache(maxsize=1)
def _readings() -> dict[str, set[str]]:
    """Toneless reading → the characters that have it."""
    from pypinyin.pinyin_dict import pinyin_dict

    by_sound: dict[str, set[str]] = {}
    for codepoint, readings in pinyin_dict.items():
        for reading in readings.split(","):
            by_sound.setdefault(toneless(reading), set()).add(chr(codepoint))
    return by_sound


def reading_of(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL))


class HomophoneChannel:
    def __init__(self, rules: list[Rule]):
        self._patterns: list[tuple[Rule, re.Pattern[str]]] = []
        self._heads: set[str] = set()  # a cheap test before any regex runs
        for rule in rules:
            for term in rule.terms:
                sound = reading_of(term)
                lookalikes = sorted(_readings().get(sound, set()) - {term, normalize_pattern(term)})
                tails = sorted(
                    {normalize_pattern(t) for t in rule.tails}
                    | {reading_of(t) for t in rule.tails},
                    key=len,
                    reverse=True,
                )
                self._heads |= set(lookalikes) | {sound[0]}
                head = f"(?<![a-z]){re.escape(sound)}|[{''.join(lookalikes)}]"
                tail = "|".join(re.escape(t) for t in tails)
                self._patterns.append((rule, re.compile(f"(?:{head})(?:{tail})(?![a-z])")))

    @property
    def active(self) -> bool:
        return bool(self._patterns)

    def find(self, text: str, scope: str | None) -> list[tuple[int, int, Rule, str]]:
        """(start, end, rule, matched) in normalised offsets."""
        found: list[tuple[int, int, Rule, str]] = []
        if self._heads.isdisjoint(text):
            return found
        for rule, pattern in self._patterns:
            if rule.applies_to(scope):
                found += [(m.start(), m.end(), rule, m.group()) for m in pattern.finditer(text)]
        return found
