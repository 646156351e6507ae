"""The schema is made and changed by migrations, once, however many processes start together.

On SQLite, and on PostgreSQL where TEST_DATABASE_URL names a server (each test there gets a
database of its own, created and dropped around it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from bot.cli import cli
from core import migrate
from core.db import make_engine
from core.storage import make_storage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    server = os.environ.get("TEST_DATABASE_URL", "")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_fresh_database_is_migrated_to_exactly_what_the_models_declare(empty_database):
    engine = make_engine(empty_database)
    assert migrate.current(engine) is None
    before, after = migrate.upgrade(engine)
    assert (before, after) == (None, migrate.head())
    # autogenerate finds nothing to add: a model changed without a migration fails here
    assert migrate.pending_model_changes(engine) == []
    assert migrate.upgrade(engine) == (after, after)  # and a second run changes nothing
    engine.dispose()


def test_processes_only_check_the_schema_and_name_the_step_that_is_missing(tmp_path):
    with pytest.raises(migrate.SchemaNotReady, match=r"python -m bot migrate"):
        make_storage({"BOT_DATA_DIR": str(tmp_path)})
    assert not inspect(make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")).get_table_names()


def test_a_shell_command_on_an_unmigrated_database_says_so_in_one_line(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["users", "list"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: the database has no schema yet, the code needs {migrate.head()}: "
        "run `python -m bot migrate` first"
    ]


def test_many_migrators_starting_at_once_all_succeed(empty_database, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_"))}
    env.update(DATABASE_URL=empty_database, BOT_DATA_DIR=str(tmp_path))
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "migrate"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, outputs
    migrated = [out for out in outputs if "migrated from nothing" in out]
    assert len(migrated) == 1, outputs  # one did the work; the others found it done
    engine = make_engine(empty_database)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()


def test_a_database_made_before_migrations_is_adopted_with_its_rows(tmp_path):
    """The tables an older release created at start: the baseline adds what they lack."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE shop_categories (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE,"
            " position INTEGER)"
        ))
        connection.execute(text("INSERT INTO shop_categories (name, position) VALUES ('生鲜', 0)"))

    assert migrate.upgrade(engine) == (None, migrate.head())

    columns = {c["name"] for c in inspect(engine).get_columns("shop_categories")}
    assert "return_exception" in columns
    with engine.connect() as connection:
        row = connection.execute(text("SELECT name, return_exception FROM shop_categories")).one()
    assert tuple(row) == ("生鲜", "")
    assert "shop_orders" in inspect(engine).get_table_names()  # the missing tables are made
    engine.dispose()


def test_each_revision_upgrades_a_database_with_rows_in_it(empty_database):
    """From the first revision to head, on a database that already holds an order."""
    from alembic import command

    engine = make_engine(empty_database)
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0001_baseline")
        connection.execute(text(
            "INSERT INTO shop_orders (number, openid, state, total_fen, address, created_at,"
            " pay_by, tracking_no) VALUES ('2026120400001', 'o1', 'paid', 6800, '{}',"
            " '2026-12-04 08:00:00', '2026-12-04 08:30:00', '')"
        ))
    assert migrate.upgrade(engine) == ("0001_baseline", migrate.head())
    with engine.connect() as connection:
        row = connection.execute(text("SELECT number, checkout_key FROM shop_orders")).one()
    assert tuple(row) == ("2026120400001", None)
    assert migrate.pending_model_changes(engine) == []
    engine.dispose()


def test_promotions_keep_each_customers_points_and_when_orders_were_paid(empty_database):
    """0005: a paid order's points become an `earn` entry a refund can take back, its payment
    time is read from its events, and old points are dated so none expire at once."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy.orm import Session

    from promotions import points

    engine = make_engine(empty_database)
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0004_payment_announced")
        for number, state, total, paid in (("1", "paid", 25_880, "2026-11-30 02:00:00"),
                                           ("2", "completed", 9_900, "2020-05-01 02:00:00"),
                                           ("3", "refunded", 50_000, "2026-11-01 02:00:00"),
                                           ("4", "pending_payment", 7_700, None)):
            order_id = connection.execute(text(
                "INSERT INTO shop_orders (number, openid, state, total_fen, address, created_at,"
                " pay_by, tracking_no) VALUES (:number, 'o1', :state, :total, '{}',"
                " '2026-11-01 01:00:00', '2026-11-01 01:30:00', '') RETURNING id"),
                {"number": number, "state": state, "total": total}).scalar_one()
            if paid:
                connection.execute(text(
                    "INSERT INTO shop_order_events (order_id, at, from_state, to_state, actor,"
                    " note) VALUES (:id, :at, 'pending_payment', 'paid', 'wxpay', '')"),
                    {"id": order_id, "at": paid})
    migrate.upgrade(engine)
    now = datetime(2026, 12, 4, tzinfo=UTC)
    with Session(engine) as db:
        assert points.balance(db, "o1", now) == 258 + 99  # the refunded order gave none back
        kinds = [(entry.kind, entry.points) for entry in points.history(db, "o1")]
        assert sorted(kinds) == [("earn", 99), ("earn", 258)]
        paid_at = dict(db.execute(text("SELECT number, paid_at FROM shop_orders")).all())
    assert paid_at["4"] is None and str(paid_at["1"]).startswith("2026-11-30 02:00")
    assert migrate.pending_model_changes(engine) == []
    engine.dispose()
