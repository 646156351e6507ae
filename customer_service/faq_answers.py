"""What the chat does with a free-text question: answer it, look up the customer's order,
offer the closest entries, or admit it does not know.

faq_index.py says how close each entry is; order_questions.py whether the customer asks
about the shop's policy or their own parcel. Two scores part the outcomes, tuned on eval/faq's
dev, tune2 and tune3 sets only (the others are reported, see eval/README.md): at ANSWER_SCORE
an entry is close enough to answer on its own — unless the question is closer still to one of
the everyday questions no entry is about (everyday_questions.txt); from SUGGEST_SCORE it is
offered as a choice beside 人工, because a wrong answer given with confidence costs more than
one tap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from customer_service import faq
from customer_service.faq_index import Candidate, EntryText, FaqIndex, Reading
from customer_service.order_questions import Asks, what_it_asks

ANSWER_SCORE = 0.42
SUGGEST_SCORE = 0.25
PRODUCT_SUGGEST_SCORE = 0.35
#: A catalog hit at least this good answers a question nothing in the FAQ does ("有口虹吗" by
#: the name's pinyin); weaker ones (a word in a description) do not ("周末上班吗").
QUESTION_MIN_PRODUCT_SCORE = 1.5
CHOICES = 2
EVERYDAY_FILE = Path(__file__).with_name("everyday_questions.txt")


class Outcome(Enum):
    ANSWER = "answer"  # the FAQ entry answers it
    MY_ORDER = "my_order"  # about the customer's own order: the order handler answers
    BOTH = "both"  # could be either, and the customer has an order: both, briefly
    CHOICES = "choices"  # close to some entries, not close enough: offer them and 人工
    UNKNOWN = "unknown"  # nothing close: the catalog may know, else 人工


@dataclass(frozen=True)
class Consultation:
    outcome: Outcome
    match: faq.Match | None = None
    choices: tuple[Candidate, ...] = ()


@lru_cache(maxsize=1)
def everyday_questions() -> tuple[str, ...]:
    lines = EVERYDAY_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _product_words() -> list[str]:
    """Product words the catalog knows (shop/synonyms.txt): "红薯包邮吗" asks "包邮吗"."""
    from shop.search import synonyms

    return list(synonyms())


_cache: dict[str, tuple[tuple, FaqIndex, dict[int, tuple[str, str]]]] = {}
_cache_lock = threading.Lock()


def _index(db: Session) -> tuple[FaqIndex, dict[int, tuple[str, str]]]:
    """The index of the enabled entries, rebuilt only when the FAQ has changed."""
    stamp = faq.stamp(db)
    key = str(db.get_bind().url)
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1], cached[2]
    rows = list(db.scalars(select(faq.Faq).where(faq.Faq.enabled.is_(True))))
    other = faq.all_wordings(db)
    index = FaqIndex((EntryText(row.id, row.question, tuple(other.get(row.id, ())),
                                tuple(row.keywords.split())) for row in rows),
                     background=everyday_questions(), product_words=_product_words())
    by_id = {row.id: (row.question, row.answer) for row in rows}
    with _cache_lock:
        _cache[key] = (stamp, index, by_id)
    return index, by_id


def rank(db: Session, text: str, limit: int = 3) -> list[Candidate]:
    """The closest enabled entries with their scores (the console's "try a question")."""
    return _index(db)[0].rank(text, limit)


def best_match(db: Session, text: str) -> faq.Match | None:
    """The entry that answers `text` on its own, or None (whoever asks it)."""
    index, by_id = _index(db)
    reading = index.read(text, limit=1)
    return _match(by_id, reading.ranked[0]) if _answers(reading) else None


def _answers(reading: Reading) -> bool:
    """Close enough to answer — and not closer still to everyday chat no entry is about."""
    ranked = reading.ranked
    return bool(ranked) and ranked[0].score >= ANSWER_SCORE and reading.everyday < ranked[0].score


def _match(by_id: dict[int, tuple[str, str]], best: Candidate) -> faq.Match:
    question, answer = by_id[best.faq_id]
    return faq.Match(best.faq_id, question, answer, best.score)


def no_orders() -> bool:
    """For a consultation with no customer behind it (the console's 试一试, the evaluation)."""
    return False


def consult(db: Session, text: str, *, has_orders: Callable[[], bool]) -> Consultation:
    """Decide what answers `text` (nothing is recorded: see record()). `has_orders` is only
    asked when the question could be about the customer's order as well as the policy."""
    asks = what_it_asks(text)
    if asks is Asks.MY_ORDER:
        return Consultation(Outcome.MY_ORDER)
    index, by_id = _index(db)
    reading = index.read(text, limit=CHOICES)
    if _answers(reading):
        match = _match(by_id, reading.ranked[0])
        both = asks is Asks.EITHER and has_orders()
        return Consultation(Outcome.BOTH if both else Outcome.ANSWER, match)
    if asks is Asks.EITHER:  # no entry fits: it is about their order after all
        return Consultation(Outcome.MY_ORDER)
    # A question naming a product ("有口红吗") is for the catalog unless an entry is nearly close
    # enough to answer; other questions get the closest entries to choose from.
    floor = PRODUCT_SUGGEST_SCORE if reading.names_product else SUGGEST_SCORE
    close = tuple(c for c in reading.ranked if c.score >= floor)
    if close:
        return Consultation(Outcome.CHOICES, choices=close)
    return Consultation(Outcome.UNKNOWN)


def record(db: Session, text: str, consultation: Consultation,
           offered: dict | None = None) -> None:
    """Count the answer's hit and what reached which entry, for the console. `offered` is
    what the previous reply offered ({"text", "ids"}): an answer among them was its pick."""
    if consultation.match is not None:
        faq.count_hit(db, consultation.match.faq_id)
        faq.record_reach(db, consultation.match.faq_id, text, "answered")
        if offered and consultation.match.faq_id in offered.get("ids", ()):
            faq.record_reach(db, consultation.match.faq_id, str(offered.get("text", "")),
                             "chosen")
    for candidate in consultation.choices:
        faq.record_reach(db, candidate.faq_id, text, "offered")
