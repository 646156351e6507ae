"""Bring a database's schema to the code's: Alembic revisions in core/migrations, run under a lock.

One explicit step (`python -m bot migrate`; `serve` runs it first) instead of every process
creating tables as it starts: two gunicorn workers racing `create_all` on a fresh database
failed two starts in five. The lock makes any number of simultaneous migrators safe: on
PostgreSQL a transaction-scoped advisory lock (DDL is transactional there, so the second
migrator waits, then finds the schema at head); on SQLite an exclusive lock on a file beside
the database. Web workers only check that the schema is current (`check_current`).

Callers import every model first (bot.domains.build_registry) so Base.metadata is whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import io
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from core.db import Base

SCRIPTS = Path(__file__).resolve().parent / "migrations"
#: pg_advisory_xact_lock key: any constant the project does not use elsewhere.
PG_LOCK_KEY = 0x5EC_0DB


class SchemaNotReady(RuntimeError):
    """The database is not at the code's schema: `python -m bot migrate` has not been run."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def head() -> str:
    """The newest revision the code ships."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "core/migrations/versions holds no revision"
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_current(engine: Engine) -> None:
    """Raise SchemaNotReady unless the database is at head (what a web worker checks)."""
    at, wanted = current(engine), head()
    if at != wanted:
        state = "has no schema yet" if at is None else f"is at revision {at}"
        raise SchemaNotReady(
            f"the database {state}, the code needs {wanted}: run `python -m bot migrate` first"
        )


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate to head under the lock; returns (revision before, revision after).

    A database made before migrations existed (tables, no alembic_version) is adopted by the
    first revision, which creates only what is missing.
    """
    with _file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), "head")
        after = MigrationContext.configure(connection).get_current_revision()
    assert after is not None
    return before, after


def pending_model_changes(engine: Engine) -> list[object]:
    """What the models declare that the migrations do not make (empty when they agree).

    Run against a database upgraded to head; a model change without a revision shows here,
    and a test fails on it (autogenerate's own comparison).
    """
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def new_revision(engine: Engine, message: str) -> str:
    """Autogenerate a revision file from the difference between `engine`'s schema and the
    models (the developer's step after changing a model); returns its path."""
    with engine.begin() as connection:
        script = command.revision(
            alembic_config(connection), message=message, autogenerate=True
        )
    assert script is not None and not isinstance(script, list)
    return str(script.path)


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on `<database file>.migrate-lock` for SQLite; nothing otherwise."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
