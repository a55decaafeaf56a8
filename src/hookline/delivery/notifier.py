"""Telling delivery workers in other processes what commits made due
(PostgreSQL), one of two ways:

- When notifications are few (none in the last ``QUIET_S``), the
  statement that writes a command's event and deliveries notifies too
  (``pg_notify`` in the same statement, see queue.enqueue): workers hear
  of them at the commit itself, before the command has answered, with no
  round trip added. At 200 events/s this took a round trip and a task's
  turn (0.5 ms at the median, 1-2 ms in the slowest hundredth) off the
  time from answer to receipt.
- Otherwise, after the commit, on a connection of the notifier's own,
  gathering what commits of the moment made due into one statement.
  PostgreSQL lets one notifying transaction commit at a time (its commit
  holds a lock while it waits for the disk): notified inside, the commits
  of every command raising an event would follow each other, where after
  the commit a notification costs the command nothing.

If a notification sent after the commit is lost (the database restarts,
this process dies between the commit and the send), workers find the
deliveries at their next poll, as they do any they were not told of:
nothing is lost but a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from typing import Any
from uuid import UUID

from hookline.delivery.queue import NAMED_MAX, NOTIFY_CHANNEL, name_deliveries
from hookline.storage.database import Database

log = logging.getLogger("hookline.queue")

# One statement, one notification per payload.
_NOTIFY_ALL = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload"
# How long after the last notification a command's own statement may
# notify: past 500 a second, commits would start to wait for each other.
QUIET_S = 0.002


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
        # When deliveries were last made due for other processes (monotonic).
        self._last = -math.inf
        self.in_commits = 0  # notifications sent by commands' statements

    def in_commit(self) -> bool:
        """Whether the statement about to write deliveries should notify
        itself: yes when no other notification is recent or waiting. It
        counts as one from now."""
        now = time.monotonic()
        quiet = now - self._last >= QUIET_S and not self._busy()
        self._last = now
        if quiet:
            self.in_commits += 1
        return quiet

    def tell(self, named: list[tuple[UUID, UUID]] | None) -> None:
        """Deliveries a commit made due: (webhook, delivery) pairs, or None
        when workers should search for what is due."""
        if named is None:
            self.search = True
        else:
            self.named.extend(named)
        self._last = time.monotonic()
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
