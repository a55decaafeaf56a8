"""What nearly every command looks up, kept in memory: who a token belongs
to and that profile (a program calling with a token costs no database reads
to identify), and each team's webhooks (an event costs no read to find whom
it goes to).

Correctness rests on invalidation, never on expiry:

- Every command that changes what is cached (rotating or deleting a token,
  changing or deleting a profile, creating, changing or deleting a webhook)
  calls ``identity_changed`` or ``webhooks_changed``, and so does the worker
  when it disables webhooks: after its commit
  this process forgets everything it cached, and on PostgreSQL a NOTIFY sent
  in the same transaction tells every other process to do the same.
- A lookup notes the cache's generation before reading the database and fills
  the cache only if no invalidation happened meanwhile, so a value read just
  before a revocation committed is never kept after it.
- On PostgreSQL the cache is used only while this process is LISTENing; when
  that connection drops, the cache is emptied and bypassed until it is back.

A token's expiry is checked on every request against what is cached, so
an expired token is refused on time. On PostgreSQL another process learns of
a revocation when the notification arrives (milliseconds after the commit);
in the process that revoked it, at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.storage.notify import listen_forever

if TYPE_CHECKING:
    from hookline.storage.transaction import Transaction


NOTIFY_CHANNEL = "hookline_identity"
# Bound on entries of each kind; past it the cache starts over.
MAX_ENTRIES = 20_000


class IdentityCache:
    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.generation = 0
        # A token's stored hash -> the caller it names (auth.identity's)
        self._tokens: dict[str, object] = {}
        self._profiles: dict[UUID, object] = {}
        # team id -> its webhooks' rows, as the outbox reads them
        self._webhooks: dict[UUID, tuple[Any, ...]] = {}
        # id() of a kept profile -> the profile (which keeps that id its
        # own), and once a command made it, its JSON answer and the encoder
        # that made it: a command that answers a kept profile as it is sends
        # the same bytes every time (see rpc.transport).
        self._answers: dict[int, tuple[object, object, bytes | None]] = {}

    def token(self, digest: str) -> object | None:
        return self._tokens.get(digest) if self.enabled else None

    def profile(self, profile_id: UUID) -> object | None:
        return self._profiles.get(profile_id) if self.enabled else None

    def team_webhooks(self, team_id: UUID) -> tuple[Any, ...] | None:
        return self._webhooks.get(team_id) if self.enabled else None

    def keep_team_webhooks(self, team_id: UUID, rows: tuple[Any, ...], generation: int) -> None:
        if self.enabled and generation == self.generation:
            if len(self._webhooks) >= MAX_ENTRIES:
                self._webhooks.clear()
            self._webhooks[team_id] = rows

    def keep_token(self, digest: str, record: object, generation: int) -> None:
        if self.enabled and generation == self.generation:
            if len(self._tokens) >= MAX_ENTRIES:
                self._tokens.clear()
            self._tokens[digest] = record

    def keep_profile(self, profile_id: UUID, row: object, generation: int) -> None:
        if self.enabled and generation == self.generation:
            if len(self._profiles) >= MAX_ENTRIES:
                self._profiles.clear()
                self._answers.clear()
            self._profiles[profile_id] = row
            self._answers[id(row)] = (row, None, None)

    def json_answer(self, value: object, encoder: object) -> bytes | None:
        """The JSON answer ``encoder`` made for ``value``, if it is a kept
        profile and the answer was kept (``keep_json_answer``)."""
        entry = self._answers.get(id(value))
        if entry is None or entry[0] is not value or entry[1] is not encoder:
            return None
        return entry[2]

    def keep_json_answer(self, value: object, encoder: object, body: bytes) -> None:
        """Keep ``body``, made by ``encoder``, as the JSON answer for
        ``value`` if it is a kept profile (any other value is encoded anew
        each time)."""
        entry = self._answers.get(id(value))
        if entry is not None and entry[0] is value:
            self._answers[id(value)] = (value, encoder, body)

    def forget(self) -> None:
        self.generation += 1
        self._tokens.clear()
        self._profiles.clear()
        self._webhooks.clear()
        self._answers.clear()

    async def listen(self, url: str) -> None:
        """Keep a LISTEN connection (PostgreSQL) and forget on every
        notification; bypass the cache whenever not listening. Runs until
        cancelled."""

        def up() -> None:
            self.forget()
            self.enabled = True

        def down() -> None:
            self.enabled = False
            self.forget()

        await listen_forever(
            url,
            NOTIFY_CHANNEL,
            on_notify=lambda _payload: self.forget(),
            on_up=up,
            on_down=down,
            failure="identity cache: not listening for changes; reading the database",
        )


async def identity_changed(
    cache: IdentityCache, conn: AsyncConnection, after_commit: list[Callable[[], None]]
) -> None:
    """Call within a transaction that changes a token or a profile."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}")
    after_commit.append(cache.forget)


async def webhooks_changed(cache: IdentityCache, tx: Transaction) -> None:
    """Call within a transaction that creates, changes or deletes a webhook:
    every process forgets the teams' webhooks it kept once it commits, and
    this transaction reads them from the database from now on."""
    tx.webhooks_changed = True
    await identity_changed(cache, tx.conn, tx.after_commit)
