"""The delivery worker: claims due deliveries with a lease, sends them with
bounded concurrency (overall and per webhook), batches events for webhooks
that accept several per request, and records outcomes in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

import hookline
from hookline.delivery import render, signing, store
from hookline.delivery.sender import Outcome, Sender
from hookline.services import Services
from hookline.storage.notify import listen_forever
from hookline.webhooks.secrets import SecretUnavailable, unseal

log = logging.getLogger("hookline.worker")

CLAIM_LIMIT = 500
POLL_S = 1.0
CLAIM_GATHER_S = 0.02
# How long start() waits for the LISTEN connection before polling instead.
LISTEN_READY_S = 5.0
FLUSH_EVERY_S = 0.05
FLUSH_SIZE = 200
CLEANUP_EVERY_S = 3600.0
# Deliveries held per request slot of a webhook (times its batch size). The
# room frees only when outcomes are written (every FLUSH_EVERY_S), so this
# bounds one webhook's rate: 16 x 8 slots per 50 ms is about 2,500/s, above
# what one worker sends, while a dead webhook still takes at most a quarter
# of the worker's room.
HOLD_PER_SLOT = 16


def message_id(items: list[store.Claimed]) -> str:
    """``webhook-id``: the same for every retry and re-send of a message."""
    if len(items) == 1:
        return f"msg_{items[0].delivery_id.hex}"
    joined = ",".join(sorted(str(item.delivery_id) for item in items))
    return f"msg_{uuid.uuid5(uuid.NAMESPACE_URL, joined).hex}"


class Worker:
    """Runs delivery until stopped. ``start`` returns once the worker runs;
    ``stop`` stops claiming, lets requests in flight finish, gives back leases
    on what it has not sent, writes the last outcomes and returns."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.sender = Sender(self.settings)
        self.metrics = services.metrics
        self.held: dict[UUID, store.Claimed] = {}
        self.held_by_webhook: dict[UUID, int] = {}
        self.buffers: dict[UUID, list[store.Claimed]] = {}
        self.buffer_changed: dict[UUID, asyncio.Event] = {}
        self.pumps: dict[UUID, asyncio.Task[None]] = {}
        self.per_webhook: dict[UUID, asyncio.Semaphore] = {}
        self.overall = asyncio.Semaphore(self.settings.delivery_concurrency)
        self.sending: set[asyncio.Task[None]] = set()
        self.results: list[store.Result] = []
        self.unflushed: set[UUID] = set()
        self.results_ready = asyncio.Event()
        self.room = asyncio.Event()
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.max_held = max(2 * self.settings.delivery_concurrency, 200)
        self._secrets: dict[str, str] = {}
        # Set while the LISTEN connection is up (PostgreSQL).
        self.listening = asyncio.Event()
        # Webhooks (id -> max events per request) whose due deliveries stayed
        # in the database for want of room here: once outcomes free room for
        # one of them, claim again.
        self.short_of_room: dict[UUID, int] = {}
        # Deliveries (id -> webhook id) that notifications named as made due
        # and no claim has looked at yet (PostgreSQL).
        self.named: dict[UUID, UUID] = {}
        # Max events per request of each webhook held here.
        self.batch_sizes: dict[UUID, int] = {}
        # The asyncpg connection that leases named deliveries, while open.
        self._leasing: Any = None

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        async with self.services.db.read() as conn:
            await conn.exec_driver_sql("SELECT 1")
        listener = None
        if not self.services.db.is_sqlite:
            # Listen before the first claim: until then, a commit's NOTIFY
            # would be missed and its deliveries wait for the next poll.
            listener = asyncio.create_task(self._listen_loop())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LISTEN_READY_S):
                    await self.listening.wait()
        loops = [self._claim_loop(), self._flush_loop(), self._renew_loop(), self._cleanup_loop()]
        self.tasks = [asyncio.create_task(loop) for loop in loops]
        if listener is not None:
            self.tasks.append(listener)
        self.services.handoff = self
        log.info("worker started", extra={"owner": self.owner})

    async def stop(self) -> None:
        self.stopping.set()
        if self.services.handoff is self:
            self.services.handoff = None
        self.services.wake_delivery()
        claim_loop, *others = self.tasks
        with contextlib.suppress(asyncio.CancelledError):
            await claim_loop
        await self._close_leasing()
        for pump in list(self.pumps.values()):
            pump.cancel()
        await asyncio.gather(*self.pumps.values(), return_exceptions=True)
        if self.sending:
            await asyncio.wait(self.sending, timeout=self.settings.request_timeout_s + 5)
        unsent = [d for d in self.held if d not in self.unflushed]
        self.results_ready.set()
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self._flush()
        try:
            async with self.services.db.write(urgent=True) as conn:
                await store.release(conn, self.owner, unsent)
        except Exception:  # the leases expire by themselves
            log.warning("could not release leases at shutdown", exc_info=True)
        await self.sender.close()
        log.info("worker stopped", extra={"released": len(unsent)})

    # -- claiming -------------------------------------------------------------

    def room_for(self, webhook_id: UUID, max_events_per_request: int) -> int:
        """How many more deliveries of a webhook this worker may hold: enough
        to keep its request slots busy with full batches, and no more, so a
        slow webhook cannot take the room the others need."""
        per = HOLD_PER_SLOT * self.settings.delivery_concurrency_per_webhook
        return per * max_events_per_request - self.held_by_webhook.get(webhook_id, 0)

    async def _claim_loop(self) -> None:
        backoff = 0.5
        wakeup = self.services.delivery_wakeup
        while not self.stopping.is_set():
            room = self.max_held - len(self.held)
            if room <= 0:
                self.room.clear()
                await self._wait(self.room, POLL_S)
                continue
            wakeup.clear()
            # A wake-up that only named deliveries leases those by id; any
            # other (a poll, this process's commits, room freed) searches.
            search = self.services.delivery_search or not self.named
            self.services.delivery_search = False
            named, self.named = self.named, {}
            limit = min(room, CLAIM_LIMIT)
            began = time.monotonic()
            try:
                if search:
                    async with self.services.db.write(urgent=True) as conn:
                        claimed = await store.claim(
                            conn,
                            owner=self.owner,
                            now=self.services.clock.now(),
                            lease_s=self.settings.delivery_lease_s,
                            limit=limit,
                            room_for=self._room_in_claim,
                            postgres=not self.services.db.is_sqlite,
                        )
                else:
                    claimed = await self._claim_named(named, limit)
                backoff = 0.5
            except Exception:
                log.warning("claiming failed; retrying", exc_info=True)
                self.services.delivery_search = True
                await self._wait(self.stopping, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            for item in claimed:
                self._accept(item)
            hooks = {item.webhook.id: item.webhook.max_events_per_request for item in claimed}
            for hook, size in hooks.items():  # its room filled up: maybe more are due
                self._room_in_claim(hook, size)
            if len(claimed) < limit:
                await self._wait(wakeup, POLL_S)
                if len(claimed) > 1:
                    # Commits are coming faster than one claim each: let them
                    # gather for as long as the claim took (up to a limit),
                    # so claiming takes at most about half the time and the
                    # write lock is not taken as often as the API takes it.
                    # At a lower rate each is claimed as soon as announced.
                    took = time.monotonic() - began
                    await self._wait(self.stopping, min(took, CLAIM_GATHER_S))

    async def _claim_named(self, named: dict[UUID, UUID], limit: int) -> list[store.Claimed]:
        """Lease named deliveries: one statement, on a connection kept for
        it, whose commits do not wait for the disk (Database.connect_async_commits)."""
        ids = self._admit_named(named, limit)
        if not ids:
            return []
        if self._leasing is None:
            self._leasing = await self.services.db.connect_async_commits()
        try:
            return await store.claim_named(
                self._leasing,
                ids,
                owner=self.owner,
                now=self.services.clock.now(),
                lease_s=self.settings.delivery_lease_s,
            )
        except BaseException:
            await self._close_leasing()
            raise

    async def _close_leasing(self) -> None:
        leasing, self._leasing = self._leasing, None
        if leasing is not None:
            with contextlib.suppress(Exception):
                await leasing.close(timeout=5)

    def _admit_named(self, named: dict[UUID, UUID], limit: int) -> list[UUID]:
        """Which named deliveries to lease: up to ``limit``, and only as many
        of a webhook as it has room for here. The others stay in the
        database, for a search once there is room."""
        ids: list[UUID] = []
        taking: dict[UUID, int] = {}
        for delivery_id, hook in named.items():
            if len(ids) >= limit:
                self.services.delivery_search = True
                break
            size = self.batch_sizes.get(hook, 1)
            if self.room_for(hook, size) <= taking.get(hook, 0):
                self.short_of_room[hook] = size
                continue
            taking[hook] = taking.get(hook, 0) + 1
            ids.append(delivery_id)
        return ids

    def _room_in_claim(self, webhook_id: UUID, max_events_per_request: int) -> int:
        room = self.room_for(webhook_id, max_events_per_request)
        if room <= 0:
            self.short_of_room[webhook_id] = max_events_per_request
        return room

    @staticmethod
    async def _wait(event: asyncio.Event, timeout: float) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
        # cancellation that arrives as the event is set, and stop() would hang.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await event.wait()

    def _accept(self, item: store.Claimed) -> None:
        hook = item.webhook.id
        if item.delivery_id not in self.held:
            self.held_by_webhook[hook] = self.held_by_webhook.get(hook, 0) + 1
        self.batch_sizes[hook] = item.webhook.max_events_per_request
        self.held[item.delivery_id] = item
        self.buffers.setdefault(hook, []).append(item)
        self.buffer_changed.setdefault(hook, asyncio.Event()).set()
        pump = self.pumps.get(hook)
        if pump is None or pump.done():
            self.pumps[hook] = asyncio.create_task(self._pump(hook))

    def _let_go(self, delivery_id: UUID) -> None:
        item = self.held.pop(delivery_id, None)
        if item is not None:
            hook = item.webhook.id
            left = self.held_by_webhook.get(hook, 0) - 1
            if left > 0:
                self.held_by_webhook[hook] = left
            else:
                self.held_by_webhook.pop(hook, None)
                self.batch_sizes.pop(hook, None)

    # -- direct hand-off (this process's own commits) -------------------------

    def reserve(self, webhook_id: UUID, max_events_per_request: int) -> bool:
        if self.stopping.is_set():
            return False
        if (
            len(self.held) >= self.max_held
            or self.room_for(webhook_id, max_events_per_request) <= 0
        ):
            self.short_of_room[webhook_id] = max_events_per_request  # claimed later
            return False
        return True

    def take(self, items: list[store.Claimed]) -> None:
        """Deliveries the outbox leased to this worker in a transaction that
        has just committed: no claim needed. Once stopping, they are left to
        their lease, which runs out and lets them be claimed again."""
        if self.stopping.is_set():
            return
        for item in items:
            self._accept(item)

    # -- sending --------------------------------------------------------------

    async def _pump(self, hook: UUID) -> None:
        """Send a webhook's buffered deliveries, up to N per request, waiting up
        to the linger time for a batch to fill."""
        buffer = self.buffers[hook]
        changed = self.buffer_changed[hook]
        linger = self.settings.batch_linger_ms / 1000
        while buffer:
            webhook = buffer[0].webhook
            size = webhook.max_events_per_request
            if size > 1 and len(buffer) < size:
                deadline = time.monotonic() + linger
                while len(buffer) < size and time.monotonic() < deadline:
                    changed.clear()
                    await self._wait(changed, deadline - time.monotonic())
            limit = 1 if webhook.ordered else self.settings.delivery_concurrency_per_webhook
            gate = self.per_webhook.setdefault(hook, asyncio.Semaphore(limit))
            await gate.acquire()
            await self.overall.acquire()
            batch = buffer[:size]
            del buffer[:size]
            task = asyncio.create_task(self._send(batch, gate))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)
        self.pumps.pop(hook, None)

    def _secrets_for(self, webhook: store.WebhookRow) -> list[str]:
        key = self.settings.secret_key
        found = []
        for sealed in (webhook.secret_enc, webhook.previous_secret_enc):
            if sealed is None:
                continue
            if sealed == webhook.previous_secret_enc:
                expires = webhook.previous_secret_expires_at
                if expires is None or expires <= self.services.clock.now():
                    continue
            if sealed not in self._secrets:
                if len(self._secrets) > 10_000:
                    self._secrets.clear()
                self._secrets[sealed] = unseal(key, sealed)
            found.append(self._secrets[sealed])
        return found

    async def _send(self, items: list[store.Claimed], gate: asyncio.Semaphore) -> None:
        webhook = items[0].webhook
        self.metrics.in_flight += 1
        try:
            docs = [render.single_body(webhook.mtype, item.event) for item in items]
            if len(items) == 1 and webhook.max_events_per_request == 1:
                body = docs[0]
                event_name = items[0].event.name
            else:
                body = render.body(webhook.mtype, [i.event for i in items], batch=True)
                event_name = "batch"
            msg = message_id(items)
            stamp = int(time.time())
            headers = {
                "content-type": webhook.mtype,
                "user-agent": f"Hookline/{hookline.__version__}",
                "webhook-id": msg,
                "webhook-timestamp": str(stamp),
                "x-hookline-event": event_name,
            }
            sent_at = self.services.clock.now()
            try:
                secrets = self._secrets_for(webhook)
            except SecretUnavailable:
                secrets = []
            if secrets:
                headers["webhook-signature"] = signing.signature_header(secrets, msg, stamp, body)
                outcome = await self.sender.send(webhook.uri, body, headers, webhook.verify_ssl)
            else:
                outcome = Outcome(ok=False, error_code="secret-unavailable")
            self.metrics.observe(
                "success" if outcome.ok else (outcome.error_code or "error").split(":")[0],
                outcome.duration_ms / 1000,
            )
            self.results.append(
                store.Result(
                    items=items,
                    message_id=msg,
                    sent_at=sent_at,
                    url=webhook.uri,
                    request_headers=headers,
                    bodies=[d.decode() for d in docs],
                    ok=outcome.ok,
                    status=outcome.status,
                    response_headers=outcome.headers or None,
                    response_body=outcome.body,
                    duration_ms=outcome.duration_ms,
                    error_code=outcome.error_code,
                    retry_after_s=outcome.retry_after_s,
                )
            )
            self.unflushed.update(item.delivery_id for item in items)
            if len(self.results) >= FLUSH_SIZE:
                self.results_ready.set()
        finally:
            self.metrics.in_flight -= 1
            gate.release()
            self.overall.release()

    # -- recording ------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await self._wait(self.results_ready, FLUSH_EVERY_S)
            self.results_ready.clear()
            await self._flush()

    async def _flush(self) -> None:
        if not self.results:
            return
        results, self.results = self.results, []
        try:
            async with self.services.db.write(urgent=True) as conn:
                disabled = await store.record(
                    conn, self.settings, results, self.services.clock.now()
                )
        except Exception:
            log.warning("recording outcomes failed; retrying", exc_info=True)
            self.results[:0] = results
            await asyncio.sleep(0.5)
            return
        for result in results:
            for item in result.items:
                self._let_go(item.delivery_id)
                self.unflushed.discard(item.delivery_id)
        if disabled:
            log.info("webhooks disabled by errors", extra={"webhooks": [str(d) for d in disabled]})
            self._drop_buffered(set(disabled))
        self.room.set()
        # Claim again only when something may wait for this: deliveries left
        # behind for want of room that now has room, or an ordered webhook's
        # next one. Otherwise a claim after every write of outcomes would find
        # nothing (commands hand their deliveries straight over; a dead
        # endpoint's webhook stays full) yet hold the write lock.
        freed = []
        if len(self.held) < self.max_held:
            freed = [h for h, size in self.short_of_room.items() if self.room_for(h, size) > 0]
        for hook in freed:
            del self.short_of_room[hook]
        if freed or any(r.items[0].webhook.ordered for r in results):
            self.services.wake_delivery()

    def _drop_buffered(self, hooks: set[UUID]) -> None:
        """Deliveries of a webhook just disabled are paused in the database;
        forget the copies waiting here."""
        for hook in hooks:
            for item in self.buffers.get(hook, []):
                self._let_go(item.delivery_id)
            self.buffers.get(hook, []).clear()

    # -- leases, cleanup, notifications ---------------------------------------

    async def _renew_loop(self) -> None:
        every = max(self.settings.delivery_lease_s / 3, 0.2)
        while True:
            await asyncio.sleep(every)
            ids = list(self.held)
            if not ids:
                continue
            until = self.services.clock.now() + timedelta(seconds=self.settings.delivery_lease_s)
            try:
                async with self.services.db.write(urgent=True) as conn:
                    for start in range(0, len(ids), 500):
                        await store.renew(conn, self.owner, ids[start : start + 500], until)
            except Exception:
                log.warning("renewing leases failed", exc_info=True)

    async def _cleanup_loop(self) -> None:
        await asyncio.sleep(60)
        while True:
            try:
                async with self.services.db.write(urgent=True, bulk=True) as conn:
                    removed = await store.clean_up(conn, self.settings, self.services.clock.now())
                if removed:
                    log.info("old delivery history removed", extra={"attempts": removed})
            except Exception:
                log.warning("cleaning up history failed", exc_info=True)
            await asyncio.sleep(CLEANUP_EVERY_S)

    async def _listen_loop(self) -> None:
        """LISTEN for commits that made deliveries due (PostgreSQL)."""
        from hookline.events.outbox import NOTIFY_CHANNEL, named_deliveries

        def up() -> None:
            self.listening.set()
            self.services.wake_delivery()  # catch up on anything sent while not listening

        def heard(payload: str) -> None:
            pairs = named_deliveries(payload)
            if pairs is None or len(self.named) >= CLAIM_LIMIT:
                # A search finds them all, however many.
                self.services.wake_delivery()
                return
            for hook, delivery_id in pairs:
                self.named[delivery_id] = hook
            self.services.delivery_wakeup.set()

        await listen_forever(
            self.services.db.url,
            NOTIFY_CHANNEL,
            on_notify=heard,
            on_up=up,
            on_down=self.listening.clear,
            failure="listening for notifications failed; polling meanwhile",
        )
