"""Statements that are transactions by themselves (PostgreSQL), on asyncpg
connections kept for them.

A command whose only statement is its last (create-project with a token:
its identity and its team's webhooks come from memory, its role check is
part of its insert; see storage.guarded) needs no transaction block, and no
SQLAlchemy connection either. Measured in one process against a local
server, the statement through the engine (a pool checkout, a transaction
object, the adapter's cursor) cost the client 280-360 µs of CPU, and alone
on a kept asyncpg connection 145-170 µs; asyncpg's own pool gives nothing
back either, as it resets each connection it takes back with a round trip
of its own.

These connections are kept as they are between statements: each statement
commits by itself (or fails by itself and leaves nothing open), so there is
nothing to reset. One that may be broken (lost, cancelled mid-statement) is
closed rather than kept. Errors are SQLAlchemy's, as the engine raises them,
so that callers handle both paths alike (a lost connection is a
``connection_invalidated`` error: see Database.is_database_outage)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import Dialect

# How long a statement waits for a free connection, as the engine's pool does.
WAIT_S = 30.0


class StatementPool:
    def __init__(self, dsn: str, size: int, dialect: Dialect) -> None:
        self.dsn = dsn
        self.dialect = dialect
        self._idle: list[asyncpg.Connection] = []
        self._free = asyncio.Semaphore(size)

    async def run(self, sql: str, values: Sequence[Any]) -> int:
        """Run ``sql`` (asyncpg's ``$n`` placeholders) as a transaction of
        its own: the number of rows it touched."""
        if self._free.locked():
            try:
                await asyncio.wait_for(self._free.acquire(), WAIT_S)
            except TimeoutError:
                raise exc.TimeoutError(
                    f"no database connection free for a statement in {WAIT_S:.0f} s"
                ) from None
        else:
            await self._free.acquire()
        conn: asyncpg.Connection | None = None
        try:
            conn = self._idle.pop() if self._idle else await self._connect(sql)
            try:
                status = await conn.execute(sql, *values)
            except asyncpg.PostgresError as error:
                # The server refused the statement: nothing is left open on
                # the connection, which stays, unless the server closed it
                # (shutting down).
                lost = conn.is_closed()
                if lost:
                    conn = None
                raise self._translated(sql, error, lost=lost) from error
            except Exception as error:
                broken, conn = conn, None
                broken.terminate()
                raise self._translated(sql, error, lost=True) from error
            except BaseException:
                # Cancelled mid-statement: what the server does with it is
                # unknown, so the connection goes.
                broken, conn = conn, None
                broken.terminate()
                raise
        finally:
            if conn is not None:
                self._idle.append(conn)
            self._free.release()
        return _rowcount(status)

    async def _connect(self, sql: str) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(self.dsn)
        except Exception as error:
            raise self._translated(sql, error, lost=True) from error

    def _translated(self, sql: str, error: Exception, *, lost: bool) -> exc.StatementError:
        """``error`` as the engine raises it: a DB-API error (IntegrityError
        and the like) wrapped in SQLAlchemy's."""
        dbapi: Any = self.dialect.loaded_dbapi
        if isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError):
            try:
                AsyncAdapt_asyncpg_connection._handle_exception_no_connection(dbapi, error)
            except dbapi.Error as translated:
                wrapped: exc.StatementError = exc.DBAPIError.instance(
                    sql, None, translated, dbapi.Error, connection_invalidated=lost
                )
                return wrapped
            except Exception:  # noqa: S110 - not one it maps: wrapped below
                pass
        return exc.OperationalError(sql, None, error, connection_invalidated=lost)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            try:
                await conn.close(timeout=5)
            except Exception:
                conn.terminate()


def _rowcount(status: str) -> int:
    """Rows touched, from a command tag: ``INSERT 0 1``, ``UPDATE 3``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
