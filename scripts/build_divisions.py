"""Write shop/divisions.tsv and shop/division_renames.tsv from jionlp's division data.

The chat needs China's province → prefecture → county list with codes and short names, and the
renames still in use (襄樊 → 襄阳). jionlp (Apache-2.0) ships the Ministry of Civil Affairs'
list, kept current by its maintainers, as dictionary/china_location.zip, and the renames as
dictionary/china_location_change.txt. This script takes them from a jionlp wheel, keeps the
three levels the shop needs (not towns and villages) and writes two small tables into the
repository, so nothing is downloaded at run time and jionlp itself is not a dependency.

    pip download jionlp==1.5.31 --no-deps -d /tmp/jionlp
    python scripts/build_divisions.py /tmp/jionlp/jionlp-1.5.31-py2.py3-none-any.whl
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

SHOP = Path(__file__).resolve().parents[1] / "shop"


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as outer:
        version = next(n for n in outer.namelist() if n.endswith(".dist-info/METADATA"))
        version = version.split("-")[1].split(".dist")[0]
        with zipfile.ZipFile(io.BytesIO(outer.read("jionlp/dictionary/china_location.zip"))) as z:
            lines = z.read("china_location.txt").decode("utf-8").splitlines()
        changes = outer.read("jionlp/dictionary/china_location_change.txt").decode("utf-8")
    rows, stack = [], ["", "", ""]
    for line in lines:
        depth = len(line) - len(line.lstrip("\t"))
        if depth > 2:
            continue  # towns and villages
        parts = line.strip("\t").split("\t")
        name = parts[0]
        code = parts[1] if len(parts) > 1 else ""
        short = parts[2] if len(parts) > 2 else name
        stack[depth] = code or f"{stack[depth - 1] if depth else ''}:{name}"
        parent = stack[depth - 1] if depth else ""
        rows.append((str(depth + 1), stack[depth], name, short, parent))
    header = (f"# China's administrative divisions to county level, from jionlp {version} "
              "(dictionary/china_location.zip, Apache-2.0), built by scripts/build_divisions.py.\n"
              "# level\tcode\tname\tshort\tparent_code  (1 province, 2 prefecture, 3 county; "
              "a code is 'parent:name' where the source has none)\n")
    (SHOP / "divisions.tsv").write_text(
        header + "".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    renames = []
    for line in changes.splitlines():
        if "=>" not in line:
            continue
        before, after = line.split("=>")
        old = before.split("\t")[2:]  # province, short, [city, short, [county, short]]
        new = after.split("\t")
        renames.append("\t".join([line.split("\t")[0], *old, "=>", *new]))
    (SHOP / "division_renames.tsv").write_text(
        f"# Renamed divisions still written by customers, from jionlp {version} "
        "(dictionary/china_location_change.txt, Apache-2.0).\n"
        "# date\told province\tshort\t[old city\tshort\t[old county\tshort]]\t=>\t"
        "new province\t[new city\t[new county]]\n" + "\n".join(renames) + "\n",
        encoding="utf-8")
    print(f"{len(rows)} divisions, {len(renames)} renames")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
