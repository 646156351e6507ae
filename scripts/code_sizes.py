"""Module and function sizes per top-level package (median and p90), for architecture notes.

    python scripts/code_sizes.py [ROOT]

Counts non-blank lines; functions include methods, measured from `def` to their last line.
"""

from __future__ import annotations

import ast
import statistics
import sys
from collections import defaultdict
from pathlib import Path

SKIP = {".venv", "tests", "bench", "scripts", "var", ".git", "eval"}


def _p90(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def measure(root: Path) -> dict[str, tuple[list[int], list[int]]]:
    sizes: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if len(parts) < 2 or parts[0] in SKIP:
            continue
        source = path.read_text(encoding="utf-8")
        modules, functions = sizes[parts[0]]
        modules.append(sum(1 for line in source.splitlines() if line.strip()))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.append((node.end_lineno or node.lineno) - node.lineno + 1)
    return sizes


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(f"{'package':18} {'modules':>7} {'mod med':>7} {'mod p90':>7} {'funcs':>6} "
          f"{'fn med':>6} {'fn p90':>6} {'lines':>6}")
    for package, (modules, functions) in sorted(measure(root).items()):
        print(f"{package:18} {len(modules):7} {statistics.median(modules):7.0f} "
              f"{_p90(modules):7} {len(functions):6} "
              f"{statistics.median(functions) if functions else 0:6.0f} "
              f"{_p90(functions) if functions else 0:6} {sum(modules):6}")


if __name__ == "__main__":
    main()
