"""`python -m bot address [--json] [FILE]`: how the shop reads addresses, one per line.

For shop staff checking an address a customer sent, and for scoring the parser on a file.
Reads FILE (stdin by default); exit 0 whatever it finds, 2 on bad usage (click's).
"""

from __future__ import annotations

import json
from typing import TextIO

import click

from shop.addresses import LABELS, Address, parse


def as_json(text: str, address: Address) -> str:
    return json.dumps({"text": text, **address.as_dict(), "missing": address.missing,
                       "ambiguous": list(address.ambiguous)}, ensure_ascii=False)


def readable(text: str, address: Address) -> str:
    lines = [text]
    for part, label in LABELS.items():
        if value := getattr(address, part):
            lines.append(f"  {label}：{value}")
    if address.ambiguous:
        lines.append("  有歧义：" + "；".join(address.ambiguous))
    if address.missing:
        lines.append("  缺少：" + "、".join(LABELS[part] for part in address.missing))
    return "\n".join(lines)


@click.command("address")
@click.option("--json", "as_json_lines", is_flag=True, help="One JSON object per line.")
@click.argument("source", type=click.File("r", encoding="utf-8-sig"), default="-")
def address(as_json_lines: bool, source: TextIO) -> None:
    """Read one address per line (stdin by default) and print what the shop understands."""
    for line in source:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        parsed = parse(text)
        click.echo(as_json(text, parsed) if as_json_lines else readable(text, parsed))
