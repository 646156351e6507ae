"""Screening quality on the labelled corpus: precision, recall and F1 per category.

    .venv/bin/python bench/audit_quality.py [--show] [CORPUS]

CORPUS (default tests/content_audit/corpus.tsv) has one `verdict<TAB>categories<TAB>text`
per line. A category counts as found on a line when any flag of the line has it; the verdict
must match too. `--show` lists every line where the screener and the label disagree.
Aim: F1 ≥ 0.95 in every category, and no flag at all on a line labelled pass.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "content_audit" / "corpus.tsv"
# The widely copied flat word list (see its header), as the baseline a flat-list tool gives.
PUBLIC_LIST = ROOT.parent / "shared" / "data" / "adlaw_public_list.txt"


@dataclass
class Labelled:
    verdict: str
    categories: frozenset[str]
    text: str


def read_corpus(path: Path = CORPUS) -> list[Labelled]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        verdict, categories, text = line.split("\t", 2)
        found = frozenset() if categories == "-" else frozenset(categories.split(","))
        rows.append(Labelled(verdict, found, text))
    return rows


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(rows: list[Labelled], screener) -> dict:
    """Scores per category, verdict agreement, and the disagreements."""
    scores: dict[str, Score] = {}
    verdict_hits = 0
    false_on_clean = []
    disagreements = []
    for row in rows:
        result = screener.screen(row.text)
        found = frozenset(flag.category for flag in result.flags)
        for category in row.categories | found:
            score = scores.setdefault(category, Score())
            if category in row.categories and category in found:
                score.tp += 1
            elif category in found:
                score.fp += 1
            else:
                score.fn += 1
        verdict_hits += result.verdict == row.verdict
        if row.verdict == "pass" and result.flags:
            false_on_clean.append((row, result))
        if result.verdict != row.verdict or found != row.categories:
            disagreements.append((row, result))
    return {
        "scores": scores,
        "verdict_accuracy": verdict_hits / len(rows),
        "false_on_clean": false_on_clean,
        "disagreements": disagreements,
    }


def detection(rows: list[Labelled], flags_line) -> Score:
    """Line-level: does the line have any problem at all (labelled not pass)?"""
    score = Score()
    for row in rows:
        flagged, problem = flags_line(row.text), row.verdict != "pass"
        score.tp += flagged and problem
        score.fp += flagged and not problem
        score.fn += problem and not flagged
    return score


def flat_list_baseline(path: Path = PUBLIC_LIST):
    """A substring test against every term of the public list, as flat-list tools do."""
    if not path.exists():
        return None
    terms = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return lambda text: any(term in text for term in terms), len(terms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--show", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    import jieba

    from content_audit import default_screener

    jieba.setLogLevel(logging.WARNING)
    rows = read_corpus(args.corpus)
    report = evaluate(rows, default_screener())
    clean = sum(1 for row in rows if row.verdict == "pass")
    print(f"corpus: {len(rows)} lines ({clean} labelled pass), rule set "
          f"{default_screener().ruleset.version}")
    print(f"{'category':<16}{'precision':>10}{'recall':>8}{'F1':>7}{'tp':>5}{'fp':>4}{'fn':>4}")
    for name, score in sorted(report["scores"].items()):
        print(f"{name:<16}{score.precision:>10.3f}{score.recall:>8.3f}{score.f1:>7.3f}"
              f"{score.tp:>5}{score.fp:>4}{score.fn:>4}")
    print(f"verdict agreement: {report['verdict_accuracy']:.3f}; "
          f"flags on lines labelled pass: {len(report['false_on_clean'])}")
    worst = min((s.f1 for s in report["scores"].values()), default=1.0)
    met = worst >= 0.95 and not report["false_on_clean"]
    print(f"aim (F1 ≥ 0.95 per category, no flag on a pass line): {'met' if met else 'NOT met'}")
    ours = detection(rows, lambda text: bool(default_screener().screen(text).flags))
    print("line-level detection (any problem vs none):")
    print(f"  {'this screener':<34} precision {ours.precision:.3f} recall {ours.recall:.3f} "
          f"F1 {ours.f1:.3f}")
    baseline = flat_list_baseline()
    if baseline is not None:
        test, size = baseline
        flat = detection(rows, test)
        print(f"  {f'public flat list ({size} terms, `in`)':<34} precision {flat.precision:.3f} "
              f"recall {flat.recall:.3f} F1 {flat.f1:.3f}")
    if args.show:
        for row, result in report["disagreements"]:
            flags = ", ".join(f"{f.term}:{f.category}:{f.severity}" for f in result.flags)
            print(f"  label {row.verdict}/{','.join(sorted(row.categories)) or '-'} "
                  f"got {result.verdict} [{flags}]  {row.text}")


if __name__ == "__main__":
    main()
