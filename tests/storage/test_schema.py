"""The migrations build the schema tables.py describes, and claiming uses
the index made for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from hookline.clock import SystemClock
from hookline.delivery import queue
from hookline.settings import normalize_database_url
from hookline.storage import migrate, revision
from hookline.storage.database import Database
from hookline.storage.tables import metadata
from tests.seeding import seed_due_deliveries


async def test_the_migrations_build_what_tables_py_describes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    db = Database(url)
    await migrate.upgrade(db)
    await db.dispose()
    with create_engine(url).connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        stored = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master").all())
    assert _unexplained(differences, stored) == []


@pytest.mark.postgres
async def test_the_migrations_build_what_tables_py_describes_on_postgresql(
    postgres_url: str,
) -> None:
    engine = create_async_engine(normalize_database_url(postgres_url))
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


async def test_the_revision_known_without_alembic_is_alembics_head(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert heads == [revision.HEAD]
    db = Database(f"sqlite:///{tmp_path / 'head.db'}")
    try:
        assert not await revision.is_current(db)  # no schema yet
        await revision.upgrade(db)
        assert await revision.is_current(db)
    finally:
        await db.dispose()


def test_a_worker_that_does_not_migrate_never_loads_alembic() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hookline.cli, hookline.delivery.service, hookline.services; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _unexplained(differences: list[Any], stored: dict[str, str]) -> list[Any]:
    """The differences left once references SQLite cannot reflect are
    checked by hand. SQLite adds a reference to an existing table only with
    its column (``ADD COLUMN ... CONSTRAINT <name> REFERENCES``), and
    SQLAlchemy reads neither the name nor ``ON DELETE`` of such a one: it
    shows as one unnamed reference removed and the named one added. The
    pair is explained when the table's SQL holds the named one as declared."""
    inline = set()
    for kind, fk, *_ in differences:
        if kind != "add_fk" or len(fk.columns) != 1:
            continue
        column = next(iter(fk.columns))
        clause = (
            f"{column.name} CHAR(32) CONSTRAINT {fk.name} "
            f"REFERENCES {fk.referred_table.name} ({fk.elements[0].column.name}) "
            f"ON DELETE {fk.ondelete}"
        )
        if clause in stored[fk.table.name]:
            inline.add((fk.table.name, column.name, fk.referred_table.name))
    return [
        (kind, fk, *rest)
        for kind, fk, *rest in differences
        if kind not in ("add_fk", "remove_fk")
        or len(fk.columns) != 1
        or (fk.table.name, next(iter(fk.columns)).name, fk.referred_table.name) not in inline
        or (kind == "remove_fk" and fk.name is not None)
    ]


async def test_claiming_reads_its_partial_indexes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'claim.db'}"
    db = Database(url)
    await migrate.upgrade(db)
    now = SystemClock().now()
    await seed_due_deliveries(url, [now] * 3, each=5)
    plans: dict[str, str] = {}
    statements: list[str] = []
    try:
        async with db.write() as conn:
            # Every statement the connection runs, with its parameters in
            # place (claims run theirs on the driver, past SQLAlchemy's events).
            raw = conn.sync_connection.connection.dbapi_connection._connection._conn  # type: ignore[union-attr]
            raw.set_trace_callback(statements.append)
            taken = await queue.claim(
                conn,
                owner="test",
                now=now,
                lease_s=30,
                limit=10,
                postgres=False,
                room_for=lambda _hook, _n: 4,
            )
            raw.set_trace_callback(None)
            for statement in statements:
                kind = next((k for k in CLAIM_STATEMENTS if k in statement), None)
                if kind is not None:
                    rows = raw.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
                    plans[kind] = " | ".join(str(row[-1]) for row in rows)
    finally:
        await db.dispose()
    assert len(taken) == 10  # 4 + 4 + 2, each webhook capped by its room
    assert set(plans) == set(CLAIM_STATEMENTS), plans
    assert "ix_deliveries_unfinished" in plans["earlier.status"], plans
    # One probe per webhook, and each webhook's oldest due ones without a sort.
    assert "ix_deliveries_due" in plans["first_due"], plans
    per_webhook = plans["ORDER BY deliveries.next_attempt_at"]
    assert "ix_deliveries_due" in per_webhook and "TEMP B-TREE" not in per_webhook, per_webhook


# A fragment each of the statements a claim runs: the ordered webhooks'
# heads, the webhooks with due deliveries, and one webhook's oldest due ones.
CLAIM_STATEMENTS = ("earlier.status", "first_due", "ORDER BY deliveries.next_attempt_at")
