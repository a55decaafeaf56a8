"""The database handle: one async engine for SQLite or PostgreSQL, with separate
read and write transactions so SQLite writers queue instead of failing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncTransaction,
    create_async_engine,
)

from hookline.settings import normalize_database_url
from hookline.storage import sqlite_driver

if TYPE_CHECKING:
    from hookline.storage.statements import StatementPool

log = logging.getLogger(__name__)

# Write transactions between two WAL checkpoints on SQLite (SQLite's own
# automatic checkpoint is at about 1,000 pages; a command writes a few).
CHECKPOINT_EVERY = 250
# Pages in the write-ahead log (64 MB of 4 KB pages) past which a checkpoint
# has the log started over, and how long it then waits for readers, holding
# writers back meanwhile.
RESTART_AFTER_FRAMES = 16_384
CHECKPOINT_WAIT_MS = 200
# Planner settings of the asyncpg connections whose statements look rows up
# by key in tables that grow from nothing between two analyses: nested loops
# over index lookups, whatever the statistics say (see connect_statements),
# in one plan per statement made without its parameters' values (planned
# for the values of a run, a lease by key picked a partial index whose
# condition those values met, and read all of it). A plan that has no other
# way than a disabled one (a small table without a fitting index, read in
# full) is costed past JIT compilation's threshold: compiling it took
# 200-400 ms a run, so JIT is off too.
INDEX_LOOKUPS_ONLY = {
    "enable_seqscan": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "jit": "off",
    "plan_cache_mode": "force_generic_plan",
}


class PriorityLock:
    """An asyncio lock whose urgent waiters are served before the others,
    each group first come, first served."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),
            deque(),
        )

    @asynccontextmanager
    async def held(self, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._locked and not any(self._waiters):
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiters[0 if urgent else 1]
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            else:
                queue.remove(waiter)
            raise

    def _release(self) -> None:
        for queue in self._waiters:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # ownership passes on; stays locked
                    return
        self._locked = False


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalize_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.engine: AsyncEngine = self._create_engine(pool_size)
        # The same pool, its connections marked for BEGIN IMMEDIATE (SQLite).
        self._writer = self.engine.execution_options(hookline_write=True)
        # One process writes to SQLite at a time anyway; queueing here keeps
        # writers from spinning on SQLITE_BUSY.
        self._write_lock = PriorityLock() if self.is_sqlite else None
        self._commits = 0
        self._checkpoint_task: asyncio.Task[None] | None = None
        # SQLite: the connection short write transactions use, kept open
        # (writers take turns anyway; see write).
        self._inline_writer: AsyncConnection | None = None
        # PostgreSQL: connections for a write whose only statement is its
        # last (see storage.statements), opened as they are needed.
        self.statements: StatementPool | None = None
        if not self.is_sqlite:
            from hookline.storage.statements import StatementPool

            self.statements = StatementPool(asyncpg_dsn(self.url), pool_size, self.engine.dialect)

    def _create_engine(self, pool_size: int) -> AsyncEngine:
        if not self.is_sqlite:
            # A fixed set of connections, kept: overflow connections were
            # opened and closed again under load (a TLS attempt and a login
            # per command), and a ping on every checkout cost a round trip.
            # A connection lost in a restart fails its one request with 503
            # (is_database_outage) and the pool replaces it.
            return create_async_engine(
                self.url, pool_size=pool_size * 2, max_overflow=0, pool_timeout=30
            )
        _create_private(make_url(self.url).database)
        # Every connection ends its transaction explicitly (read() and write()),
        # so the pool's extra rollback on check-in would only cost a round trip
        # to the driver's thread.
        engine = create_async_engine(
            self.url.replace("sqlite+aiosqlite://", f"sqlite+{sqlite_driver.DRIVER}://", 1),
            # Inline transactions use a connection from the loop's thread,
            # one caller at a time (see sqlite_driver).
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_reset_on_return=None,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
        )
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={sqlite_driver.BUSY_TIMEOUT_MS}")
            # Checkpoints run off the event loop (Database._checkpoint), not
            # inside whichever commit happens to cross the threshold.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("hookline_write", False)
            adapted = conn.connection.dbapi_connection
            if adapted._connection._conn.in_transaction:  # type: ignore[union-attr]
                # Begun on the driver already (Database.write): the first
                # statement through SQLAlchemy joins that transaction.
                return
            if not immediate and getattr(adapted, "inline", False):
                # A deferred BEGIN takes no lock and answers nothing: straight
                # to SQLite, without a statement's round through SQLAlchemy.
                adapted.begin_inline()  # type: ignore[union-attr]
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @asynccontextmanager
    async def write(
        self, *, urgent: bool = False, bulk: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A read-write transaction, committed when the block ends without error.
        On SQLite writers take turns; ``urgent`` ones (the delivery worker's short
        bookkeeping) go before queued API writes, so deliveries do not lag
        behind a burst of commands. A short transaction runs its statements
        inline on the event loop (see sqlite_driver); one that may touch
        many rows says ``bulk`` and runs them on the driver's thread."""
        if self._write_lock is None:
            # Begun at its first statement: a command whose only statement
            # is its last sends it alone, on a connection of ``statements``
            # (see Prepared.run_last), and takes none from the engine.
            lazy = LazyConnection(self.engine, inline=False, statements=self.statements)
            try:
                yield lazy
            except BaseException:
                await lazy.finish(commit=False)
                raise
            await lazy.finish(commit=True)
            return
        async with self._write_lock.held(urgent):
            if bulk:
                async with self._writer.connect() as conn, conn.begin():
                    yield conn
            else:
                async with self._inline_transaction() as conn:
                    yield conn
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and self._checkpoint_task is None:
            self._checkpoint_task = asyncio.create_task(self._checkpoint())

    @asynccontextmanager
    async def _inline_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A short SQLite write transaction on the kept writer connection,
        begun and ended on the driver, inline on the loop (see
        sqlite_driver): the statements a command runs as ``Prepared`` need
        no work from SQLAlchemy at all, and those it runs through SQLAlchemy
        join the transaction (the engine's begin hook sees it begun). The
        caller holds the write lock."""
        conn = self._inline_writer
        if conn is None or conn.closed or conn.invalidated:
            conn = self._inline_writer = await self._writer.connect()
        adapted = _adapted(conn)
        raw = adapted._connection._conn
        adapted.inline = True
        try:
            if not sqlite_driver.begin_without_waiting(adapted, "BEGIN IMMEDIATE"):
                # Another process holds the write lock: wait for it on the
                # driver's thread, through SQLAlchemy's begin.
                adapted.inline = False
                await conn.begin()
                adapted.inline = True
            try:
                yield conn
            except BaseException:
                await _end(conn, raw, commit=False)
                raise
            await _end(conn, raw, commit=True)
        except BaseException:
            if raw.in_transaction or conn.invalidated:
                # Left in a state no later write should inherit.
                self._inline_writer = None
                with contextlib.suppress(Exception):
                    await conn.close()
            raise
        finally:
            adapted.inline = False

    async def _checkpoint(self) -> None:
        """Copy the write-ahead log back into the database file, on the
        driver's thread; once the log holds more than RESTART_AFTER_FRAMES,
        also have the next writer start it over.

        A PASSIVE checkpoint never waits, and under steady load it never
        completes either (commits land while it copies), so the log was never
        started over: it grew by every commit of a busy hour (1.7 GB in a
        20,000-event run), and each commit appended to it, into new blocks
        the kernel first zeroes (a fifth of the process's time then). A
        RESTART checkpoint holds writers back while it copies what is left
        (they wait on the driver's thread, not on the event loop) and waits
        for readers to move on, up to CHECKPOINT_WAIT_MS: past that it gives
        up, having copied what it could, and a later checkpoint tries again.
        Started over, the log's file keeps its size, so later commits write
        into blocks it already has."""
        try:
            async with self.engine.connect() as conn:
                result = await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                row: Any = result.first()
                if row is None or row[1] <= RESTART_AFTER_FRAMES:
                    return
                await conn.exec_driver_sql(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
                try:
                    await conn.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)")
                finally:
                    await conn.exec_driver_sql(
                        f"PRAGMA busy_timeout = {sqlite_driver.BUSY_TIMEOUT_MS}"
                    )
        except Exception:
            log.warning("SQLite checkpoint failed; trying again later", exc_info=True)
        finally:
            self._checkpoint_task = None

    async def connect_async_commits(self, *, by_key: bool = False) -> Any:
        """An asyncpg connection of its own (PostgreSQL; the caller closes it)
        on which each statement is a transaction by itself, acknowledged
        without waiting for the disk: one round trip a statement, no flush,
        and none of SQLAlchemy's work per statement.

        Only for writes whose loss in a crash of the database costs a repeat,
        never data: the worker's leases. A lost lease leaves its delivery
        claimable again, to be sent a second time (at least once, as when a
        lease expires); later commits that wait for the disk take every
        earlier one with them.

        ``by_key``: for statements that look rows up by key only, planned as
        ``connect_statements``' are. Not for a search: one whose only way
        through a small table is a sequential scan is planned as if every
        way were as bad, and may walk a whole index instead."""
        settings = INDEX_LOOKUPS_ONLY if by_key else {}
        return await self._connect_asyncpg(synchronous_commit="off", **settings)

    async def connect_statements(self) -> Any:
        """An asyncpg connection of its own (PostgreSQL; the caller closes
        it) on which each statement is a transaction by itself, committed as
        any other: for a write that is one statement, one round trip where a
        transaction takes three (the outcomes of requests that succeeded).

        Its statements look rows up by key (the deliveries they name), in a
        table that may grow from nothing to millions of rows between two
        analyses: they are planned once, with nested loops over index
        lookups only (INDEX_LOOKUPS_ONLY). With the planner's usual choices,
        a plan kept from when the table was small (a hash join over a
        sequential scan) read the whole table at every run once it had
        grown; planning at every run instead chose the same hash join for
        batches of a few hundred, and cost the worker a seventh of its
        rate."""
        return await self._connect_asyncpg(**INDEX_LOOKUPS_ONLY)

    async def _connect_asyncpg(self, **server_settings: str) -> Any:
        if self.is_sqlite:
            raise RuntimeError("SQLite runs no statements outside a transaction here")
        import asyncpg

        return await asyncpg.connect(asyncpg_dsn(self.url), server_settings=server_settings)

    @asynccontextmanager
    async def read(self, *, bulk: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction for reading, begun at its first statement (a command
        that reads nothing, or finds all it needs in memory, opens none) and
        ended at the end of the block.

        On SQLite its statements run inline on the event loop (see
        sqlite_driver): in WAL mode a reader never waits for a lock, so the
        only time it holds the loop is the query's own, far less than a hop
        to the driver's thread for the lookups most commands make. A read
        that may scan many rows says ``bulk`` and runs on the thread."""
        conn = LazyConnection(self.engine, inline=self.is_sqlite and not bulk)
        try:
            yield conn
        finally:
            await conn.finish(commit=False)

    async def dispose(self) -> None:
        if self._checkpoint_task is not None:
            await self._checkpoint_task
        if self._inline_writer is not None:
            await self._inline_writer.close()
            self._inline_writer = None
        if self.statements is not None:
            await self.statements.close()
        await self.engine.dispose()


async def _end(conn: AsyncConnection, raw: sqlite3.Connection, *, commit: bool) -> None:
    """Commit or roll back an inline transaction: through SQLAlchemy when
    it took part (so it knows the transaction ended), else on the driver."""
    if conn.in_transaction():
        await (conn.commit() if commit else conn.rollback())
        return
    try:
        (raw.commit if commit else raw.rollback)()
    except sqlite3.Error as error:
        with contextlib.suppress(sqlite3.Error):
            raw.rollback()
        raise exc.DBAPIError.instance(
            "COMMIT" if commit else "ROLLBACK", None, error, sqlite3.Error
        ) from error


def _adapted(conn: AsyncConnection) -> Any:
    """The driver's connection under a started one, reached without a trip
    through a greenlet (get_raw_connection's cost, on every transaction)."""
    if conn.sync_connection is None:
        raise RuntimeError("the connection has not started")
    return conn.sync_connection.connection.dbapi_connection


class LazyConnection(AsyncConnection):
    """A transaction that takes a connection and begins only when its first
    statement runs (see Database.read and, on PostgreSQL, Database.write).
    Until then, ``statements`` (PostgreSQL writes) may run a last statement
    alone in its place (see Prepared.run_last)."""

    def __init__(
        self, engine: AsyncEngine, *, inline: bool, statements: StatementPool | None = None
    ) -> None:
        super().__init__(engine)
        self._inline = inline
        self._open: AsyncTransaction | None = None
        self.statements = statements

    @property
    def idle(self) -> bool:
        """Whether no statement has run in it (no connection is taken)."""
        return self._open is None

    async def begun(self) -> None:
        """Begin now, if the transaction has not begun yet."""
        if self._open is not None:
            return
        await self.start()
        if self._inline:
            adapted = _adapted(self)
            adapted.inline = True
        self._open = await self.begin().start()

    async def finish(self, *, commit: bool) -> None:
        """End the transaction, if one began (committed with ``commit``,
        else rolled back), and give the connection back."""
        self.statements = None
        if self.sync_connection is None:
            return
        try:
            if self._open is not None and self._open.is_active:
                await (self._open.commit() if commit else self._open.rollback())
        finally:
            if self._inline:
                adapted = _adapted(self)
                adapted.inline = False
            await self.close()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        await self.begun()
        return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        await self.begun()
        return await super().scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        await self.begun()
        return await super().scalars(*args, **kwargs)

    async def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        await self.begun()
        return await super().exec_driver_sql(*args, **kwargs)


def _create_private(path: str | None) -> None:
    """Create the SQLite file readable by its owner only (0600) if it is not
    there yet: it holds password hashes and sealed secrets. SQLite gives the
    write-ahead log and shared-memory files the mode of the database file, so
    they follow. An existing file keeps the mode it has; a file that cannot be
    created here (no such directory) is left for SQLite to report."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError:
        return


def asyncpg_dsn(url: str) -> str:
    """The URL as asyncpg takes it, without SQLAlchemy's driver name."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (restart,
    failover, network), as opposed to a bug or a constraint: the caller may
    answer 'try again' rather than 'internal error'."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(
        error,
        exc.OperationalError | exc.InterfaceError | exc.DisconnectionError | exc.TimeoutError,
    ):
        return True
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        if type(current).__module__.startswith("asyncpg") and (
            "Connection" in type(current).__name__ or "CannotConnectNow" in type(current).__name__
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


T = TypeVar("T")


class DatabaseUnreachable(Exception):
    """The database stayed unreachable for as long as a process waits at start."""


async def when_reachable(
    step: Callable[[], Awaitable[T]],
    *,
    what: str,
    wait_s: float,
    first_pause_s: float = 0.5,
    longest_pause_s: float = 5.0,
) -> T:
    """Run ``step`` (a process's first use of the database), again and again
    while the database cannot be reached, for up to ``wait_s`` seconds: a
    process started while the database restarts or boots waits for it instead
    of dying. Other errors pass through at once."""
    deadline = time.monotonic() + wait_s
    pause = first_pause_s
    while True:
        try:
            return await step()
        except Exception as error:
            if not is_database_outage(error):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise DatabaseUnreachable(_one_line(error)) from error
            log.warning(
                "database unreachable; trying again",
                extra={"step": what, "retry_in_s": round(min(pause, left), 2)},
            )
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, longest_pause_s)


def _one_line(error: BaseException) -> str:
    """The innermost cause's message, without SQLAlchemy's background link."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error).split("\n", 1)[0].strip()
    return text or type(error).__name__
