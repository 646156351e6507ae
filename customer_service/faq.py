"""FAQ: questions and answers a manager keeps, matched against what customers type.

Matching is jieba words with synonyms folded together (退钱 → 退款, 物流 → 快递), scored by how
much of the customer's question an entry covers — its keywords count most — plus the
character-bigram similarity to the entry's own question, so "退货怎么办" and "怎么退货呀" find
the same answer and a short "发票" still finds 开发票. Questions nothing answers are counted
(UnansweredQuestion), so the FAQ can grow from what customers really ask.

The index is rebuilt only when the FAQ changes (count and last edit time are checked per
question with one small query), so matching costs a few dictionary lookups.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, upsert
from core.text import normalize, stopwords

MIN_SCORE = 0.45
#: A catalog hit at least this good answers a question ("有口虹吗" by the name's pinyin);
#: weaker ones (a word in a description) do not ("周末上班吗" is no product question).
QUESTION_MIN_PRODUCT_SCORE = 1.5
_QUESTION = re.compile(r"[?？吗呢]|怎么|如何|多久|为什么|能不能|可不可以|是不是|有没有|哪")
MAX_QUESTION = 200
#: Words that mean the same to a customer; the first of each line is the one kept.
SYNONYMS = (
    ("退货", "退换", "退回", "退掉", "退换货"),
    ("退款", "退钱", "返款", "退费"),
    ("快递", "物流", "包裹", "快件", "单号"),
    ("发货", "寄出", "出库", "发出", "寄"),
    ("多久", "几天", "多长时间", "什么时候", "啥时候", "何时", "多快"),
    ("发票", "开票", "税票", "收据"),
    ("运费", "邮费", "包邮", "运费险", "包不包邮", "包不包"),
    ("修改", "改", "更改", "写错", "填错", "换"),
    ("优惠", "优惠券", "折扣", "满减", "红包", "券"),
    ("地址", "收货地址", "收件地址"),
    ("付款", "支付", "付钱", "买单"),
    ("会员", "积分", "等级"),
    ("正品", "真货", "真的", "保真"),
    ("售后", "保修", "维修"),
)
_CANONICAL = {word: group[0] for group in SYNONYMS for word in group}
_QUESTION_WORDS = {"怎么", "怎么办", "如何", "吗", "么", "呢", "请问", "为什么", "能不能", "可以",
                   "可不可以", "是不是", "有没有", "啊", "呀", "吧", "我", "的", "了", "想", "要"}


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


@dataclass(frozen=True)
class Match:
    faq_id: int
    question: str
    answer: str
    score: float


@dataclass(frozen=True)
class _Entry:
    faq_id: int
    question: str
    answer: str
    keywords: frozenset[str]
    words: frozenset[str]
    bigrams: frozenset[str]


_STOP = stopwords() | _QUESTION_WORDS


def looks_like_question(text: str) -> bool:
    """Asked, not named: it may be counted as unanswered and gets 人工 offered."""
    return bool(_QUESTION.search(text))


def words(text: str) -> frozenset[str]:
    """The meaningful words of `text`, synonyms folded, question filler dropped."""
    import jieba

    found = set()
    for word in jieba.lcut_for_search(normalize(text)):
        word = word.strip()
        if not word or word in _STOP or (len(word) == 1 and word not in _CANONICAL):
            continue  # single characters (能, 是, 有) say little, unless they are a synonym
        found.add(_CANONICAL.get(word, word))
    return frozenset(found)


def _bigrams(text: str) -> frozenset[str]:
    chars = [c for c in normalize(text) if c.isalnum()]
    return frozenset(a + b for a, b in itertools.pairwise(chars))


_cache: dict[str, tuple[tuple, list[_Entry]]] = {}
_cache_lock = threading.Lock()


def _index(db: Session) -> list[_Entry]:
    stamp = tuple(db.execute(select(func.count(Faq.id), func.max(Faq.updated_at))).one())
    key = str(db.get_bind().url)
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
    entries = [
        _Entry(row.id, row.question, row.answer,
               frozenset(_CANONICAL.get(k, k) for k in normalize(row.keywords).split()),
               words(row.question), _bigrams(row.question))
        for row in db.scalars(select(Faq).where(Faq.enabled.is_(True)).order_by(Faq.id))
    ]
    with _cache_lock:
        _cache[key] = (stamp, entries)
    return entries


def _score(entry: _Entry, asked: frozenset[str], bigrams: frozenset[str]) -> float:
    if not asked:
        return 0.0
    known = entry.keywords | entry.words
    coverage = len(asked & known) / len(asked)
    keyword_hits = min(len(asked & entry.keywords), 2) / 2
    union = bigrams | entry.bigrams
    similarity = len(bigrams & entry.bigrams) / len(union) if union else 0.0
    score = 0.45 * coverage + 0.35 * keyword_hits + 0.2 * similarity
    if not asked & entry.keywords and similarity < 0.5:
        score *= 0.5  # only filler words in common: not an answer
    return score


def best_match(db: Session, text: str) -> Match | None:
    """The FAQ entry that answers `text`, or None if none is close enough."""
    asked, grams = words(text), _bigrams(text)
    best: tuple[float, _Entry] | None = None
    for entry in _index(db):
        score = _score(entry, asked, grams)
        if best is None or score > best[0]:
            best = (score, entry)
    if best is None or best[0] < MIN_SCORE:
        return None
    score, entry = best
    return Match(entry.faq_id, entry.question, entry.answer, round(score, 3))


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


def save(db: Session, *, question: str, answer: str, keywords: str, author: str,
         faq: Faq | None = None, enabled: bool = True) -> Faq:
    """Create or update an entry; ValueError (Chinese) for a bad one. The caller screens the
    answer with the content gate first: it is outgoing copy."""
    question, answer = question.strip(), answer.strip()
    keywords = " ".join(normalize(keywords).replace("，", " ").replace(",", " ").split())
    if not 2 <= len(question) <= MAX_QUESTION:
        raise ValueError(f"问题需 2–{MAX_QUESTION} 个字")
    if not 2 <= len(answer) <= 600:
        raise ValueError("答案需 2–600 个字（微信单条消息不宜过长）")
    if len(keywords) > 255:
        raise ValueError("关键词合计最多 255 个字")
    if faq is None:
        faq = Faq(hits=0)
        db.add(faq)
    faq.question, faq.answer, faq.keywords, faq.enabled = question, answer, keywords, enabled
    faq.updated_at, faq.updated_by = datetime.now(UTC), author
    db.flush()
    return faq


def entries(db: Session) -> list[Faq]:
    return list(db.scalars(select(Faq).order_by(Faq.hits.desc(), Faq.id)))


DEFAULT_FAQ = (
    ("退货怎么办？", "签收后 7 天内支持无理由退货（定制、生鲜、拆封的化妆品和贴身用品除外）。"
     "回复「退货」即可申请，商家收到商品后款项原路退回。", "退货 退款 售后 七天无理由"),
    ("多久发货？", "付款后 48 小时内发货，发货后会在这里通知您快递单号。"
     "回复「快递到哪了」随时查看。", "发货 多久 快递"),
    ("可以开发票吗？", "可以。请回复「人工」并提供抬头和税号，客服会为您开具电子发票。", "发票"),
    ("包邮吗？", "全场包邮（港澳台及海外除外）。", "运费 包邮"),
    ("怎么修改收货地址？", "发货前回复「修改地址」即可修改，已发货的订单请回复「人工」。",
     "地址 修改"),
    ("是正品吗？", "所有商品均为品牌授权或产地直采的正品，支持专柜验货。", "正品"),
)


def seed_defaults(db: Session, author: str = "demo") -> int:
    """A starting FAQ for a new shop (the demo loads it); nothing if there is one already."""
    if db.scalar(select(func.count(Faq.id))):
        return 0
    for question, answer, keywords in DEFAULT_FAQ:
        save(db, question=question, answer=answer, keywords=keywords, author=author)
    return len(DEFAULT_FAQ)
