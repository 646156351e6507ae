"""Product search for the chat: jieba words, synonyms, and forgiveness for typos and order.

A customer types "唇膏", "口虹" (an input-method slip for 口红) or "面霜 保湿" in any order.
Products are scored by the query's words found in their name (×3), category and tags (×2)
and description (×1); a word also matches through its synonyms (shop/synonyms.txt) and,
failing that, through its pinyin (口虹 and 口红 are both kou hong). Ranking happens in Python
over the on-shelf products, so SQLite and PostgreSQL behave the same; the index is rebuilt
at most every few seconds.
"""

from __future__ import annotations

import itertools
import threading
import time
import unicodedata
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.catalog import Category, Product

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")
INDEX_SECONDS = 5.0
WEIGHTS = {"name": 3.0, "tags": 2.0, "description": 1.0}
SYNONYM_FACTOR = 0.9
PINYIN_FACTOR = 0.6
_IGNORED = frozenset("的了吗呢啊吧有没要买想我你请问个一些些什么哪款卖")


@dataclass(frozen=True)
class Hit:
    product_id: int
    name: str
    score: float


@lru_cache(maxsize=1)
def synonyms() -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    for line in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            group = frozenset(line.split())
            for word in group:
                groups[word] = groups.get(word, frozenset()) | group
    return groups


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> set[str]:
    """jieba's search-mode words, without punctuation and filler characters."""
    import jieba

    out = set()
    # Without the HMM, jieba leaves words it does not know as single characters instead of
    # guessing new words such as 有口虹 (有 + a slip for 口红).
    tokens = [t.strip() for t in jieba.cut_for_search(_norm(text), HMM=False)]
    for token in tokens:
        if token and (len(token) > 1 or token not in _IGNORED) and token.isalnum():
            out.add(token)
    # jieba splits a word it does not know (口虹, a slip for 口红) into single characters;
    # glue neighbouring ones back so the pinyin match can still find what was meant.
    for left, right in itertools.pairwise(tokens):
        pair = left + right
        if (
            len(left) == len(right) == 1
            and pair.isalnum()
            and not pair.isascii()
            and not {left, right} & _IGNORED
        ):
            out.add(pair)
    return out


@lru_cache(maxsize=4096)
def sound(word: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(word, style=Style.NORMAL))


@dataclass
class _Doc:
    product_id: int
    name: str
    sold: int
    fields: dict[str, set[str]]


class SearchIndex:
    def __init__(self, docs: list[_Doc]):
        self.docs = docs

    @classmethod
    def build(cls, db: Session) -> SearchIndex:
        categories = {c.id: c.name for c in db.scalars(select(Category))}
        docs = []
        for product in db.scalars(select(Product).where(Product.on_shelf.is_(True))):
            tags = f"{product.tags} {categories.get(product.category_id, '')}"
            docs.append(
                _Doc(
                    product.id,
                    product.name,
                    product.sold_count,
                    {
                        "name": words(product.name),
                        "tags": words(tags) | {_norm(t) for t in tags.split()},
                        "description": words(product.description),
                    },
                )
            )
        return cls(docs)

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        terms = words(query) or ({_norm(query).strip()} if query.strip() else set())
        # A lone character only counts when nothing longer was typed: 口 of 口虹 must not
        # find 手口湿巾 before the pinyin finds 口红.
        terms = {t for t in terms if len(t) > 1} or terms
        hits = []
        for doc in self.docs:
            score = sum(self._term_score(term, doc) for term in terms)
            if score > 0:
                hits.append(Hit(doc.product_id, doc.name, score + min(doc.sold, 1000) / 1e5))
        hits.sort(key=lambda h: (-h.score, h.product_id))
        return hits[:limit]

    def _term_score(self, term: str, doc: _Doc) -> float:
        best = 0.0
        related = synonyms().get(term, frozenset()) - {term}
        for field, weight in WEIGHTS.items():
            tokens = doc.fields[field]
            if term in tokens:
                best = max(best, weight)
            elif related & tokens:
                best = max(best, weight * SYNONYM_FACTOR)
        if best == 0 and len(term) > 1 and not term.isascii():
            heard = sound(term)
            for field, weight in WEIGHTS.items():
                if any(len(t) == len(term) and sound(t) == heard for t in doc.fields[field]):
                    best = max(best, weight * PINYIN_FACTOR)
        return best


_indexes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def index_for(db: Session) -> SearchIndex:
    """The process's cached index for this database (one per engine)."""
    engine = db.get_bind()
    with _indexes_lock:
        cached = _indexes.get(engine)
        if cached is None:
            cached = _indexes[engine] = CachedIndex()
    return cached.get(db)


class CachedIndex:
    """One index per process, rebuilt when it is older than INDEX_SECONDS."""

    def __init__(self) -> None:
        self._index: SearchIndex | None = None
        self._built = 0.0
        self._lock = threading.Lock()

    def get(self, db: Session) -> SearchIndex:
        with self._lock:
            if self._index is None or time.monotonic() - self._built > INDEX_SECONDS:
                self._index = SearchIndex.build(db)
                self._built = time.monotonic()
            return self._index

    def invalidate(self) -> None:
        with self._lock:
            self._index = None
