"""The long-lived parts one process shares: settings, database, clock, limiters."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field
from uuid import UUID

from hookline.auth.cache import IdentityCache
from hookline.auth.passwords import Passwords
from hookline.auth.ratelimit import FailureLimiter
from hookline.clock import Clock, SystemClock
from hookline.delivery.metrics import Metrics
from hookline.delivery.notifier import Notifier
from hookline.delivery.queue import Handoff
from hookline.settings import Settings
from hookline.storage import revision
from hookline.storage.database import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    passwords: Passwords = field(default_factory=Passwords)
    login_limiter: FailureLimiter = field(default_factory=lambda: FailureLimiter(10))
    token_limiter: FailureLimiter = field(default_factory=lambda: FailureLimiter(10))
    signup_limiter: FailureLimiter = field(default_factory=lambda: FailureLimiter(20, 3600))
    # token id -> monotonic time its last use was written (see auth.identity)
    token_usage: dict[UUID, float] = field(default_factory=dict)
    # Set after a commit that made deliveries due, so an in-process worker wakes
    # at once instead of at its next poll.
    delivery_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Set with it, unless the wake-up only says which deliveries were made due
    # (see delivery.worker): the worker then searches for all that is due.
    delivery_search: bool = True
    metrics: Metrics = field(default_factory=Metrics)
    # Tokens and profiles in memory; on PostgreSQL only while listening for
    # changes (see auth.cache), on SQLite from the start: one process serves.
    identity_cache: IdentityCache = field(default_factory=lambda: IdentityCache(enabled=False))
    # The in-process worker while it runs (serve without --no-worker).
    handoff: Handoff | None = None
    # Tells workers in other processes of deliveries commits made due
    # (PostgreSQL; made at the first).
    notifier: Notifier | None = None

    def __post_init__(self) -> None:
        if self.db.is_sqlite:
            self.identity_cache.enabled = True

    def wake_delivery(self) -> None:
        self.delivery_search = True
        self.delivery_wakeup.set()

    def tell_workers(self, named: list[tuple[UUID, UUID]] | None) -> None:
        """Tell workers in other processes (PostgreSQL) of deliveries a commit
        made due: these (webhook, delivery) pairs, or None: search."""
        if self.db.is_sqlite:
            return
        self._notifier().tell(named)

    def tell_in_commit(self) -> bool:
        """Whether a command's statement about to write deliveries for
        workers in other processes should notify them itself (PostgreSQL;
        see delivery.notifier)."""
        return self._notifier().in_commit()

    def _notifier(self) -> Notifier:
        if self.notifier is None:
            self.notifier = Notifier(self.db)
        return self.notifier

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        passwords: Passwords | None = None,
        apply_migrations: bool = True,
    ) -> Services:
        db = Database(settings.database_url)
        if apply_migrations:
            await revision.upgrade(db)
        return cls(
            settings=settings,
            db=db,
            clock=clock or SystemClock(),
            passwords=passwords or Passwords(),
            login_limiter=FailureLimiter(settings.login_failures_per_minute),
            token_limiter=FailureLimiter(settings.token_failures_per_minute),
            signup_limiter=FailureLimiter(settings.signups_per_hour, 3600),
        )

    async def close(self) -> None:
        if self.notifier is not None:
            await self.notifier.close()
        await self.db.dispose()


def freeze_startup_heap() -> None:
    """Take what start-up left alive (modules, tables, compiled statements,
    pools) out of the garbage collector's sight. A full collection walks
    every object it tracks; in a started process that took 40-76 ms, a
    pause of every request and delivery in flight."""
    gc.collect()
    gc.freeze()
