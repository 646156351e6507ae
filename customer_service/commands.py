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
    from content_audit.bulk_import import echo_and_exit, run_from_cli
    from customer_service.faq_transfer import import_json, read_json

    text = path.read_text(encoding="utf-8-sig")
    try:
        read_json(text)
    except ValueError as error:
        click.echo(f"cannot read {path.name}: {error}", err=True)
        sys.exit(2)
    report = run_from_cli(lambda db, screener: import_json(db, text, author=author,
                                                           screener=screener),
                          dry_run=dry_run)
    echo_and_exit(report, dry_run=dry_run, held="held (disabled) for compliance review",
                  row="entry")


@faq.command("export")
def export_command() -> None:
    """Print the FAQ as JSON (the format `import` reads)."""
    from core.storage import storage_from_env
    from customer_service.faq_transfer import export_json

    with storage_from_env().sessions() as db:
        click.echo(export_json(db))
