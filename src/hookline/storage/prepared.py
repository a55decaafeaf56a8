"""Statements of the command path, compiled once and run on the driver.

SQLAlchemy spends far more per execution than SQLite does on the short
statements a command makes: it looks the statement up in its cache, builds an
execution context, fires events, wraps the cursor in a result, and crosses a
greenlet on each step. Measured in process on SQLite, a primary-key insert
costs about 15 µs in ``sqlite3`` and 150 µs through the async engine.

A ``Prepared`` statement is compiled by SQLAlchemy once per set of parameter
names (so the SQL and its type handling stay SQLAlchemy's), and then, where
the connection runs inline on the event loop (SQLite, see sqlite_driver), is
run by ``sqlite3`` directly with the same bind and result conversions; on
PostgreSQL, by the asyncpg adapter's cursor under SQLAlchemy's engine (its
prepared-statement cache and transaction handling, without the engine's
work per execution). Anywhere else (an SQLite connection on its thread, a
connection outside a transaction) it goes through SQLAlchemy unchanged, so
the result is the same on every path.

Driver errors become SQLAlchemy's, as they would through the engine."""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None


class _Compiled(NamedTuple):
    sql: str
    # Each positional parameter: its name, its value when the caller gives
    # none (a literal of the statement), and its conversion.
    binds: tuple[tuple[str, Any, Processor], ...]
    # Each result column's conversion, and the row type (attribute access).
    results: tuple[Processor, ...]
    row: type[tuple[Any, ...]] | None


class Prepared:
    """A Core statement run with the least work per execution."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def _compile(self, dialect: Dialect, names: frozenset[str]) -> _Compiled:
        key = (dialect.name, names)
        found = self._compiled.get(key)
        if found is not None:
            return found
        statement: Any = self.statement
        compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(names))
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise TypeError("a Prepared statement takes no expanding or literal parameters")
        defaults = compiled.construct_params(_check=False)
        processors = compiled._bind_processors
        order = compiled.positiontup or []
        binds = tuple((name, defaults.get(name), processors.get(name)) for name in order)
        results: tuple[Processor, ...] = ()
        row = None
        columns = getattr(compiled, "_result_columns", None)
        if columns:
            results = tuple(column[3]._cached_result_processor(dialect, None) for column in columns)
            row = _row_type(tuple(column[0] for column in columns))
        found = _Compiled(compiled.string, binds, results, row)
        self._compiled[key] = found
        return found

    async def all(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, each with attribute access by column name."""
        ran = await self._on_driver(conn, [params], many=False)
        if ran is None:
            return list((await conn.execute(self.statement, dict(params))).all())
        compiled, cursor = ran
        rows = cursor.fetchall()
        make, convert = compiled.row or tuple, compiled.results
        if not any(convert):
            return [make(*row) for row in rows]
        return [
            make(*(value if f is None else f(value) for f, value in zip(convert, row, strict=True)))
            for row in rows
        ]

    async def first(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Any | None:
        rows = await self.all(conn, params)
        return rows[0] if rows else None

    async def scalar(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Any:
        row = await self.first(conn, params)
        return None if row is None else row[0]

    async def run(self, conn: AsyncConnection, params: Mapping[str, Any]) -> int:
        """Run a statement that answers no rows; the number of rows it touched."""
        ran = await self._on_driver(conn, [params], many=False)
        if ran is None:
            return int((await conn.execute(self.statement, dict(params))).rowcount)
        return int(ran[1].rowcount)

    async def run_last(self, conn: AsyncConnection, params: Mapping[str, Any]) -> int:
        """``run`` for the last statement of a write transaction. On
        PostgreSQL, when no statement has run in the transaction yet, it is
        sent on its own, outside a transaction block, on a connection kept
        for such statements (see storage.statements): the server runs a
        single statement atomically and commits it at once, so BEGIN and
        COMMIT (two round trips) are not needed, nor a connection of the
        engine's. Nothing may run after it."""
        alone = getattr(conn, "statements", None)
        if alone is None or not getattr(conn, "idle", False):
            return await self.run(conn, params)
        compiled = self._compile(conn.engine.dialect, frozenset(params))
        return int(await alone.run(compiled.sql, _positional(compiled, params)))

    async def run_many(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per row (every row with the same names)."""
        if rows and await self._on_driver(conn, rows, many=True) is None:
            await conn.execute(self.statement, [dict(row) for row in rows])

    async def _on_driver(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], *, many: bool
    ) -> tuple[_Compiled, Any] | None:
        """Run on the driver: the compiled form and the cursor (sqlite3's or
        the asyncpg adapter's, both DB-API); None where only SQLAlchemy runs
        it (the caller then does)."""
        raw = await _inline(conn)
        adapted = None if raw is not None else _postgres(conn)
        if raw is None and adapted is None:
            return None
        compiled = self._compile(conn.dialect, frozenset(rows[0]))
        values = [_positional(compiled, row) for row in rows]
        if raw is None:
            cursor = await _pg_run(conn, adapted, compiled.sql, values if many else values[0], many)
            return compiled, cursor
        try:
            if many:
                return compiled, raw.executemany(compiled.sql, values)
            return compiled, raw.execute(compiled.sql, values[0])
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(compiled.sql, None, error, sqlite3.Error) from error


def _row_type(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    return namedtuple("Row", names, rename=True)


def _positional(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    values = []
    for name, default, convert in compiled.binds:
        value = params.get(name, default)
        values.append(value if convert is None or value is None else convert(value))
    return values


async def _inline(conn: AsyncConnection) -> sqlite3.Connection | None:
    """The sqlite3 connection under ``conn`` when its transaction has begun
    and its statements run inline on the loop; None otherwise."""
    begun = getattr(conn, "begun", None)
    if begun is not None:
        await begun()  # a lazy read begins at its first statement
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return None
    adapted: Any = sync.connection.dbapi_connection
    if not getattr(adapted, "inline", False):
        return None
    raw: sqlite3.Connection = adapted._connection._conn
    return raw if raw.in_transaction else None


def _postgres(conn: AsyncConnection) -> Any | None:
    """The asyncpg adapter under ``conn`` inside a transaction SQLAlchemy
    has begun (the adapter opens it on the server at its first statement,
    as for SQLAlchemy's own); None otherwise."""
    if conn.dialect.name != "postgresql":
        return None
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated or not sync.in_transaction():
        return None
    return sync.connection.dbapi_connection


async def _pg_run(conn: AsyncConnection, adapted: Any, sql: str, values: Any, many: bool) -> Any:
    """Run on the adapter's cursor; driver errors raised as SQLAlchemy's,
    a lost connection invalidated as the engine would."""
    cursor = adapted.cursor()
    try:
        if many:
            await cursor._executemany(sql, values)
        else:
            await cursor._prepare_and_execute(sql, values)
    except adapted.dbapi.Error as error:
        dialect = conn.dialect
        lost = dialect.is_disconnect(error, adapted, cursor)
        wrapped = exc.DBAPIError.instance(
            sql, None, error, dialect.loaded_dbapi.Error, connection_invalidated=lost
        )
        if lost:
            await conn.invalidate(error)
        raise wrapped from error
    return cursor
