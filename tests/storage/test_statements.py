"""Statements alone on kept asyncpg connections (storage.statements): their
errors are the engine's, a broken connection is never kept, and callers
wait for a free one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import exc

from hookline.storage.database import Database, asyncpg_dsn, is_database_outage
from hookline.storage.statements import StatementPool

pytestmark = pytest.mark.postgres

CREATE = "CREATE TABLE t (id int PRIMARY KEY)"
INSERT = "INSERT INTO t (id) VALUES ($1)"


@pytest.fixture
async def pool(postgres_url: str) -> AsyncIterator[StatementPool]:
    db = Database(postgres_url)
    statements = StatementPool(asyncpg_dsn(db.url), 1, db.engine.dialect)
    await statements.run(CREATE, [])
    try:
        yield statements
    finally:
        await statements.close()
        await db.dispose()


async def _backend(pool: StatementPool) -> int:
    """The server process of the pool's one idle connection."""
    (conn,) = pool._idle
    return int(conn.get_server_pid())


async def test_rows_touched_and_a_refused_statement_as_the_engine_raises_it(
    pool: StatementPool,
) -> None:
    assert await pool.run(INSERT, [1]) == 1
    assert await pool.run("UPDATE t SET id = id + 1 WHERE id > $1", [5]) == 0
    pid = await _backend(pool)
    with pytest.raises(exc.IntegrityError) as raised:
        await pool.run(INSERT, [1])
    assert not is_database_outage(raised.value)
    # The connection stays: a refused statement leaves nothing open on it.
    assert await _backend(pool) == pid
    assert await pool.run(INSERT, [2]) == 1


async def test_a_connection_the_server_closed_is_an_outage_and_is_replaced(
    pool: StatementPool, postgres_url: str
) -> None:
    await pool.run(INSERT, [1])
    pid = await _backend(pool)
    admin = await asyncpg.connect(asyncpg_dsn(Database(postgres_url).url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)
    with pytest.raises(exc.DBAPIError) as raised:
        await pool.run(INSERT, [2])
    assert is_database_outage(raised.value)
    assert pool._idle == []
    assert await pool.run(INSERT, [2]) == 1
    assert await _backend(pool) != pid


async def test_a_cancelled_statement_drops_its_connection_and_frees_its_place(
    pool: StatementPool,
) -> None:
    await pool.run(INSERT, [1])
    slow = asyncio.ensure_future(pool.run("SELECT pg_sleep(5)", []))
    await asyncio.sleep(0.2)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert pool._idle == []
    # The pool holds one connection: a place left taken would hang here.
    assert await asyncio.wait_for(pool.run(INSERT, [2]), 5) == 1


async def test_callers_wait_for_a_free_connection(pool: StatementPool) -> None:
    touched = await asyncio.gather(*(pool.run(INSERT, [n]) for n in range(10)))
    assert touched == [1] * 10
    assert len(pool._idle) == 1
