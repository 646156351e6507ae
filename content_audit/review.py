"""The review queue: copy the screener sent to review waits here for a compliance reviewer.

One item per (source, content hash): the same words from the same source are one decision, so
an approved reply template is not asked about again, while any edit is new content, a new
item, screened afresh, and voids what was approved for the old words. Nobody approves their
own copy. An item still undecided at its send time expires: it is not sent (fail closed).
Every action is appended to `review_events` with the actor, the change and the rule-set
version.

No Flask here: the gate, the console, the API and the jobs share these functions.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from content_audit.ruleset import OLD_CATEGORY_NAMES
from content_audit.screener import Verdict
from core.clock import as_utc
from core.db import Base

SOURCES = {
    "push": "推送",
    "product": "商品文案",
    "reply": "回复模板",
    "bargain": "砍价邀请",
    "agent": "客服回复",
}
STATES = {
    "pending": "待审核",
    "approved": "已通过",
    "rejected": "已驳回",
    "changes_requested": "需修改",
    "expired": "已过期",
    "superseded": "已被新版本取代",
}
DECIDED = ("approved", "rejected", "changes_requested")
#: The review log's actions, as the reviewer reads them.
ACTIONS = {
    "submitted": "提交审核", "resubmitted": "重新提交", "approved": "通过", "rejected": "驳回",
    "changes_requested": "要求修改", "edited": "修改后通过", "bulk_approved": "批量通过",
    "expired": "到期未审（未发送）", "superseded": "被新版本取代",
}


#: Per source, what runs in the reviewer's transaction when an item is decided. A domain that
#: holds something back until its copy is approved (the shop's shelf) registers from its
#: register(), so the decision takes effect without the author acting again.
DecisionListener = Callable[[Session, "ReviewItem"], object]
_decision_listeners: dict[str, list[DecisionListener]] = {}


def on_decided(source: str, listener: DecisionListener) -> None:
    """Call `listener(db, item)` whenever an item from `source` is approved, rejected or sent
    back for changes (item.state says which); each listener is added once."""
    listeners = _decision_listeners.setdefault(source, [])
    if listener not in listeners:
        listeners.append(listener)


class ReviewError(ValueError):
    """A review action that cannot be taken; the message is for the reviewer (Chinese)."""


class ReviewItem(Base):
    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("source", "content_hash", name="uq_review_source_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    source_ref: Mapped[str] = mapped_column(String(64), default="", index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(24), index=True, default="pending")
    verdict: Mapped[str] = mapped_column(String(8))
    flags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the Verdict's flags
    hit_signature: Mapped[str] = mapped_column(String(64), index=True)  # for bulk approval
    ruleset_version: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def flag_list(self) -> list[dict[str, Any]]:
        return json.loads(self.flags or "[]")

    @property
    def categories(self) -> list[str]:
        # Items screened before the standard's names carry the old ones (guarantee, …).
        return sorted(
            {OLD_CATEGORY_NAMES.get(flag["category"], flag["category"]) for flag in self.flag_list}
        )


class ReviewEvent(Base):
    """Append-only: who did what to which item, the change, and under which rules."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[str] = mapped_column(Text, default="")
    ruleset_version: Mapped[str] = mapped_column(String(32))


@event.listens_for(ReviewEvent, "before_update")
@event.listens_for(ReviewEvent, "before_delete")
def _refuse_rewrite(_mapper, _connection, _target) -> None:
    raise RuntimeError("review events are append-only")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hit_signature(verdict: Verdict) -> str:
    """The same hits (rule and words) give the same signature: bulk approval groups on it."""
    hits = sorted({(flag.rule_id, flag.term) for flag in verdict.flags})
    return hashlib.sha256(json.dumps(hits, ensure_ascii=False).encode()).hexdigest()[:64]


def now() -> datetime:
    return datetime.now(UTC)


