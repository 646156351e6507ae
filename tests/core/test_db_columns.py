"""An older database (made before a column existed) gains the column when the app starts."""

from sqlalchemy import create_engine, inspect, text

from core.db import create_tables


def test_new_columns_are_added_to_an_existing_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE shop_categories (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE,"
            " position INTEGER)"
        ))
        connection.execute(text("INSERT INTO shop_categories (name, position) VALUES ('生鲜', 0)"))

    create_tables(engine)

    columns = {c["name"] for c in inspect(engine).get_columns("shop_categories")}
    assert "return_exception" in columns
    with engine.connect() as connection:
        row = connection.execute(text("SELECT name, return_exception FROM shop_categories")).one()
    assert tuple(row) == ("生鲜", "")
    create_tables(engine)  # and a second start changes nothing
