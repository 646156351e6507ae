"""Which FAQ entries a question is closest to, and how close.

Every wording of an entry — its question, its alternative wordings (相似问) and its keywords —
is a small document of question_text features weighted by TF-IDF. Document frequency counts
entries, not wordings, plus the everyday chat of everyday_questions.txt: a character every
entry or everyday question has (吗, 能, 今天) counts for little, one only the returns entry
has counts for much however many of its wordings repeat it — and within an entry, a feature
most of its wordings share (发 in the shipping entry) weighs more than one a single wording has.

A question's closeness to a wording is half how much of the wording it contains and half how
much of itself the wording covers (both weighted); its closeness to an entry is that of the
entry's nearest wording. Features no wording has still count in the question's weight:
"面霜保质期多久" shares 多久 with the shipping entry, but most of what it says is about something
else. Product names are taken out (they say what, not which policy) but still weigh a little.

The index is built when the FAQ changes (faq_answers.py decides when), never per message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from customer_service.question_text import canonical, features

#: How much of a question's closeness is the share of the wording it contains (the rest is the
#: share of the question the wording covers). Tuned with the thresholds in faq_answers.py.
DOC_SHARE = 0.5
#: A feature in every wording of an entry weighs (1 + CORE_BOOST) times one in a single wording.
CORE_BOOST = 1.0
#: Product names taken out of a question count as this many unknown features each.
PRODUCT_FEATURE = "#product"
PRODUCT_WEIGHT = 1.0


@dataclass(frozen=True)
class EntryText:
    """What the index needs of one enabled entry."""

    faq_id: int
    question: str
    wordings: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    faq_id: int
    question: str
    score: float
    #: The entry's wording the question came closest to (shown in the console's near-misses).
    nearest: str


@dataclass(frozen=True)
class Reading:
    #: The closest entries, best first, one candidate per entry.
    ranked: tuple[Candidate, ...]
    #: How close the question is to everyday chat no entry is about (the background
    #: questions): "包邮的商品能叠加优惠券吗" shares 包邮 with an entry, but asks about coupons.
    everyday: float
    #: Whether it names something the catalog sells ("有口红吗").
    names_product: bool


@dataclass
class _Doc:
    faq_id: int
    text: str
    vector: dict[str, float] = field(default_factory=dict)


class FaqIndex:
    def __init__(self, entries: Iterable[EntryText], background: Iterable[str] = (),
                 product_words: Iterable[str] = ()):
        self._questions: dict[int, str] = {}
        names = sorted({w for w in product_words if len(w) > 1}, key=len, reverse=True)
        self._products = re.compile("|".join(map(re.escape, names))) if names else None
        raw: list[tuple[int, str, dict[str, float]]] = []
        for entry in entries:
            self._questions[entry.faq_id] = entry.question
            texts = [entry.question, *entry.wordings]
            if entry.keywords:
                texts.append(" ".join(entry.keywords))
            for text in dict.fromkeys(t for t in texts if t.strip()):
                raw.append((entry.faq_id, text, features(canonical(text))))
        per_entry: dict[int, dict[str, float]] = {}
        sizes: dict[int, int] = {}
        for faq_id, _, feats in raw:
            sizes[faq_id] = sizes.get(faq_id, 0) + 1
            shares = per_entry.setdefault(faq_id, {})
            for f in feats:
                shares[f] = shares.get(f, 0) + 1
        counted: list[dict[str, float]] = list(per_entry.values())
        everyday = [features(canonical(text)) for text in background]
        counted += everyday
        self._idf = _idf(counted)
        self._unknown_idf = math.log(len(counted) + 1) + 1.0
        self._docs = []
        for faq_id, text, feats in raw:
            shares = per_entry[faq_id]
            boost = {f: 1.0 + CORE_BOOST * shares[f] / sizes[faq_id] for f in feats}
            self._docs.append(_Doc(faq_id, text, self._weigh(feats, boost)))
        self._everyday = [self._weigh(feats) for feats in everyday]

    def __len__(self) -> int:
        return len(self._docs)

    def _weigh(self, feats: dict[str, float],
               boost: dict[str, float] | None = None) -> dict[str, float]:
        vector = {f: (1.0 + math.log(count)) * self._idf.get(f, self._unknown_idf)
                  * (boost.get(f, 1.0) if boost else 1.0)
                  for f, count in feats.items() if count > 0}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}

    def _query(self, text: str) -> dict[str, float]:
        named = 0
        if self._products is not None:  # "红薯包邮吗" asks what "包邮吗" asks ...
            text, named = self._products.subn(" ", text)
        feats = features(canonical(text))
        if named:  # ... but "有口红吗" is about the lipstick: what is named still weighs a little
            feats[PRODUCT_FEATURE] = PRODUCT_WEIGHT * named
        return self._weigh(feats)

    def read(self, text: str, limit: int = 3) -> Reading:
        """Everything the answer depends on, from one pass over `text`'s features."""
        query = self._query(text)
        if not query:
            return Reading((), 0.0, False)
        best: dict[int, tuple[float, str]] = {}
        for doc in self._docs:
            score = _closeness(query, doc.vector)
            if score > best.get(doc.faq_id, (-1.0, ""))[0]:
                best[doc.faq_id] = (score, doc.text)
        ranked = sorted(best.items(), key=lambda item: item[1][0], reverse=True)[:limit]
        everyday = max((_closeness(query, doc) for doc in self._everyday), default=0.0)
        return Reading(
            tuple(Candidate(faq_id, self._questions[faq_id], round(score, 4), nearest)
                  for faq_id, (score, nearest) in ranked),
            everyday, PRODUCT_FEATURE in query)

    def rank(self, text: str, limit: int = 3) -> list[Candidate]:
        """The closest entries, best first, one candidate per entry."""
        return list(self.read(text, limit).ranked)


def _closeness(query: dict[str, float], doc: dict[str, float]) -> float:
    shared = query.keys() & doc.keys()
    if not shared:
        return 0.0
    of_doc = sum(doc[f] ** 2 for f in shared)
    of_query = sum(query[f] ** 2 for f in shared)
    return DOC_SHARE * of_doc + (1 - DOC_SHARE) * of_query


def _idf(documents: list[dict[str, float]]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for feats in documents:
        for feature in feats:
            counts[feature] = counts.get(feature, 0) + 1
    total = len(documents)
    return {f: math.log((total + 1) / (n + 1)) + 1.0 for f, n in counts.items()}