def _log(db: Session, item: ReviewItem, actor: str, action: str, *, reason: str = "",
         diff: str = "") -> None:
    db.add(
        ReviewEvent(
            item_id=item.id, at=now(), actor=actor, action=action, reason=reason, diff=diff,
            ruleset_version=item.ruleset_version,
        )
    )


def find(db: Session, source: str, text: str) -> ReviewItem | None:
    return db.scalar(
        select(ReviewItem).where(
            ReviewItem.source == source, ReviewItem.content_hash == content_hash(text)
        )
    )


def submit(
    db: Session,
    text: str,
    verdict: Verdict,
    *,
    source: str,
    author: str,
    source_ref: str = "",
    send_at: datetime | None = None,
) -> ReviewItem:
    """Queue `text` for review, or return the item these words already have from `source`.

    New words for a `source_ref` that had others are a new version: the older pending or
    approved items of that ref are superseded, so an approval never carries over to an edit.
    """
    if source not in SOURCES:
        raise ReviewError("未知的文案来源")
    existing = find(db, source, text)
    if existing is not None and existing.state in ("superseded", "expired"):
        # The same words again (an edit undone, an expired push sent anew): a fresh decision.
        existing.state, existing.reviewer, existing.reason = "pending", None, ""
        existing.decided_at = None
        existing.send_at = send_at
        existing.verdict = verdict.verdict
        existing.flags = json.dumps(verdict.as_json()["flags"], ensure_ascii=False)
        existing.hit_signature = hit_signature(verdict)
        existing.ruleset_version = verdict.ruleset_version
        _log(db, existing, author, "resubmitted")
        return existing
    if existing is not None:
        if send_at and existing.state == "pending":
            existing.send_at = send_at
        return existing
    version = 1
    if source_ref:
        older = list(
            db.scalars(
                select(ReviewItem).where(
                    ReviewItem.source == source, ReviewItem.source_ref == source_ref
                )
            )
        )
        version = max((item.version for item in older), default=0) + 1
        for item in older:
            if item.state in ("pending", "approved"):
                item.state = "superseded"
                _log(db, item, author, "superseded", reason=f"新版本 v{version}")
    item = ReviewItem(
        source=source,
        source_ref=source_ref,
        content_hash=content_hash(text),
        text=text,
        version=version,
        state="pending",
        verdict=verdict.verdict,
        flags=json.dumps(verdict.as_json()["flags"], ensure_ascii=False),
        hit_signature=hit_signature(verdict),
        ruleset_version=verdict.ruleset_version,
        author=author,
        send_at=send_at,
        created_at=now(),
    )
    db.add(item)
    db.flush()
    _log(db, item, author, "submitted")
    return item


