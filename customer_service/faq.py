"""FAQ: the questions and answers a manager keeps, their other wordings, and what reached them.

An entry is one question with its answer, keywords and alternative wordings (相似问) — the ways
customers really ask it ("能退吗", "不要了怎么退"), added in the console or in one click from a
question that missed. faq_answers.py decides which entry answers a message; this module keeps
the entries and the record of what customers asked: questions nothing answered
(UnansweredQuestion), and per entry the wordings that reached it or came close (FaqReach), so
the FAQ grows from what customers say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, upsert
from core.text import normalize

MAX_QUESTION = 200
MAX_WORDINGS = 60
_QUESTION = re.compile(r"[?？吗呢]|怎么|如何|多久|几点|什么时候|啥时候|为什么|能不能|可不可以"
                       r"|是不是|有没有|哪")


class Faq(Base):
    __tablename__ = "service_faq"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(255), default="")  # space-separated
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class UnansweredQuestion(Base):
    """A question no FAQ answered, counted each time it is asked (normalised text)."""

    __tablename__ = "service_unanswered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(MAX_QUESTION), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    handled: Mapped[bool] = mapped_column(Boolean, default=False)


class FaqWording(Base):
    """Another way customers ask an entry's question (相似问)."""

    __tablename__ = "service_faq_wording"
    __table_args__ = (UniqueConstraint("faq_id", "text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    faq_id: Mapped[int] = mapped_column(ForeignKey("service_faq.id", ondelete="CASCADE"),
                                        index=True)
    text: Mapped[str] = mapped_column(String(MAX_QUESTION))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(64), default="")


