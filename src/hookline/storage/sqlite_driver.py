"""SQLite for asyncio with one thread hop per statement, or none.

aiosqlite runs each SQLite connection in a thread of its own, and
SQLAlchemy's adapter for it crosses to that thread four times per statement
(open a cursor, execute, fetch, close). Every crossing wakes the event loop, so
on a small machine a primary-key lookup spent far more time in hand-offs than
in SQLite. This adapter does the whole statement (execute, fetch every row,
close) in one call on the connection's thread and hands back the rows, which
is what the aiosqlite adapter ends up holding anyway for a non-streaming
cursor. Everything else (connecting, commit, rollback, streaming cursors)
is aiosqlite's, unchanged.

A connection can also run *inline*: statements, commit and rollback on the
event loop's own thread, no hop at all. ``Database.write`` uses that for the
short write transactions of commands and of the delivery worker. SQLite has
one writer at a time, so the time a write transaction holds the write lock
bounds how many commands a second the service records; each hop gave every
other task on the loop a turn while the lock stayed held, and doing those
statements inline doubled the commands recorded per second on a 2-core
machine. Three guards keep the loop from blocking for long: ``BEGIN`` never
waits inline for another process's write lock (busy, it goes through the
thread with the usual timeout), automatic WAL checkpoints are off (the
database runs them through the thread, see ``Database``), and transactions
that may touch many rows (bulk deletes, clean-up) do not run inline.

Selected by the URL scheme ``sqlite+hookline://``; ``Database`` uses it for
every SQLite URL."""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_

DRIVER = "hookline"

# How long a statement waits for another connection's lock, off the loop.
BUSY_TIMEOUT_MS = 30_000

# What one statement leaves behind: description, rows, rowcount, lastrowid.
_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """The statement from start to finish, on the connection's thread (or
    inline, on the loop's)."""
    cursor: sqlite3.Cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def begin_without_waiting(adapted: OneHopConnection, operation: str) -> bool:
    """Try ``BEGIN`` on the loop without waiting for a lock another process
    holds; False when it would have to wait. The connection is left with no
    busy timeout (it is restored before the next statement that runs on the
    thread), so a run of inline transactions sets it once."""
    connection: sqlite3.Connection = adapted._connection._conn
    if not adapted.impatient:
        connection.execute("PRAGMA busy_timeout = 0")
        adapted.impatient = True
    try:
        connection.execute(operation)
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return False
        raise
    return True


def _patient(adapted: OneHopConnection) -> None:
    """Give the connection back its busy timeout, for a statement that runs
    on the thread and may wait there for another process's lock."""
    if adapted.impatient:
        adapted._connection._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        adapted.impatient = False


class OneHopCursor(AsyncAdapt_dbapi_cursor):
    """A buffered DB-API cursor whose ``execute`` is a single trip to the
    connection's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._rows: collections.deque[Any] = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        # The SQLite cursor is closed already, on its thread.
        return

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._go(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._go(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _go(self, operation: str, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        if self._adapt_connection.inline:  # type: ignore[attr-defined]
            # A deferred BEGIN takes no lock: only BEGIN IMMEDIATE may wait.
            if not operation.startswith("BEGIN IMMEDIATE"):
                self._keep(_run(connection, operation, parameters, many))
                return
            if begin_without_waiting(self._adapt_connection, operation):  # type: ignore[arg-type]
                self._keep((None, [], -1, None))
                return
        _patient(self._adapt_connection)  # type: ignore[arg-type]
        async with self._adapt_connection._execute_mutex:
            outcome = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection, operation, parameters, many
            )
        self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("impatient", "inline")
    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        # Set by Database for the length of a short transaction.
        self.inline = False
        # Whether the busy timeout is off (see begin_without_waiting).
        self.impatient = False

    def begin_inline(self) -> None:
        """A deferred ``BEGIN`` on the loop (it never waits for a lock)."""
        try:
            self._connection._conn.execute("BEGIN")
        except Exception as error:
            self._handle_exception(error)

    def commit(self) -> None:
        if self.inline:
            self._end_inline(self._connection._conn.commit)
        else:
            super().commit()

    def rollback(self) -> None:
        if self.inline:
            self._end_inline(self._connection._conn.rollback)
        else:
            super().rollback()

    def _end_inline(self, end: Callable[[], None]) -> None:
        try:
            end()
        except Exception as error:
            self._handle_exception(error)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


class SQLiteDialect_hookline(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:
        return OneHopDBAPI(aiosqlite, sqlite3)


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_hookline")