def decide(
    db: Session, item: ReviewItem, reviewer: str, decision: str, reason: str = ""
) -> ReviewItem:
    """approved, rejected or changes_requested, by someone other than the author."""
    if decision not in DECIDED:
        raise ReviewError("未知的审核决定")
    if item.state != "pending":
        raise ReviewError(f"该文案当前状态为「{STATES[item.state]}」，不能再审核")
    if reviewer == item.author:
        raise ReviewError("不能审核自己提交的文案")
    if decision != "approved" and not reason.strip():
        raise ReviewError("驳回或要求修改时请填写原因")
    decided_at = now()
    # Conditional, so two reviewers deciding at once cannot both win.
    moved = db.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item.id, ReviewItem.state == "pending")
        .values(state=decision, reviewer=reviewer, reason=reason.strip(), decided_at=decided_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.refresh(item)
        raise ReviewError("这条文案刚刚已被其他人审核")
    item.state, item.reviewer, item.reason = decision, reviewer, reason.strip()
    item.decided_at = decided_at
    _log(db, item, reviewer, decision, reason=item.reason)
    for listener in _decision_listeners.get(item.source, ()):
        listener(db, item)
    return item


def edit_and_approve(
    db: Session, item: ReviewItem, reviewer: str, new_text: str, verdict: Verdict, reason: str
) -> ReviewItem:
    """The reviewer rewrites the copy and approves the rewrite (a new, screened version).

    A rewrite the screener blocks cannot be approved; the original author stays the author,
    so the reviewer is not approving their own copy.
    """
    if item.state != "pending":
        raise ReviewError(f"该文案当前状态为「{STATES[item.state]}」，不能再审核")
    if reviewer == item.author:
        raise ReviewError("不能审核自己提交的文案")
    if verdict.verdict == "block":
        raise ReviewError("修改后的文案仍含禁止用语，不能通过")
    if new_text == item.text:
        return decide(db, item, reviewer, "approved", reason)
    ref = item.source_ref or f"item:{item.id}"
    item.source_ref = ref
    new = submit(db, new_text, verdict, source=item.source, author=item.author, source_ref=ref,
                 send_at=item.send_at)
    diff = "\n".join(difflib.unified_diff([item.text], [new_text], lineterm="", n=0))
    _log(db, new, reviewer, "edited", reason=reason, diff=diff)
    if new.state == "pending":
        decide(db, new, reviewer, "approved", reason or "修改后通过")
    return new


@dataclass(frozen=True)
class BulkResult:
    approved: list[int]
    skipped: list[int]


def bulk_approve(db: Session, items: list[ReviewItem], reviewer: str, reason: str) -> BulkResult:
    """Approve several items at once, only when they share the very same hits, with a reason."""
    if not reason.strip():
        raise ReviewError("批量通过必须填写原因")
    signatures = {item.hit_signature for item in items}
    if len(signatures) != 1:
        raise ReviewError("只能批量通过命中完全相同的文案")
    approved, skipped = [], []
    for item in items:
        if item.state != "pending" or item.author == reviewer:
            skipped.append(item.id)
            continue
        decide(db, item, reviewer, "approved", reason)
        _log(db, item, reviewer, "bulk_approved", reason=reason)
        approved.append(item.id)
    return BulkResult(approved, skipped)


def expire_undecided(db: Session, at: datetime) -> list[ReviewItem]:
    """Items still pending at their send time are not sent: they expire (fail closed)."""
    due = list(
        db.scalars(
            select(ReviewItem).where(ReviewItem.state == "pending", ReviewItem.send_at <= at)
        )
    )
    for item in due:
        item.state = "expired"
        item.decided_at = at
        _log(db, item, "system", "expired", reason="发送时间已到仍未审核，未发送")
    return due


def queue(
    db: Session, *, state: str = "pending", source: str = "", category: str = "", limit: int = 200
) -> list[ReviewItem]:
    """Oldest first for pending (first in, first decided); newest first otherwise."""
    query = select(ReviewItem)
    if state:
        query = query.where(ReviewItem.state == state)
    if source:
        query = query.where(ReviewItem.source == source)
    order = ReviewItem.id.asc() if state == "pending" else ReviewItem.id.desc()
    items = list(db.scalars(query.order_by(order).limit(limit * (3 if category else 1))))
    if category:
        items = [item for item in items if category in item.categories][:limit]
    return items


def history(db: Session, item_id: int) -> list[ReviewEvent]:
    return list(
        db.scalars(
            select(ReviewEvent).where(ReviewEvent.item_id == item_id).order_by(ReviewEvent.id)
        )
    )


def approval_rates(db: Session) -> list[tuple[str, int, int]]:
    """Per rule: (rule id, decided items it hit, of which approved anyway) — over-broad rules
    show up with a high share approved."""
    counts: dict[str, list[int]] = {}
    rows = db.scalars(select(ReviewItem).where(ReviewItem.state.in_(DECIDED)))
    for item in rows:
        for rule_id in {flag["rule_id"] for flag in item.flag_list}:
            total_approved = counts.setdefault(rule_id, [0, 0])
            total_approved[0] += 1
            total_approved[1] += item.state == "approved"
    return sorted(((rule, n, ok) for rule, (n, ok) in counts.items()), key=lambda r: -r[1])


def due_time(item: ReviewItem) -> datetime | None:
    return as_utc(item.send_at) if item.send_at else None
