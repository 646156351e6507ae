"""`python -m bot catalog import|export`: the catalog from and to files."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def catalog() -> None:
    """Products and SKUs."""


@catalog.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--author", default="import", help="Who the product copy is attributed to.")
def import_command(path: Path, dry_run: bool, author: str) -> None:
    """Import a CSV or JSON file (by its extension); every rejected row is reported."""
    from content_audit.rulestore import LiveRules
    from core.storage import storage_from_env
    from shop.catalog_import import import_catalog, read_csv, read_json

    text = path.read_text(encoding="utf-8-sig")
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    try:
        total = len(read_json(text) if fmt == "json" else read_csv(text))
    except (ValueError, UnicodeError) as error:
        click.echo(f"cannot read {path.name}: {error}", err=True)
        sys.exit(2)
    storage = storage_from_env()
    # The rules the compliance role keeps in the console, not only the shipped ones.
    screener = LiveRules(storage.sessions, storage.redis, background=False).screener()
    with storage.sessions() as db, click.progressbar(length=total, label="products") as bar:
        report = import_catalog(db, text, fmt=fmt, author=author, screener=screener,
                                progress=bar.update)
        if dry_run:
            db.rollback()
        else:
            db.commit()
    verb = "would create" if dry_run else "created"
    click.echo(f"{verb} {report.created}, updated {report.updated}, "
               f"rejected rows {len(report.rejected)}")
    for name in report.held_for_review:
        click.echo(f"  held off the shelf for compliance review: {name}")
    for line, reason in report.rejected:
        click.echo(f"  line {line}: {reason}")
    sys.exit(0 if report.ok else 1)


@catalog.command("export")
def export_command() -> None:
    """Print the catalog as JSON (the format `import` reads)."""
    from core.storage import storage_from_env
    from shop.catalog_import import export_json

    with storage_from_env().sessions() as db:
        click.echo(export_json(db))