class FaqReach(Base):
    """What a customer typed that an entry answered ("answered"), or that came close enough
    for the entry to be offered as a choice ("offered") — and which of those the customer then
    picked ("chosen"). Counted per normalised text; the console shows them per entry."""

    __tablename__ = "service_faq_reach"
    __table_args__ = (UniqueConstraint("faq_id", "text", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    faq_id: Mapped[int] = mapped_column(ForeignKey("service_faq.id", ondelete="CASCADE"),
                                        index=True)
    text: Mapped[str] = mapped_column(String(MAX_QUESTION))
    outcome: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=1)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


REACH_OUTCOMES = ("answered", "offered", "chosen")


@dataclass(frozen=True)
class Match:
    faq_id: int
    question: str
    answer: str
    score: float


def looks_like_question(text: str) -> bool:
    """Asked, not named: it may be counted as unanswered and gets 人工 offered."""
    return bool(_QUESTION.search(text))


def count_hit(db: Session, faq_id: int) -> None:
    db.execute(update(Faq).where(Faq.id == faq_id).values(hits=Faq.hits + 1)
               .execution_options(synchronize_session=False))


def record_unanswered(db: Session, text: str, now: datetime | None = None) -> None:
    """Count a question nothing answered (one row per normalised text, race-safe)."""
    text = normalize(text)[:MAX_QUESTION]
    if not text:
        return
    now = now or datetime.now(UTC)
    table = UnansweredQuestion.__table__
    db.execute(
        upsert(db, table).values(text=text, count=1, first_at=now, last_at=now, handled=False)
        .on_conflict_do_update(index_elements=["text"],
                               set_={"count": table.c.count + 1, "last_at": now,
                                     "handled": False})
    )


def unanswered(db: Session, limit: int = 50) -> list[UnansweredQuestion]:
    """What customers asked most that no FAQ answers yet."""
    query = (select(UnansweredQuestion).where(UnansweredQuestion.handled.is_(False))
             .order_by(UnansweredQuestion.count.desc(), UnansweredQuestion.last_at.desc())
             .limit(limit))
    return list(db.scalars(query))


def mark_handled(db: Session, question_id: int) -> UnansweredQuestion | None:
    """Answered by a new entry, or not worth one: off the list until it is asked again."""
    asked = db.get(UnansweredQuestion, question_id)
    if asked is not None:
        asked.handled = True
        db.flush()
    return asked


def clean_wordings(lines: Iterable[str], question: str = "") -> list[str]:
    """One wording per line, trimmed, each once, not the question itself; ValueError (Chinese)
    for one too long or too many."""
    seen = {normalize(question)} if question else set()
    kept = []
    for line in lines:
        line = line.strip()
        if not line or normalize(line) in seen:
            continue
        if len(line) > MAX_QUESTION:
            raise ValueError(f"相似问每条最多 {MAX_QUESTION} 个字")
        seen.add(normalize(line))
        kept.append(line)
    if len(kept) > MAX_WORDINGS:
        raise ValueError(f"相似问最多 {MAX_WORDINGS} 条")
    return kept


def checked(question: str, answer: str, keywords: str, wordings: Iterable[str] | None = None
            ) -> tuple[str, str, str, list[str] | None]:
    """The fields as they will be kept; ValueError (Chinese) for a bad one, before any write."""
    question, answer = question.strip(), answer.strip()
    keywords = " ".join(normalize(keywords).replace("，", " ").replace(",", " ").split())
    if not 2 <= len(question) <= MAX_QUESTION:
        raise ValueError(f"问题需 2–{MAX_QUESTION} 个字")
    if not 2 <= len(answer) <= 600:
        raise ValueError("答案需 2–600 个字（微信单条消息不宜过长）")
    if len(keywords) > 255:
        raise ValueError("关键词合计最多 255 个字")
    kept = clean_wordings(wordings, question) if wordings is not None else None
    return question, answer, keywords, kept


def save(db: Session, *, question: str, answer: str, keywords: str, author: str,
         faq: Faq | None = None, enabled: bool = True,
         wordings: Iterable[str] | None = None) -> Faq:
    """Create or update an entry; ValueError (Chinese) for a bad one. `wordings` replaces the
    entry's other wordings (None keeps them). The caller screens the answer with the content
    gate first: it is outgoing copy."""
    question, answer, keywords, kept = checked(question, answer, keywords, wordings)
    if faq is None:
        faq = Faq(hits=0)
        db.add(faq)
    now = datetime.now(UTC)
    faq.question, faq.answer, faq.keywords, faq.enabled = question, answer, keywords, enabled
    faq.updated_at, faq.updated_by = now, author
    db.flush()
    if kept is not None:
        db.execute(delete(FaqWording).where(FaqWording.faq_id == faq.id))
        db.add_all(FaqWording(faq_id=faq.id, text=text, added_at=now, added_by=author)
                   for text in kept)
        db.flush()
    return faq


def wordings(db: Session, faq_id: int) -> list[str]:
    query = select(FaqWording.text).where(FaqWording.faq_id == faq_id).order_by(FaqWording.id)
    return list(db.scalars(query))


def all_wordings(db: Session) -> dict[int, list[str]]:
    """Every entry's other wordings, by entry id."""
    found: dict[int, list[str]] = {}
    for faq_id, text in db.execute(select(FaqWording.faq_id, FaqWording.text)
                                   .order_by(FaqWording.id)):
        found.setdefault(faq_id, []).append(text)
    return found


def add_wording(db: Session, faq: Faq, text: str, author: str) -> bool:
    """Add one customer's wording to an entry (from the unanswered list or a near-miss); False
    if the entry has it already. The entry's edit time moves, so the matcher sees it at once."""
    [text] = clean_wordings([text]) or [""]
    if not text or normalize(text) == normalize(faq.question):
        return False
    existing = {normalize(w) for w in wordings(db, faq.id)}
    if normalize(text) in existing:
        return False
    if len(existing) >= MAX_WORDINGS:
        raise ValueError(f"相似问最多 {MAX_WORDINGS} 条")
    now = datetime.now(UTC)
    db.add(FaqWording(faq_id=faq.id, text=text, added_at=now, added_by=author))
    faq.updated_at, faq.updated_by = now, author
    db.flush()
    return True


def record_reach(db: Session, faq_id: int, text: str, outcome: str,
                 now: datetime | None = None) -> None:
    """Count that `text` reached an entry as `outcome` (race-safe)."""
    text = normalize(text)[:MAX_QUESTION]
    if not text or outcome not in REACH_OUTCOMES:
        return
    now = now or datetime.now(UTC)
    table = FaqReach.__table__
    db.execute(
        upsert(db, table).values(faq_id=faq_id, text=text, outcome=outcome, count=1, last_at=now)
        .on_conflict_do_update(index_elements=["faq_id", "text", "outcome"],
                               set_={"count": table.c.count + 1, "last_at": now})
    )


def reaches(db: Session, limit: int = 8) -> dict[int, dict[str, list[FaqReach]]]:
    """Per entry and outcome, the most frequent wordings that reached it, for the console."""
    found: dict[int, dict[str, list[FaqReach]]] = {}
    query = select(FaqReach).order_by(FaqReach.count.desc(), FaqReach.last_at.desc())
    for reach in db.scalars(query):
        bucket = found.setdefault(reach.faq_id, {}).setdefault(reach.outcome, [])
        if len(bucket) < limit:
            bucket.append(reach)
    return found


def entries(db: Session) -> list[Faq]:
    return list(db.scalars(select(Faq).order_by(Faq.hits.desc(), Faq.id)))


def stamp(db: Session) -> tuple:
    """Changes whenever an entry or a wording is added, edited, enabled or removed."""
    wordings = select(func.count(FaqWording.id)).scalar_subquery()
    return tuple(db.execute(select(func.count(Faq.id), func.max(Faq.updated_at), wordings)).one())


DEMO_FAQ_FILE = Path(__file__).with_name("demo_faq.json")


def _demo_faq() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    rows = json.loads(DEMO_FAQ_FILE.read_text(encoding="utf-8"))
    return tuple((row["question"], row["answer"], row["keywords"], tuple(row["wordings"]))
                 for row in rows)


#: The demo shop's FAQ (demo_faq.json): (question, answer, keywords, other wordings).
DEFAULT_FAQ = _demo_faq()


def seed_defaults(db: Session, author: str = "demo") -> int:
    """A starting FAQ for a new shop (the demo loads it); nothing if there is one already."""
    if db.scalar(select(func.count(Faq.id))):
        return 0
    for question, answer, keywords, other in DEFAULT_FAQ:
        save(db, question=question, answer=answer, keywords=keywords, author=author,
             wordings=other)
    return len(DEFAULT_FAQ)
