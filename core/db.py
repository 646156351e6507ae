"""SQLAlchemy plumbing shared by every package: one declarative Base, engines, sessions.

No Flask here: the chat, the console and the scheduler process build the same handles.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, FromClause, create_engine, event, literal_column
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Every table of the project hangs off this metadata."""


def sqlite_url(data_dir: str | Path) -> str:
    path = Path(data_dir).resolve() / "bot.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so threads don't trip on locks."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine_for(settings: Mapping[str, Any]) -> Engine:
    """The engine a configuration names: DATABASE_URL, else the SQLite file in BOT_DATA_DIR."""
    return make_engine(settings.get("DATABASE_URL") or sqlite_url(settings["BOT_DATA_DIR"]))


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def upsert(db: Session, table: FromClause) -> Any:
    """An INSERT on `table` that takes ON CONFLICT (SQLite and PostgreSQL both spell it the
    same way in SQLAlchemy, but each needs its own dialect's construct)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def inserted(db: Session, statement: Any) -> bool:
    """Whether an INSERT … ON CONFLICT DO NOTHING made its row. Its rowcount cannot say:
    psycopg reports -1 for it, so a check on `rowcount == 1` passes on SQLite only."""
    return db.execute(statement.returning(literal_column("1"))).first() is not None


def create_tables(engine: Engine) -> None:
    """Create every table the imported models declare, straight from the models.

    For tests and throwaway databases only: a real database is made and changed by the
    migrations (`python -m bot migrate`, core/migrate.py), which a test keeps equal to this.
    """
    Base.metadata.create_all(engine)
