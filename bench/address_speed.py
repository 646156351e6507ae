"""Address parsing speed: the whole parser against its cheapest part, in one run.

On the dev half of eval/addresses (cycled), times shop.addresses.parse (phone, name, the
division list, street) and, as the baseline, only the phone and label step every parser
needs; prints addresses/s, p50 and p99 for both and the ratio. The division table's one-off
load is timed on its own.

    .venv/bin/python bench/address_speed.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.timing import timed  # noqa: E402
from shop import addresses, divisions  # noqa: E402


def baseline(text: str) -> None:
    folded = addresses._fold(text)
    addresses._LABEL.sub(" ", addresses._take_phone(folded)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    lines = (ROOT / "eval/addresses/dev.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    begin = time.perf_counter()
    divisions.table()
    print(f"division table loaded in {(time.perf_counter() - begin) * 1000:.0f} ms "
          f"({len(divisions.table().divisions)} divisions, "
          f"{len(divisions.table().aliases)} spellings)")
    full = timed(addresses.parse, texts, args.seconds)
    bare = timed(baseline, texts, args.seconds)
    print(f"  {'':<10} {'addresses/s':>12} {'p50 µs':>8} {'p99 µs':>8}")
    for name, (rate, p50, p99) in (("parse", full), ("phone only", bare)):
        print(f"  {name:<10} {rate:>12,.0f} {p50 * 1e6:>8.0f} {p99 * 1e6:>8.0f}")
    print(f"  parse / phone only: {full[0] / bare[0]:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
