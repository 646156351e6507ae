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
    from content_audit.bulk_import import echo_and_exit, run_from_cli
    from shop.catalog_import import import_catalog, read_csv, read_json

    text = path.read_text(encoding="utf-8-sig")
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    try:
        total = len(read_json(text) if fmt == "json" else read_csv(text))
    except (ValueError, UnicodeError) as error:
        click.echo(f"cannot read {path.name}: {error}", err=True)
        sys.exit(2)
    with click.progressbar(length=total, label="products") as bar:
        report = run_from_cli(lambda db, screener: import_catalog(
            db, text, fmt=fmt, author=author, screener=screener, progress=bar.update),
            dry_run=dry_run)
    echo_and_exit(report, dry_run=dry_run, held="held off the shelf for compliance review",
                  row="line")


@catalog.command("export")
def export_command() -> None:
    """Print the catalog as JSON (the format `import` reads)."""
    from core.storage import storage_from_env
    from shop.catalog_import import export_json

    with storage_from_env().sessions() as db:
        click.echo(export_json(db))
