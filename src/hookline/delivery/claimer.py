"""Claiming: finding due deliveries and leasing them to this worker, as far
as it has room. A search claims webhook by webhook; on PostgreSQL, the
deliveries a commit's NOTIFY names are leased by id in one statement."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from hookline.delivery import queue
from hookline.delivery.lanes import wait_for
from hookline.delivery.queue import Claimed
from hookline.delivery.room import Room
from hookline.services import Services
from hookline.storage.notify import listen_forever

log = logging.getLogger("hookline.worker")

CLAIM_LIMIT = 500
POLL_S = 1.0
CLAIM_GATHER_S = 0.02
MAX_BACKOFF_S = 10.0


class Claimer:
    def __init__(
        self,
        services: Services,
        owner: str,
        room: Room,
        accept: Callable[[Claimed], None],
        stopping: asyncio.Event,
    ) -> None:
        self.services = services
        self.owner = owner
        self.room = room
        self.accept = accept
        self.stopping = stopping
        # Deliveries (id -> webhook id) that notifications named as made due
        # and no claim has looked at yet (PostgreSQL).
        self.named: dict[UUID, UUID] = {}
        # Set while the LISTEN connection is up (PostgreSQL).
        self.listening = asyncio.Event()
        # The asyncpg connections that lease (PostgreSQL), while open: one
        # for searches, one planned for looking named deliveries up by key
        # (Database.connect_async_commits).
        self._leasing: dict[bool, Any] = {}

    async def run(self) -> None:
        backoff = 0.5
        wakeup = self.services.delivery_wakeup
        while not self.stopping.is_set():
            left = self.room.left()
            if left <= 0:
                self.room.freed.clear()
                await wait_for(self.room.freed, POLL_S)
                continue
            wakeup.clear()
            # A wake-up that only named deliveries leases those by id; any
            # other (a poll, this process's commits, room freed) searches.
            search = self.services.delivery_search or not self.named
            self.services.delivery_search = False
            named, self.named = self.named, {}
            limit = min(left, CLAIM_LIMIT)
            began = time.monotonic()
            try:
                if search:
                    claimed = await self._search(limit)
                else:
                    claimed = await self._lease_named(named, limit)
                backoff = 0.5
            except Exception:
                log.warning("claiming failed; retrying", exc_info=True)
                self.services.delivery_search = True
                await wait_for(self.stopping, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            for item in claimed:
                self.accept(item)
            hooks = {item.webhook.id: item.webhook.max_events_per_request for item in claimed}
            for hook, size in hooks.items():  # its room filled up: maybe more are due
                self.room.in_claim(hook, size)
            if len(claimed) < limit:
                await wait_for(wakeup, POLL_S)
                if len(claimed) > 1 and search:
                    # Commits are coming faster than one claim each: let them
                    # gather for as long as the claim took (up to a limit),
                    # so claiming takes at most about half the time and the
                    # write lock is not taken as often as the API takes it.
                    # At a lower rate each is claimed as soon as announced.
                    # Named deliveries (PostgreSQL; SQLite always searches)
                    # are leased by key, with no lock the API waits for:
                    # they never wait, since the wait also held back every
                    # delivery named meanwhile (p99 from answer to receipt
                    # 16-27 ms with it, 9-10 ms without, at 200 events/s).
                    took = time.monotonic() - began
                    await wait_for(self.stopping, min(took, CLAIM_GATHER_S))

    async def _search(self, limit: int) -> list[Claimed]:
        now = self.services.clock.now()
        lease_s = self.services.settings.delivery_lease_s
        if not self.services.db.is_sqlite:
            # Each lease a statement of its own on the leasing connection:
            # half the round trips of a transaction, which count when this
            # loop is also busy sending.
            return await self._on_leasing(
                lambda conn: queue.claim_pg(
                    conn,
                    owner=self.owner,
                    now=now,
                    lease_s=lease_s,
                    limit=limit,
                    room_for=self.room.in_claim,
                )
            )
        async with self.services.db.write(urgent=True) as conn:
            return await queue.claim(
                conn,
                owner=self.owner,
                now=now,
                lease_s=lease_s,
                limit=limit,
                room_for=self.room.in_claim,
                postgres=False,
            )

    async def _lease_named(self, named: dict[UUID, UUID], limit: int) -> list[Claimed]:
        """Lease named deliveries: one statement, on the leasing connection."""
        ids, overflow = self.room.admit_named(named, limit)
        if overflow:
            self.services.delivery_search = True
        if not ids:
            return []
        now = self.services.clock.now()
        lease_s = self.services.settings.delivery_lease_s
        return await self._on_leasing(
            lambda conn: queue.claim_named(conn, ids, owner=self.owner, now=now, lease_s=lease_s),
            by_key=True,
        )

    async def _on_leasing(
        self, lease: Callable[[Any], Awaitable[list[Claimed]]], *, by_key: bool = False
    ) -> list[Claimed]:
        """Run ``lease`` on a leasing connection (PostgreSQL), opened when
        first needed and kept: each statement on it is a transaction by
        itself, whose commit does not wait for the disk
        (Database.connect_async_commits). Closed when a lease fails, to be
        opened again by the next."""
        conn = self._leasing.get(by_key)
        if conn is None:
            conn = self._leasing[by_key] = await self.services.db.connect_async_commits(
                by_key=by_key
            )
        try:
            return await lease(conn)
        except BaseException:
            await self._close(by_key)
            raise

    async def _close(self, by_key: bool) -> None:
        conn = self._leasing.pop(by_key, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)

    async def close(self) -> None:
        for by_key in list(self._leasing):
            await self._close(by_key)

    async def listen(self) -> None:
        """LISTEN for commits that made deliveries due (PostgreSQL)."""

        def up() -> None:
            self.listening.set()
            self.services.wake_delivery()  # catch up on anything sent while not listening

        def heard(payload: str) -> None:
            pairs = queue.named_deliveries(payload)
            if pairs is None or len(self.named) >= CLAIM_LIMIT:
                # A search finds them all, however many.
                self.services.wake_delivery()
                return
            for hook, delivery_id in pairs:
                self.named[delivery_id] = hook
            self.services.delivery_wakeup.set()

        await listen_forever(
            self.services.db.url,
            queue.NOTIFY_CHANNEL,
            on_notify=heard,
            on_up=up,
            on_down=self.listening.clear,
            failure="listening for notifications failed; polling meanwhile",
        )
