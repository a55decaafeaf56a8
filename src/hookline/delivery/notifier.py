"""Telling delivery workers in other processes what commits made due
(PostgreSQL): after the commit, on a connection of the notifier's own,
gathering what commits of the moment made due into one statement.

A NOTIFY inside the command's transaction would cost the command a round
trip, and PostgreSQL lets one notifying transaction commit at a time (its
commit holds a lock while it waits for the disk): the commits of every
command raising an event would follow each other. Sent after the commit,
a notification costs the command nothing; if it is lost (the database
restarts, this process dies between the commit and the send), workers
find the deliveries at their next poll, as they do any they were not told
of: nothing is lost but a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from uuid import UUID

from hookline.delivery.queue import NAMED_MAX, NOTIFY_CHANNEL, name_deliveries
from hookline.storage.database import Database

log = logging.getLogger("hookline.queue")

# One statement, one notification per payload.
_NOTIFY_ALL = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload"


class Notifier:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.named: list[tuple[UUID, UUID]] = []
        self.search = False
        self.ready = asyncio.Event()
        self.sent = 0  # statements sent, for tests and metrics
        self._conn: Any = None
        self._sending = False
        self._task: asyncio.Task[None] | None = None

    def tell(self, named: list[tuple[UUID, UUID]] | None) -> None:
        """Deliveries a commit made due: (webhook, delivery) pairs, or None
        when workers should search for what is due."""
        if named is None:
            self.search = True
        else:
            self.named.extend(named)
        self.ready.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="notify")
            self._task.add_done_callback(_report)

    def payloads(self) -> list[str]:
        """What is to be sent, taken: an empty payload (search) says all."""
        named, self.named = self.named, []
        search, self.search = self.search, False
        if search:
            return [""]
        return [
            name_deliveries(named[start : start + NAMED_MAX])
            for start in range(0, len(named), NAMED_MAX)
        ]

    async def _run(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            payloads = self.payloads()
            if not payloads:
                continue
            self._sending = True
            try:
                if self._conn is None:
                    self._conn = await self.db.connect_async_commits()
                await self._conn.execute(_NOTIFY_ALL, NOTIFY_CHANNEL, payloads)
                self.sent += 1
            except Exception:
                log.warning(
                    "telling workers of new deliveries failed; they find them at their next poll",
                    exc_info=True,
                )
                await self._drop_connection()
            finally:
                self._sending = False

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)

    async def close(self) -> None:
        """Send what waits (for up to a second), then stop."""
        if self._task is not None:
            loop = asyncio.get_running_loop()
            until = loop.time() + 1.0
            while self._busy() and not self._task.done() and loop.time() < until:
                await asyncio.sleep(0.005)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drop_connection()

    def _busy(self) -> bool:
        return bool(self.named or self.search or self.ready.is_set() or self._sending)


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the notifier stopped", exc_info=task.exception())
