"""Split each blind evaluation set once into a part to tune on and a part to report.

    python eval/split.py

A line goes to the test part when the SHA-1 of its text, read as a number, is divisible by 3
(about a third); nothing else decides, so the split never changes as code changes. Writes
`dev.jsonl` and `test.jsonl` beside each source file set. Tune only on dev; report test.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = {
    "content_audit": ["part_a.jsonl", "part_b.jsonl", "part_c.jsonl", "part_d.jsonl"],
    "addresses": ["addresses.jsonl"],
    "faq": ["wordings.jsonl"],
}


def is_test(text: str) -> bool:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 3 == 0


def main() -> None:
    for name, sources in SETS.items():
        folder = HERE / name
        rows = []
        for source in sources:
            path = folder / source
            if path.exists():
                rows += [json.loads(line) for line in path.read_text("utf-8").splitlines()
                         if line.strip()]
        seen: set[str] = set()
        parts: dict[str, list[str]] = {"dev": [], "test": []}
        for row in rows:
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            part = "test" if is_test(row["text"]) else "dev"
            parts[part].append(json.dumps(row, ensure_ascii=False))
        for part, lines in parts.items():
            (folder / f"{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{name}: {len(parts['dev'])} dev, {len(parts['test'])} test")


if __name__ == "__main__":
    main()
