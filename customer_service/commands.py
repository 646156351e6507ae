"""`python -m bot faq import|export`: the FAQ and its alternative wordings from and to JSON."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def faq() -> None:
    """FAQ entries (questions, answers, keywords, 相似问)."""


@faq.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--author", default="import", help="Who the answers are attributed to.")
def import_command(path: Path, dry_run: bool, author: str) -> None:
    """Import a JSON list of {question, answer, keywords, wordings, enabled}."""
    from content_audit.rulestore import LiveRules
    from core.storage import storage_from_env
    from customer_service.faq_transfer import import_json, read_json

    text = path.read_text(encoding="utf-8-sig")
    try:
        read_json(text)
    except ValueError as error:
        click.echo(f"cannot read {path.name}: {error}", err=True)
        sys.exit(2)
    storage = storage_from_env()
    screener = LiveRules(storage.sessions, storage.redis, background=False).screener()
    with storage.sessions() as db:
        report = import_json(db, text, author=author, screener=screener)
        if dry_run:
            db.rollback()
        else:
            db.commit()
    verb = "would create" if dry_run else "created"
    click.echo(f"{verb} {report.created}, updated {report.updated}, "
               f"rejected {len(report.rejected)}")
    for question in report.held_for_review:
        click.echo(f"  held (disabled) for compliance review: {question}")
    for number, reason in report.rejected:
        click.echo(f"  entry {number}: {reason}")
    sys.exit(0 if report.ok else 1)


@faq.command("export")
def export_command() -> None:
    """Print the FAQ as JSON (the format `import` reads)."""
    from core.storage import storage_from_env
    from customer_service.faq_transfer import export_json

    with storage_from_env().sessions() as db:
        click.echo(export_json(db))
