"""The labelled corpus (tests/content_audit/corpus.tsv) as a regression guard.

bench/audit_quality.py prints the full table; here the aims must keep holding: F1 ≥ 0.95 in
every category and not one flag on a line labelled pass (the hard negatives).
"""

from __future__ import annotations

import sys
from pathlib import Path

from content_audit import default_screener

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from audit_quality import evaluate, read_corpus


def test_the_corpus_is_big_and_covers_every_category():
    rows = read_corpus()
    assert len(rows) >= 300
    categories = {c for row in rows for c in row.categories}
    assert {"superlative", "authority", "guarantee", "medical", "induced_share"} <= categories


def test_quality_aims_hold():
    report = evaluate(read_corpus(), default_screener())
    assert [row.text for row, _ in report["false_on_clean"]] == []
    low = {name: round(s.f1, 3) for name, s in report["scores"].items() if s.f1 < 0.95}
    assert low == {}
