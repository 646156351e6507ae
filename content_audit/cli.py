"""`python -m content_audit check [--json] [FILE]`: screen one text per line, no server needed.

Exit 0 whenever it ran, whatever it found (a finding is not an error); 2 on bad usage.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

import click

from content_audit.review import STATES
from content_audit.screener import Verdict

MARK_OPEN, MARK_CLOSE = "【", "】"
LABELS = {"pass": "通过", "review": "需审核", "block": "禁止"}


def marked(text: str, verdict: Verdict) -> str:
    """The text with each flagged span in 【】 (overlapping spans merged)."""
    spans: list[list[int]] = []
    for flag in sorted(verdict.flags, key=lambda f: (f.start, f.end)):
        if spans and flag.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], flag.end)
        else:
            spans.append([flag.start, flag.end])
    out, cursor = [], 0
    for start, end in spans:
        out += [text[cursor:start], MARK_OPEN, text[start:end], MARK_CLOSE]
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def report(text: str, verdict: Verdict) -> str:
    lines = [f"[{verdict.verdict} {LABELS[verdict.verdict]}] {marked(text, verdict)}"]
    for flag in verdict.flags:
        hint = f" → 建议：{flag.suggestion}" if flag.suggestion else ""
        lines.append(
            f"    {flag.start}-{flag.end} {flag.term!r} {flag.category} {flag.severity} "
            f"({flag.rule_id}){hint}"
        )
    return "\n".join(lines)


@click.group()
def cli() -> None:
    """Advertising-law screening of shop copy."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input line.")
@click.option("--scope", default=None, help="push, product, reply, bargain or agent.")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
def check(as_json: bool, scope: str | None, source: TextIO) -> None:
    """Screen FILE (default stdin), one text per line."""
    import logging

    import jieba

    from content_audit import default_screener

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter is not a finding
    screener = default_screener()
    for raw in source:
        text = raw.rstrip("\r\n")
        verdict = screener.screen(text, scope)
        if as_json:
            flags = [
                {
                    "term": f.term,
                    "category": f.category,
                    "start": f.start,
                    "end": f.end,
                    "severity": f.severity,
                    "suggestion": f.suggestion,
                    "rule_id": f.rule_id,
                }
                for f in verdict.flags
            ]
            record = {"text": text, "verdict": verdict.verdict, "flags": flags,
                      "ruleset_version": verdict.ruleset_version}
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(report(text, verdict))
    sys.stdout.flush()


@cli.command("queue")
@click.option("--state", default="pending", type=click.Choice(sorted(STATES)))
def show_queue(state: str) -> None:
    """List review items (oldest pending first)."""
    from content_audit import review
    from core.storage import storage_from_env

    storage = storage_from_env()
    with storage.sessions() as db:
        for item in review.queue(db, state=state):
            terms = "、".join(flag["term"] for flag in item.flag_list)
            click.echo(f"#{item.id}\t{item.source}\t{item.author}\t[{terms}]\t{item.text}")


@cli.command("decide")
@click.argument("item_id", type=int)
@click.argument("decision", type=click.Choice(["approved", "rejected", "changes_requested"]))
@click.option("--reviewer", required=True, help="The console account deciding.")
@click.option("--reason", default="")
def decide(item_id: int, decision: str, reviewer: str, reason: str) -> None:
    """Approve, reject or ask for changes on one item, as REVIEWER."""
    from console import accounts
    from console.permissions import can
    from content_audit import review
    from core.storage import storage_from_env

    storage = storage_from_env()
    with storage.sessions.begin() as db:
        account = accounts.find(db, reviewer)
        if account is None or not account.active or not can(account.role, "review"):
            click.echo(f"{reviewer} is not an active account allowed to review", err=True)
            sys.exit(1)
        item = db.get(review.ReviewItem, item_id)
        if item is None:
            click.echo(f"no review item #{item_id}", err=True)
            sys.exit(1)
        try:
            review.decide(db, item, account.username, decision, reason)
        except review.ReviewError as error:
            click.echo(f"not decided: {error}", err=True)
            sys.exit(1)
    click.echo(f"#{item_id} {decision}")


def main() -> None:
    cli(prog_name="python -m content_audit")
