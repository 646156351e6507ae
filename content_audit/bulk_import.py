"""Copy imported in bulk (the catalog, the FAQ): what a run reports, and the CLI's way to run it.

Every imported item is outgoing copy, so each passes the content gate with the rules the
compliance role keeps in the console (LiveRules), not only the shipped ones. A run is one
transaction: a dry run rolls it back, so it reports exactly what a real run would write.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import click
from sqlalchemy.orm import Session

from content_audit.screener import Screener


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    held_for_review: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line or entry, reason)

    @property
    def ok(self) -> bool:
        return not self.rejected


def run_from_cli(apply: Callable[[Session, Screener], ImportReport], *,
                 dry_run: bool) -> ImportReport:
    """Open the configured storage, screen with the live rules, commit or roll back."""
    from content_audit.rulestore import LiveRules
    from core.storage import storage_from_env

    storage = storage_from_env()
    screener = LiveRules(storage.sessions, storage.redis, background=False).screener()
    with storage.sessions() as db:
        report = apply(db, screener)
        if dry_run:
            db.rollback()
        else:
            db.commit()
    return report


def echo_and_exit(report: ImportReport, *, dry_run: bool, held: str, row: str) -> NoReturn:
    """Print the report (`held` says what happens to held items, `row` names a rejected one)
    and exit 0 when nothing was rejected, else 1."""
    verb = "would create" if dry_run else "created"
    click.echo(f"{verb} {report.created}, updated {report.updated}, "
               f"rejected {len(report.rejected)}")
    for name in report.held_for_review:
        click.echo(f"  {held}: {name}")
    for number, reason in report.rejected:
        click.echo(f"  {row} {number}: {reason}")
    sys.exit(0 if report.ok else 1)
