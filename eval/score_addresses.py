"""Score shop.addresses.parse on eval/addresses (issue 18): `python eval/score_addresses.py
SET [--misses]`.

A line is right when every field is: name, phone, province, city, district, street, the
missing fields (as a set) and the ambiguous candidates (as a set). Also counted: lines whose
region was ambiguous but got a guess (the issue's "no ambiguous line silently guessed").
Tune on dev only; test is for the README.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shop.addresses import parse

HERE = Path(__file__).resolve().parent / "addresses"
FIELDS = ("name", "phone", "province", "city", "district", "street")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", nargs="?", default="dev",
                        choices=["dev", "tune2", "tune3", "test", "holdout2"])
    parser.add_argument("--misses", action="store_true", help="print every wrong line")
    args = parser.parse_args()
    rows = [json.loads(line) for line in (HERE / f"{args.part}.jsonl").open(encoding="utf-8")]
    right, wrong_field, guessed, ambiguous_lines = 0, collections.Counter(), 0, 0
    by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for row in rows:
        got = parse(row["text"])
        errors = [f for f in FIELDS if getattr(got, f) != row[f]]
        if set(got.missing) != set(row["missing"]):
            errors.append("missing")
        if set(got.ambiguous) != set(row["ambiguous"]):
            errors.append("ambiguous")
        if row["ambiguous"]:
            ambiguous_lines += 1
            guessed += bool(got.province or got.city or got.district)
        wrong_field.update(errors)
        right += not errors
        by_kind[row["kind"]][0] += not errors
        by_kind[row["kind"]][1] += 1
        if args.misses and errors:
            shown = {f: getattr(got, f) for f in FIELDS if f in errors}
            if "missing" in errors:
                shown["missing"] = got.missing
            if "ambiguous" in errors:
                shown["ambiguous"] = list(got.ambiguous)
            expected = {f: row[f] for f in shown}
            print(f"{row['text']!r}\n    got {shown}\n    want {expected}")
    print(f"eval/addresses/{args.part}.jsonl: {len(rows)} lines")
    print(f"  every field right: {right}/{len(rows)} = {right / len(rows):.1%}")
    print(f"  ambiguous lines given a guess: {guessed}/{ambiguous_lines}")
    print("  wrong, by field: " + ", ".join(f"{f} {n}" for f, n in wrong_field.most_common()))
    print("  right, by kind: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(by_kind.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
