"""Waiting at start for a database that cannot be reached yet; SQLite files."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import exc

from hookline.storage.database import Database, DatabaseUnreachable, when_reachable


def outage() -> exc.OperationalError:
    cause = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    error = exc.OperationalError("SELECT 1", {}, cause)
    error.__cause__ = cause
    return error


async def test_tries_again_while_the_database_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def step() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise outage()
        return "up"

    with caplog.at_level(logging.WARNING, logger="hookline.storage.database"):
        result = await when_reachable(step, what="test", wait_s=5, first_pause_s=0.01)
    assert result == "up"
    assert calls == 3
    waits = [r for r in caplog.records if r.getMessage() == "database unreachable; trying again"]
    assert len(waits) == 2
    assert [r.__dict__["retry_in_s"] for r in waits] == [0.01, 0.02]


async def test_gives_up_after_the_wait_with_the_cause_in_one_line() -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        raise outage()

    with pytest.raises(DatabaseUnreachable) as raised:
        await when_reachable(step, what="test", wait_s=0.05, first_pause_s=0.01)
    assert calls >= 2
    assert str(raised.value) == "[Errno 111] Connect call failed ('127.0.0.1', 5432)"


async def test_other_errors_pass_through_at_once() -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        raise exc.IntegrityError("INSERT", {}, ValueError("duplicate key"))

    with pytest.raises(exc.IntegrityError):
        await when_reachable(step, what="test", wait_s=5, first_pause_s=0.01)
    assert calls == 1


async def test_sqlite_files_are_created_for_their_owner_only(tmp_path: Path) -> None:
    """The database, its write-ahead log and its shared memory hold password
    hashes and sealed secrets: 0600 whatever the umask lets through."""
    path = tmp_path / "hookline.db"
    db = Database(f"sqlite:///{path}")
    try:
        async with db.write() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        created = [path, tmp_path / "hookline.db-wal", tmp_path / "hookline.db-shm"]
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in created} == {
            p.name: 0o600 for p in created
        }
    finally:
        await db.dispose()
