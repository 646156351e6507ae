"""The FAQ to and from a JSON file, with every entry's alternative wordings (相似问).

A merchant moving from another system, or keeping the FAQ in a spreadsheet, imports it in one
step. Entries are matched by their question: an existing one is updated, a new one is added.
An answer is outgoing copy, so each passes the content gate as in the console: a refused one
is reported and not kept, one held for review is kept disabled until a reviewer approves it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from content_audit import gate
from content_audit.bulk_import import ImportReport
from content_audit.screener import Screener
from core.text import normalize
from customer_service import faq

FAQ_SOURCE = "reply"  # the content gate's source for reply templates (回复模板)


def export_json(db: Session) -> str:
    """Every entry with its wordings, in the form import_json reads."""
    wordings = faq.all_wordings(db)
    rows = [{"question": e.question, "answer": e.answer, "keywords": e.keywords,
             "wordings": wordings.get(e.id, []), "enabled": e.enabled}
            for e in sorted(faq.entries(db), key=lambda e: e.id)]
    return json.dumps(rows, ensure_ascii=False, indent=2)


def read_json(text: str) -> list[dict[str, Any]]:
    """The entries of a file; ValueError if it is not a list of objects."""
    rows = json.loads(text)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("expected a JSON list of objects with question and answer")
    return rows


def import_json(db: Session, text: str, *, author: str, screener: Screener) -> ImportReport:
    """Add or update entries from `text`; the caller commits (or rolls back a dry run)."""
    report = ImportReport()
    existing = {normalize(entry.question): entry for entry in faq.entries(db)}
    for number, row in enumerate(read_json(text), start=1):
        wordings = row.get("wordings") or []
        if isinstance(wordings, str):
            wordings = wordings.splitlines()
        entry = existing.get(normalize(str(row.get("question", ""))))
        # Every check before any write, and no savepoint per entry: pysqlite turns a released
        # SAVEPOINT into a commit, which would make a dry run write.
        try:
            question, answer, keywords, kept = faq.checked(
                str(row.get("question", "")), str(row.get("answer", "")),
                str(row.get("keywords", "")), [str(w) for w in wordings])
        except ValueError as error:
            report.rejected.append((number, str(error)))
            continue
        ref = f"faq:{entry.id}" if entry is not None else "faq:import"
        outcome = gate.check(db, f"{question}\n{answer}", source=FAQ_SOURCE, author=author,
                             source_ref=ref, screener=screener)
        if outcome.refused:
            report.rejected.append((number, outcome.message))
            continue
        saved = faq.save(db, question=question, answer=answer, keywords=keywords,
                         author=author, faq=entry, enabled=bool(row.get("enabled", True)),
                         wordings=kept)
        if outcome.held:
            saved.enabled = False
            report.held_for_review.append(saved.question)
        existing[normalize(saved.question)] = saved
        if entry is None:
            report.created += 1
        else:
            report.updated += 1
    db.flush()
    return report
