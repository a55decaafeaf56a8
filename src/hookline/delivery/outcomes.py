"""The outcome writer: results of requests gathered in memory and written in
one transaction every 50 ms (or sooner when many wait). On PostgreSQL,
results that all succeeded (the usual case) are one statement on a
connection of the writer's own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from hookline.auth.cache import identity_changed
from hookline.delivery import queue
from hookline.delivery.lanes import wait_for
from hookline.delivery.queue import Result
from hookline.services import Services

log = logging.getLogger("hookline.worker")

FLUSH_EVERY_S = 0.05
FLUSH_SIZE = 200
RETRY_WRITE_S = 0.5

Written = Callable[[list[Result], list[UUID]], None]


class OutcomeWriter:
    def __init__(
        self, services: Services, written: Written, *, flush_size: int = FLUSH_SIZE
    ) -> None:
        self.services = services
        # Results that make a write due at once, before the 50 ms are up.
        self.flush_size = max(1, flush_size)
        # Called with what was written and the webhooks that disabled.
        self.written = written
        self.results: list[Result] = []
        # Deliveries whose outcome is known but not written yet.
        self.unwritten: set[UUID] = set()
        self.ready = asyncio.Event()
        # PostgreSQL: the connection record_sent runs on, while open.
        self._statements: Any = None

    def add(self, result: Result) -> None:
        self.results.append(result)
        self.unwritten.update(item.delivery_id for item in result.items)
        if len(self.results) >= self.flush_size:
            self.ready.set()

    async def run(self) -> None:
        while True:
            await wait_for(self.ready, FLUSH_EVERY_S)
            self.ready.clear()
            await self.flush()

    async def flush(self) -> None:
        if not self.results:
            return
        results, self.results = self.results, []
        after: list[Callable[[], None]] = []
        disabled: list[UUID] = []
        try:
            if not self.services.db.is_sqlite and queue.all_sent(results):
                await self._record_sent(results)
            else:
                disabled = await self._record(results, after)
        except Exception:
            log.warning("recording outcomes failed; retrying", exc_info=True)
            self.results[:0] = results
            await asyncio.sleep(RETRY_WRITE_S)
            return
        for callback in after:
            callback()
        for result in results:
            for item in result.items:
                self.unwritten.discard(item.delivery_id)
        self.written(results, disabled)

    async def _record(self, results: list[Result], after: list[Callable[[], None]]) -> list[UUID]:
        settings = self.services.settings
        async with self.services.db.write(urgent=True) as conn:
            disabled = await queue.record(
                conn,
                results,
                self.services.clock.now(),
                schedule=settings.retry_schedule,
                disable_after=settings.disable_after_failures,
            )
            if disabled:
                # Events from now on hold their deliveries for these.
                await identity_changed(self.services.identity_cache, conn, after)
        return disabled

    async def _record_sent(self, results: list[Result]) -> None:
        if self._statements is None:
            self._statements = await self.services.db.connect_statements()
        try:
            await queue.record_sent(self._statements, results, self.services.clock.now())
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        statements, self._statements = self._statements, None
        if statements is not None:
            with contextlib.suppress(Exception):
                await statements.close(timeout=5)
