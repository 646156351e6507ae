"""What a customer's question says, independent of how they typed it.

Customers write the same question a dozen ways: 退/退货/退掉, 多久/几天/啥时候, 包不包邮,
traditional characters, a homophone typed by accident (发或 for 发货, 正品马), pinyin for a word
they could not be bothered to pick (改dizhi). Before any matching, a question is brought to one
spelling: simplified characters, the service vocabulary of service_words.txt folded to its
first word, "A不A" questions to A. Matching then compares features that survive the rest —
single characters (a one-character verb like 退 must count), character pairs, and pairs of
syllables for the homophones.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from pathlib import Path

from core.text import normalize, simplified

SERVICE_WORDS_FILE = Path(__file__).with_name("service_words.txt")

#: "包不包邮", "能不能", "有没有", "是不是": the question is the word itself.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
#: Sentence-final particles that only mark a question: all become 吗.
_FINAL_PARTICLE = re.compile(r"(?:吗|么|嘛|伐|不|没|呢|吧|呀|啊|哇|唔|马|呗|没有)+$")
_KEEP = re.compile(r"[0-9a-z\u4e00-\u9fff]+")
_RUN = re.compile(r"[\u4e00-\u9fff]+|[0-9a-z]+")
_SYLLABLE = re.compile(
    r"(?:[zcs]h|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|uai|uan|ian|iao|ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo"
    r"|ue|ui|ve|er|a|o|e|i|u|v)")


@lru_cache(maxsize=1)
def service_words() -> tuple[re.Pattern[str], dict[str, str]]:
    """The vocabulary as one longest-first pattern and a variant → canonical map."""
    canonical: dict[str, str] = {}
    for line in SERVICE_WORDS_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.split():
            continue
        group = line.split()
        for word in group:
            canonical.setdefault(word, group[0])
    variants = sorted(canonical, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in variants)), canonical


def canonical(text: str) -> str:
    """The question in one spelling: letters, digits and Chinese characters only."""
    text = simplified(normalize(text))
    text = "".join(_KEEP.findall(text))
    text = _A_NOT_A.sub(r"\1", text)
    pattern, words = service_words()
    text = pattern.sub(lambda m: words[m.group(0)], text)
    return _FINAL_PARTICLE.sub("吗", text)


def syllables(text: str) -> list[str]:
    """Toneless pinyin, one syllable per character; typed pinyin split into syllables."""
    from pypinyin import lazy_pinyin

    found: list[str] = []
    for piece in lazy_pinyin(text, errors="default"):
        if piece.isascii() and piece.isalpha() and not _is_syllable(piece):
            found.extend(_SYLLABLE.findall(piece))
        else:
            found.append(piece)
    return found


def _is_syllable(piece: str) -> bool:
    return _SYLLABLE.fullmatch(piece) is not None


#: Characters that carry no question of their own (我, 的, 亲 …): no feature of their own.
FILLER = frozenset("的了我你您们亲啊呀吧呢哦嗯哈么吗这那个下一")
#: Counts given to a jieba word and to a pair of syllables (a character or pair counts 1; a
#: sound pair counts less, since a homophone is only a guess).
WORD_WEIGHT = 1.0
SOUND_WEIGHT = 0.5


def features(text: str) -> dict[str, float]:
    """Counted features of a canonical question: characters, character pairs, words, sound
    pairs."""
    import jieba

    found: dict[str, float] = {}

    def add(feature: str, weight: float) -> None:
        found[feature] = found.get(feature, 0.0) + weight

    for run in _RUN.findall(text):
        if run.isascii():  # digits or typed pinyin: the sound pairs below carry it
            continue
        for char in run:
            if char not in FILLER:
                add("c" + char, 1.0)
        for a, b in itertools.pairwise(run):
            add("b" + a + b, 1.0)
        for word in jieba.lcut(run):
            if len(word) > 1:
                add("w" + word, WORD_WEIGHT)
    for a, b in itertools.pairwise(syllables(text)):
        add("p" + a + " " + b, SOUND_WEIGHT)
    return found
