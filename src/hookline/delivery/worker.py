"""The delivery worker, put together from its parts: the claimer leases due
deliveries as far as the room allows, the lanes batch them and send them
within their request slots, the outcome writer records results, and a
supervisor sees that no background task fails unseen."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from uuid import UUID

from hookline.delivery import message, queue
from hookline.delivery.claimer import Claimer
from hookline.delivery.lanes import Lanes, wait_for
from hookline.delivery.outcomes import FLUSH_SIZE, OutcomeWriter
from hookline.delivery.queue import Claimed, Result
from hookline.delivery.room import Room
from hookline.delivery.sender import HttpSender, Outcome, Sender
from hookline.delivery.tasks import Supervisor
from hookline.services import Services
from hookline.webhooks.secrets import SecretUnavailable

log = logging.getLogger("hookline.worker")

# How long start() waits for the LISTEN connection before polling instead.
LISTEN_READY_S = 5.0
CLEANUP_EVERY_S = 3600.0
RENEW_BATCH = 500


class Worker:
    """Runs delivery until stopped. ``start`` returns once the worker runs;
    ``stop`` stops claiming, lets requests in flight finish, gives back leases
    on what it has not sent, writes the last outcomes and returns."""

    def __init__(self, services: Services, sender: Sender | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.sender: Sender = sender or HttpSender(self.settings)
        self.metrics = services.metrics
        self.stopping = asyncio.Event()
        self.supervisor = Supervisor(self.metrics)
        self.room = Room(self.settings)
        self.lanes = Lanes(self.settings, self._deliver, self.supervisor)
        # Room frees only when outcomes are written: writing once half of it
        # waits for that keeps the other half in flight meanwhile. (Were the
        # write due only when the room is full, each write and the claim
        # after it would find nothing left to send.)
        self.outcomes = OutcomeWriter(
            services, self._written, flush_size=min(FLUSH_SIZE, self.room.max_held // 2)
        )
        self.claimer = Claimer(services, self.owner, self.room, self._accept, self.stopping)
        self.keyring = message.Keyring(self.settings.secret_key)
        self._claiming: asyncio.Task[None] | None = None
        self._loops: list[asyncio.Task[None]] = []

    @property
    def held(self) -> dict[UUID, Claimed]:
        """The deliveries leased to this worker whose outcome is not written."""
        return self.room.held

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        async with self.services.db.read() as conn:
            await conn.exec_driver_sql("SELECT 1")
        keep = self.supervisor.keep_running
        if not self.services.db.is_sqlite:
            # Listen before the first claim: until then, a commit's NOTIFY
            # would be missed and its deliveries wait for the next poll.
            self._loops.append(keep(self.claimer.listen, "listen"))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LISTEN_READY_S):
                    await self.claimer.listening.wait()
        self._claiming = keep(self.claimer.run, "claim")
        self._loops += [
            keep(self.outcomes.run, "write-outcomes"),
            keep(self._renew_loop, "renew"),
            keep(self._cleanup_loop, "clean-up"),
        ]
        self.services.handoff = self
        log.info("worker started", extra={"owner": self.owner})

    async def stop(self) -> None:
        self.stopping.set()
        if self.services.handoff is self:
            self.services.handoff = None
        self.services.wake_delivery()
        if self._claiming is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._claiming
        await self.claimer.close()
        await self.lanes.stop(self.settings.request_timeout_s + 5)
        unsent = [d for d in self.room.held if d not in self.outcomes.unwritten]
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self.outcomes.flush()
        await self.outcomes.close()
        try:
            async with self.services.db.write(urgent=True) as conn:
                await queue.release(conn, self.owner, unsent)
        except Exception:  # the leases expire by themselves
            log.warning("could not release leases at shutdown", exc_info=True)
        await self.sender.close()
        log.info("worker stopped", extra={"released": len(unsent)})

    # -- taking deliveries ----------------------------------------------------

    def _accept(self, item: Claimed) -> None:
        self.room.admit(item)
        self.lanes.push(item)

    def reserve(self, webhook_id: UUID, max_events_per_request: int) -> bool:
        """Whether this worker takes one more delivery of this webhook straight
        from a command's transaction (see queue.enqueue)."""
        if self.stopping.is_set():
            return False
        return self.room.reserve(webhook_id, max_events_per_request)

    def take(self, items: list[Claimed]) -> None:
        """Deliveries leased to this worker in a transaction that has just
        committed: no claim needed. Once stopping, they are left to their
        lease, which runs out and lets them be claimed again."""
        if self.stopping.is_set():
            return
        for item in items:
            self._accept(item)

    # -- sending --------------------------------------------------------------

    async def _deliver(self, items: list[Claimed]) -> None:
        """Send one request carrying ``items`` and keep its outcome."""
        webhook = items[0].webhook
        sent_at = self.services.clock.now()
        self.metrics.in_flight += 1
        try:
            try:
                secrets = self.keyring.secrets_for(webhook, sent_at)
            except SecretUnavailable:
                secrets = []
            request = message.build(items, sent_at, secrets)
            if secrets:
                outcome = await self.sender.send(
                    webhook.uri, request.body, request.headers, webhook.verify_ssl
                )
            else:
                outcome = Outcome(ok=False, error_code="secret-unavailable")
        except Exception as error:
            # Never leave the deliveries held with no outcome: record the
            # failure, so they follow the retry schedule.
            self.supervisor.failed("send", error)
            request = message.Request(message.message_id(items), b"", {}, [""] * len(items))
            outcome = Outcome(ok=False, error_code="internal-error")
        finally:
            self.metrics.in_flight -= 1
        self.metrics.observe(
            "success" if outcome.ok else (outcome.error_code or "error").split(":")[0],
            outcome.duration_ms / 1000,
        )
        self.outcomes.add(
            Result(
                items=items,
                message_id=request.message_id,
                sent_at=sent_at,
                url=webhook.uri,
                request_headers=request.headers,
                bodies=request.documents,
                ok=outcome.ok,
                status=outcome.status,
                response_headers=outcome.headers or None,
                response_body=outcome.body,
                duration_ms=outcome.duration_ms,
                error_code=outcome.error_code,
                retry_after_s=outcome.retry_after_s,
            )
        )

    # -- after outcomes are written --------------------------------------------

    def _written(self, results: list[Result], disabled: list[UUID]) -> None:
        for result in results:
            for item in result.items:
                self.room.let_go(item.delivery_id)
        if disabled:
            log.info("webhooks disabled by errors", extra={"webhooks": [str(d) for d in disabled]})
            # Their deliveries are paused in the database; forget the copies
            # waiting here.
            for item in self.lanes.drop(set(disabled)):
                self.room.let_go(item.delivery_id)
        self.room.freed.set()
        # Claim again only when something may wait for this: deliveries left
        # behind for want of room that now has room, or an ordered webhook's
        # next one. Otherwise a claim after every write of outcomes would find
        # nothing (commands hand their deliveries straight over; a dead
        # endpoint's webhook stays full) yet hold the write lock.
        freed = self.room.take_freed()
        if freed or any(r.items[0].webhook.ordered for r in results):
            self.services.wake_delivery()

    # -- leases and history ----------------------------------------------------

    async def _renew_loop(self) -> None:
        every = max(self.settings.delivery_lease_s / 3, 0.2)
        while True:
            await asyncio.sleep(every)
            ids = list(self.room.held)
            if not ids:
                continue
            until = self.services.clock.now() + timedelta(seconds=self.settings.delivery_lease_s)
            try:
                async with self.services.db.write(urgent=True) as conn:
                    for start in range(0, len(ids), RENEW_BATCH):
                        await queue.renew(conn, self.owner, ids[start : start + RENEW_BATCH], until)
            except Exception:
                log.warning("renewing leases failed", exc_info=True)

    async def _cleanup_loop(self) -> None:
        await wait_for(self.stopping, 60)
        while not self.stopping.is_set():
            try:
                async with self.services.db.write(urgent=True, bulk=True) as conn:
                    removed = await queue.clean_up(
                        conn, self.settings.retention_days, self.services.clock.now()
                    )
                if removed:
                    log.info("old delivery history removed", extra={"attempts": removed})
            except Exception:
                log.warning("cleaning up history failed", exc_info=True)
            await wait_for(self.stopping, CLEANUP_EVERY_S)
