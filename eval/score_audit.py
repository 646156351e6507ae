"""Score the screener on the blind content-audit sets (issue 14).

    .venv/bin/python eval/score_audit.py SET [--misses] [--kind K]

SET is `dev` or `tune2`..`tune61` (tuned on), or `test`, `holdout`, `holdout3`, `holdout4`,
`holdout5`, `holdout6`, `holdout7`, `holdout8` or `holdout9` (reported only, see eval/README.md).
Each line of `eval/content_audit/PART.jsonl` has `text`, `kind`, `spans` (exact substring +
category; empty = clean) and `evasion`. Spans match by overlap, as the labelling standard
says, so boundaries matter only to tell claims apart:

- span precision: flags that overlap a labelled span / flags;
- span recall: labelled spans that some flag overlaps / labelled spans;
- the same pair again with the category required to agree ("strict");
- line accuracy: clean lines with no flag plus dirty lines with at least one, over all lines;
- clean lines left alone, evasions caught (dirty evasion lines with a flag), and recall per
  category and F1 per kind of shop.

`--misses` prints the lines where screener and label disagree; it refuses the reported
sets, which are only ever scored in total.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from content_audit.screener import Screener  # noqa: E402  (after the path insert)

DATA = ROOT / "eval" / "content_audit"
#: Sets the rules were tuned on: their misses may be read line by line.
TUNING = (
    "dev", "tune2", "tune3", "tune4", "tune5", "tune6", "tune7", "tune8", "tune9", "tune10",
    "tune11", "tune12", "tune13", "tune14", "tune15", "tune16", "tune17", "tune18", "tune19",
    "tune20", "tune21", "tune22", "tune23", "tune24", "tune25", "tune26", "tune27", "tune28",
    "tune29", "tune30", "tune31", "tune32", "tune33", "tune34", "tune35", "tune36", "tune37",
    "tune38", "tune40", "tune41", "tune42", "tune43", "tune44", "tune45", "tune46", "tune47",
    "tune48", "tune49", "tune50", "tune51", "tune52", "tune53", "tune54", "tune55", "tune56",
    "tune57", "tune58", "tune59", "tune60", "tune61",
)
#: Sets whose lines are never printed: their figures are the reported ones.
REPORTED_ONLY = (
    "test", "holdout", "holdout3", "holdout4", "holdout5", "holdout6", "holdout7", "holdout8",
    "holdout9",
)


@dataclass
class Line:
    text: str
    kind: str
    spans: list[tuple[int, int, str]]
    evasion: bool


def read(part: str) -> list[Line]:
    lines = []
    for raw in (DATA / f"{part}.jsonl").read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        row = json.loads(raw)
        spans: list[tuple[int, int, str]] = []
        cursor: defaultdict[str, int] = defaultdict(int)
        for span in row["spans"]:
            found = row["text"].find(span["text"], cursor[span["text"]])
            if found < 0:
                found = row["text"].find(span["text"])
            if found < 0:
                continue  # a label that is not a substring: the writer's slip, skipped
            cursor[span["text"]] = found + 1
            spans.append((found, found + len(span["text"]), span["category"]))
        lines.append(Line(row["text"], row["kind"], spans, bool(row.get("evasion"))))
    return lines


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@dataclass
class Tally:
    flags: int = 0
    flags_right: int = 0
    flags_right_strict: int = 0
    spans: int = 0
    spans_found: int = 0
    spans_found_strict: int = 0
    lines: int = 0
    lines_right: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r) if p + r else 0.0

    def figures(self, strict: bool = False) -> tuple[float, float, float]:
        right = self.flags_right_strict if strict else self.flags_right
        found = self.spans_found_strict if strict else self.spans_found
        p = right / self.flags if self.flags else 1.0
        r = found / self.spans if self.spans else 1.0
        return p, r, self.f1(p, r)


def score_line(line: Line, flags: list[tuple[int, int, str]]) -> Tally:
    tally = Tally(flags=len(flags), spans=len(line.spans), lines=1)
    for start, end, category in flags:
        matches = [s for s in line.spans if _overlaps((start, end), s[:2])]
        tally.flags_right += bool(matches)
        tally.flags_right_strict += any(s[2] == category for s in matches)
    for start, end, category in line.spans:
        matches = [f for f in flags if _overlaps((start, end), f[:2])]
        tally.spans_found += bool(matches)
        tally.spans_found_strict += any(f[2] == category for f in matches)
    tally.lines_right = bool(flags) == bool(line.spans)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=[*TUNING, *REPORTED_ONLY])
    parser.add_argument("--misses", action="store_true", help="print disagreements (tuning sets)")
    parser.add_argument("--kind", help="only lines of this kind of shop")
    args = parser.parse_args()
    if args.misses and args.part in REPORTED_ONLY:
        parser.error(f"{args.part} is scored in total only; its lines are never read")
    import jieba

    from content_audit import default_screener

    jieba.setLogLevel(logging.WARNING)
    screener = default_screener()
    lines = [ln for ln in read(args.part) if not args.kind or ln.kind == args.kind]
    report(args.part, lines, screener, misses=args.misses)


@dataclass
class Report:
    total: Tally
    by_kind: dict[str, Tally]
    by_category: dict[str, list[int]]  # category → [labelled, found, flags, flags right]
    clean: int
    clean_left: int
    evasions: int
    evasions_caught: int

    @property
    def line_accuracy(self) -> float:
        return self.total.lines_right / self.total.lines if self.total.lines else 1.0

    @property
    def clean_rate(self) -> float:
        return self.clean_left / self.clean if self.clean else 1.0


def score(lines: list[Line], screener: Screener, misses: bool = False) -> Report:
    """Every figure of the module docstring; `misses` prints the disagreements."""
    total = Tally()
    by_kind: dict[str, Tally] = defaultdict(Tally)
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    clean = clean_left = evasions = evasions_caught = 0
    for line in lines:
        verdict = screener.screen(line.text)
        flags = [(f.start, f.end, f.category) for f in verdict.flags]
        tally = score_line(line, flags)
        total.add(tally)
        by_kind[line.kind].add(tally)
        for start, end, category in line.spans:
            by_category[category][0] += 1
            by_category[category][1] += any(
                f[2] == category and _overlaps((start, end), f[:2]) for f in flags
            )
        for start, end, category in flags:
            by_category[category][2] += 1
            by_category[category][3] += any(
                s[2] == category and _overlaps((start, end), s[:2]) for s in line.spans
            )
        if not line.spans:
            clean += 1
            clean_left += not flags
        elif line.evasion:
            evasions += 1
            evasions_caught += bool(flags)
        if misses and (tally.lines_right == 0 or tally.spans_found_strict < tally.spans
                            or tally.flags_right_strict < tally.flags):
            gold = "; ".join(f"{line.text[s:e]}:{c}" for s, e, c in line.spans) or "-"
            got = "; ".join(f"{line.text[s:e]}:{c}" for s, e, c in flags) or "-"
            print(f"[{line.kind}] {line.text}\n    label {gold}\n    got   {got}")
    return Report(total, dict(by_kind), dict(by_category), clean, clean_left, evasions,
                  evasions_caught)


def report(part: str, lines: list[Line], screener: Screener, misses: bool = False) -> None:
    result = score(lines, screener, misses)
    total, by_kind, by_category = result.total, result.by_kind, result.by_category
    clean, clean_left = result.clean, result.clean_left
    evasions, evasions_caught = result.evasions, result.evasions_caught
    p, r, f1 = total.figures()
    sp, sr, sf1 = total.figures(strict=True)
    print(f"{part}: {len(lines)} lines, {clean} clean, rule set {screener.ruleset.version}")
    print(f"span precision / recall / F1: {p:.3f} / {r:.3f} / {f1:.3f}")
    print(f"  with the category required: {sp:.3f} / {sr:.3f} / {sf1:.3f}")
    print(f"line accuracy: {total.lines_right / len(lines):.3f}")
    print(f"clean lines with no flag: {result.clean_rate:.3f} ({clean_left}/{clean})")
    print(f"evasions caught (line): {evasions_caught / evasions if evasions else 1:.3f} "
          f"({evasions_caught}/{evasions})")
    print("by category (precision / recall / F1, labelled spans):")
    for name, (count, found, flagged, right) in sorted(by_category.items()):
        cp = right / flagged if flagged else 1.0
        cr = found / count if count else 1.0
        print(f"  {name:<20} {cp:.2f} / {cr:.2f} / {Tally.f1(cp, cr):.2f}  ({count})")
    print("by kind (F1, line accuracy): " + ", ".join(
        f"{kind} {t.figures()[2]:.2f}/{t.lines_right / t.lines:.2f}"
        for kind, t in sorted(by_kind.items())
    ))


if __name__ == "__main__":
    main()
