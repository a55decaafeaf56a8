"""SQLite statements: one hop to the driver's thread, or inline on the loop
for short write transactions, and never a blocked loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from hookline.storage import database as database_module
from hookline.storage.database import Database

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    handle = Database(f"sqlite:///{tmp_path / 'driver.db'}")
    async with handle.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield handle
    await handle.dispose()


def record_threads(engine: Engine) -> list[int]:
    """The thread each SQLite call of ``where_am_i()`` runs on."""
    threads: list[int] = []

    def where_am_i() -> int:
        threads.append(threading.get_ident())
        return 0

    @event.listens_for(engine, "connect")
    def _add(dbapi_connection: object, _record: object) -> None:
        sqlite_connection = dbapi_connection._connection._conn  # type: ignore[attr-defined]
        sqlite_connection.create_function("where_am_i", 0, where_am_i)

    return threads


async def test_short_transactions_run_inline_and_bulk_ones_on_the_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'threads.db'}")
    threads = record_threads(db.engine.sync_engine)
    try:
        loop_thread = threading.get_ident()
        async with db.write() as conn:
            await conn.execute(text("SELECT where_am_i()"))
        async with db.write(bulk=True) as conn:
            await conn.execute(text("SELECT where_am_i()"))
        async with db.read() as conn:
            await conn.execute(text("SELECT where_am_i()"))
        async with db.read(bulk=True) as conn:
            await conn.execute(text("SELECT where_am_i()"))
        assert threads[0] == loop_thread and threads[2] == loop_thread
        assert threads[1] != loop_thread and threads[3] != loop_thread
    finally:
        await db.dispose()


async def test_a_read_that_runs_no_statement_takes_no_connection(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'lazy.db'}")
    pool = db.engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    try:
        async with db.read():
            pass
        assert pool.checkedout() == 0 and pool.checkedin() == 0  # never connected
        async with db.read() as conn:
            assert (await conn.scalar(text("SELECT 1"))) == 1
        assert pool.checkedout() == 0 and pool.checkedin() == 1
    finally:
        await db.dispose()


async def test_an_inline_transaction_commits_and_rolls_back(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(insert(items).values(id=1))
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(insert(items).values(id=2))
            raise RuntimeError("the command failed")
    async with db.read() as conn:
        assert (await conn.scalars(select(items.c.id))).all() == [1]


async def test_a_lock_held_by_another_process_does_not_block_the_loop(
    db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with db.write() as conn:
            await conn.execute(insert(items).values(id=7))

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # waiting for the other writer...
    assert ticks >= 10  # ...on the driver's thread, while the loop runs on
    other.execute("COMMIT")
    other.close()
    async with asyncio.timeout(10):
        await writing
    ticking.cancel()
    async with db.read() as conn:
        assert await conn.scalar(select(items.c.id)) == 7


async def test_checkpoints_run_every_so_many_commits(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 5)
    checkpoints: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _seen(*args: object) -> None:
        if "wal_checkpoint" in str(args[2]):
            checkpoints.append(str(args[2]))

    for n in range(10):
        async with db.write() as conn:
            await conn.execute(insert(items).values(id=n))
        if db._checkpoint_task is not None:
            await db._checkpoint_task
    assert len(checkpoints) == 2
    assert all("PASSIVE" in sql for sql in checkpoints)  # the log is small
    # SQLite's own checkpoint inside a commit is off on every connection.
    async with db.read() as conn:
        assert await conn.scalar(text("PRAGMA wal_autocheckpoint")) == 0


async def test_the_log_starts_over_under_steady_writes_and_reads(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits keep landing while checkpoints copy, and readers keep
    snapshots open across awaits: the write-ahead log is still started over
    rather than growing by every commit."""
    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 20)
    monkeypatch.setattr(database_module, "RESTART_AFTER_FRAMES", 100)
    wal = tmp_path / "driver.db-wal"
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)"))
    stop = asyncio.Event()

    async def reader() -> None:
        while not stop.is_set():
            async with db.read() as conn:
                await conn.scalar(text("SELECT count(*) FROM blobs"))
                await asyncio.sleep(0)

    readers = [asyncio.create_task(reader()) for _ in range(3)]
    largest = 0
    try:
        for n in range(600):
            async with db.write() as conn:
                await conn.execute(
                    text("INSERT INTO blobs VALUES (:id, randomblob(3000))"), {"id": n}
                )
            largest = max(largest, wal.stat().st_size)
            await asyncio.sleep(0)  # as a server awaits its clients
    finally:
        stop.set()
        await asyncio.gather(*readers)
    # 600 commits of a page or two each: about 5 MB had the log only grown.
    assert largest < 1_500_000, largest
