"""Batching and request slots: one lane per webhook holds its deliveries
waiting to go, and a pump sends them, up to the webhook's max events per
request at a time, within its own slots and the worker's overall ones."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from hookline.delivery.queue import Claimed
from hookline.delivery.tasks import Supervisor
from hookline.settings import Settings

Send = Callable[[list[Claimed]], Awaitable[None]]


async def wait_for(event: asyncio.Event, timeout: float) -> None:
    """Wait for ``event`` at most ``timeout`` seconds."""
    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
    # cancellation that arrives as the event is set, and stop() would hang.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(timeout, 0.0)):
            await event.wait()


class Lanes:
    def __init__(self, settings: Settings, send: Send, supervisor: Supervisor) -> None:
        self.send = send
        self.supervisor = supervisor
        self.linger_s = settings.batch_linger_ms / 1000
        self.per_webhook = settings.delivery_concurrency_per_webhook
        self.overall = asyncio.Semaphore(settings.delivery_concurrency)
        self.buffers: dict[UUID, list[Claimed]] = {}
        self.changed: dict[UUID, asyncio.Event] = {}
        self.gates: dict[UUID, asyncio.Semaphore] = {}
        self.pumps: dict[UUID, asyncio.Task[None]] = {}
        self.sending: set[asyncio.Task[None]] = set()

    def push(self, item: Claimed) -> None:
        hook = item.webhook.id
        self.buffers.setdefault(hook, []).append(item)
        self.changed.setdefault(hook, asyncio.Event()).set()
        pump = self.pumps.get(hook)
        if pump is None or pump.done():
            self.pumps[hook] = self.supervisor.spawn(self._pump(hook), f"pump:{hook}")

    def drop(self, hooks: set[UUID]) -> list[Claimed]:
        """Forget what waits to go for these webhooks; answers it."""
        dropped: list[Claimed] = []
        for hook in hooks:
            buffer = self.buffers.get(hook)
            if buffer:
                dropped.extend(buffer)
                buffer.clear()
        return dropped

    async def _pump(self, hook: UUID) -> None:
        """Send a webhook's buffered deliveries, up to N per request, waiting up
        to the linger time for a batch to fill."""
        buffer = self.buffers[hook]
        changed = self.changed[hook]
        try:
            while buffer:
                webhook = buffer[0].webhook
                size = webhook.max_events_per_request
                if size > 1 and len(buffer) < size:
                    deadline = time.monotonic() + self.linger_s
                    while len(buffer) < size and time.monotonic() < deadline:
                        changed.clear()
                        await wait_for(changed, deadline - time.monotonic())
                limit = 1 if webhook.ordered else self.per_webhook
                gate = self.gates.setdefault(hook, asyncio.Semaphore(limit))
                await self._acquire(gate)
                # The buffer may have been dropped while waiting for a slot.
                batch = buffer[:size]
                del buffer[:size]
                if not batch:
                    self._release(gate)
                    continue
                try:
                    task = self.supervisor.spawn(self._run(batch, gate), f"send:{hook}")
                except BaseException:
                    self._release(gate)
                    raise
                self.sending.add(task)
                task.add_done_callback(self.sending.discard)
        finally:
            if self.pumps.get(hook) is asyncio.current_task():
                del self.pumps[hook]

    async def _acquire(self, gate: asyncio.Semaphore) -> None:
        await gate.acquire()
        try:
            await self.overall.acquire()
        except BaseException:
            gate.release()
            raise

    def _release(self, gate: asyncio.Semaphore) -> None:
        gate.release()
        self.overall.release()

    async def _run(self, batch: list[Claimed], gate: asyncio.Semaphore) -> None:
        try:
            await self.send(batch)
        finally:
            self._release(gate)

    async def stop(self, finish_s: float) -> None:
        """Stop the pumps, and give requests in flight ``finish_s`` to end."""
        pumps = list(self.pumps.values())
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        if self.sending:
            await asyncio.wait(self.sending, timeout=finish_s)
