"""A write transaction as the layers below the API see it: its connection,
its moment, and what runs once it has committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from hookline.storage.guarded import Pending


@dataclass
class Transaction:
    conn: AsyncConnection
    now: datetime
    postgres: bool
    # Run once the transaction has committed (never on failure).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Deliveries it made due that workers in other processes are told of
    # once it commits (PostgreSQL; see delivery.notifier): (webhook,
    # delivery) pairs, or, with ``announce_search``, that they should search.
    announced: list[tuple[UUID, UUID]] = field(default_factory=list)
    announce_search: bool = False
    # Whether it changed a webhook: its events then find their webhooks in
    # the database, not in the cache (see hookline.auth.cache).
    webhooks_changed: bool = False
    # Asked once deliveries for workers in other processes are about to be
    # written: whether the statement writing them may notify them itself,
    # at its commit (PostgreSQL, when notifications are few; see
    # delivery.notifier). None: never.
    tell_in_commit: Callable[[], bool] | None = None
    # The command's last insert, held back to be sent with its event's rows
    # (PostgreSQL; see storage.guarded): sent by send_pending.
    pending: Pending | None = None

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after the commit, once however often it is asked."""
        if callback not in self.after_commit:
            self.after_commit.append(callback)

    async def send_pending(self, *, last: bool) -> None:
        """Send the held-back insert, if any: ``last`` when nothing runs
        after it in this transaction (it may then go on its own)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            await pending.send(self.conn, last=last)
