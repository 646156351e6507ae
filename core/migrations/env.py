"""Alembic's environment: always handed a connection by core.migrate (no alembic.ini, no URL).

The caller imports every model first (bot.domains.build_registry), so Base.metadata is whole;
this package may not import the domains itself (it sits at the bottom of the layers).
"""

from __future__ import annotations

from alembic import context

from core.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python -m bot migrate`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
