"""The migrations build the schema tables.py describes, and claiming uses
the index made for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event

from hookline.clock import SystemClock
from hookline.delivery import store
from hookline.storage import migrate
from hookline.storage.database import Database
from hookline.storage.tables import metadata


async def test_the_migrations_build_what_tables_py_describes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    db = Database(url)
    await migrate.upgrade(db)
    await db.dispose()
    with create_engine(url).connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


async def test_claiming_reads_its_partial_indexes(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'claim.db'}")
    await migrate.upgrade(db)
    plans: list[str] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("UPDATE deliveries SET lease_owner"):
            raw = conn.connection.dbapi_connection._connection._conn
            rows = raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            plans.append(" | ".join(str(row[-1]) for row in rows))

    event.listen(db.engine.sync_engine, "before_cursor_execute", explain)
    try:
        async with db.write() as conn:
            await store.claim(
                conn,
                owner="test",
                now=SystemClock().now(),
                lease_s=30,
                limit=10,
                skip_webhooks=set(),
                postgres=False,
            )
    finally:
        await db.dispose()
    unordered, heads = plans
    assert "ix_deliveries_due" in unordered and "TEMP B-TREE" not in unordered, unordered
    assert "ix_deliveries_unfinished" in heads, heads
