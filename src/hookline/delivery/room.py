"""How many deliveries a worker holds, per webhook and in all: enough to keep
each webhook's request slots busy with full batches, and no more, so a slow
webhook cannot take the room the others need."""

from __future__ import annotations

import asyncio
from uuid import UUID

from hookline.delivery.queue import Claimed
from hookline.settings import Settings

# Deliveries held per request slot of a webhook (times its batch size). The
# room frees only when outcomes are written (every 50 ms), so this bounds one
# webhook's rate: 16 x 8 slots per 50 ms is about 2,500/s, above what one
# worker sends, while a dead webhook still takes at most a quarter of the
# worker's room.
HOLD_PER_SLOT = 16


class Room:
    def __init__(self, settings: Settings) -> None:
        self.slots_per_webhook = settings.delivery_concurrency_per_webhook
        self.max_held = max(2 * settings.delivery_concurrency, 200)
        self.held: dict[UUID, Claimed] = {}
        self.by_webhook: dict[UUID, int] = {}
        # Max events per request of each webhook held here.
        self.batch_sizes: dict[UUID, int] = {}
        # Webhooks (id -> max events per request) whose due deliveries stayed
        # in the database for want of room here: once room frees for one of
        # them, claim again.
        self.short: dict[UUID, int] = {}
        # Set when outcomes free room.
        self.freed = asyncio.Event()

    def left(self) -> int:
        return self.max_held - len(self.held)

    def for_webhook(self, webhook_id: UUID, max_events_per_request: int) -> int:
        per = HOLD_PER_SLOT * self.slots_per_webhook
        return per * max_events_per_request - self.by_webhook.get(webhook_id, 0)

    def in_claim(self, webhook_id: UUID, max_events_per_request: int) -> int:
        """The room a claim may fill for a webhook; noted when there is none."""
        room = self.for_webhook(webhook_id, max_events_per_request)
        if room <= 0:
            self.short[webhook_id] = max_events_per_request
        return room

    def reserve(self, webhook_id: UUID, max_events_per_request: int) -> bool:
        """Whether one more delivery of this webhook fits now."""
        if self.left() <= 0 or self.for_webhook(webhook_id, max_events_per_request) <= 0:
            self.short[webhook_id] = max_events_per_request  # claimed later
            return False
        return True

    def admit(self, item: Claimed) -> None:
        hook = item.webhook.id
        if item.delivery_id not in self.held:
            self.by_webhook[hook] = self.by_webhook.get(hook, 0) + 1
        self.batch_sizes[hook] = item.webhook.max_events_per_request
        self.held[item.delivery_id] = item

    def let_go(self, delivery_id: UUID) -> None:
        item = self.held.pop(delivery_id, None)
        if item is None:
            return
        hook = item.webhook.id
        left = self.by_webhook.get(hook, 0) - 1
        if left > 0:
            self.by_webhook[hook] = left
        else:
            self.by_webhook.pop(hook, None)
            self.batch_sizes.pop(hook, None)

    def admit_named(self, named: dict[UUID, UUID], limit: int) -> tuple[list[UUID], bool]:
        """Which named deliveries (id -> webhook id) to lease: up to ``limit``,
        and only as many of a webhook as it has room for. The others stay in
        the database, for a search once there is room; the flag says whether
        the limit left some out."""
        ids: list[UUID] = []
        taking: dict[UUID, int] = {}
        for delivery_id, hook in named.items():
            if len(ids) >= limit:
                return ids, True
            size = self.batch_sizes.get(hook, 1)
            if self.for_webhook(hook, size) <= taking.get(hook, 0):
                self.short[hook] = size
                continue
            taking[hook] = taking.get(hook, 0) + 1
            ids.append(delivery_id)
        return ids, False

    def take_freed(self) -> list[UUID]:
        """Webhooks left short of room that have room again (forgotten here:
        the caller claims for them)."""
        if self.left() <= 0:
            return []
        freed = [h for h, size in self.short.items() if self.for_webhook(h, size) > 0]
        for hook in freed:
            del self.short[hook]
        return freed
