"""What a command handler gets besides its params."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.auth.identity import Identity
from hookline.errors import AuthenticationError
from hookline.events.outbox import EventDraft
from hookline.rpc.registry import Registry
from hookline.services import Services
from hookline.storage.guarded import InsertWhere, Pending
from hookline.storage.transaction import Transaction


@dataclass
class CookieChange:
    name: str
    value: str | None  # None clears the cookie
    max_age: int = 0


@dataclass
class CallInfo:
    """Facts about the request, and cookie changes the handler asks for."""

    client_ip: str = ""
    session_key: str | None = None
    cookies: list[CookieChange] = field(default_factory=list)


@dataclass
class Context:
    services: Services
    tx: Transaction
    identity: Identity | None
    call: CallInfo
    # The commands being served (the events catalogue is derived from them).
    registry: Registry
    events: list[EventDraft] = field(default_factory=list)
    # A get-* command's transaction: it sees only committed data, so what it
    # reads may go into the identity cache.
    read_only: bool = False

    @property
    def conn(self) -> AsyncConnection:
        return self.tx.conn

    @property
    def now(self) -> datetime:
        return self.tx.now

    @property
    def after_commit(self) -> list[Callable[[], None]]:
        """Run once the command's transaction has committed (never on failure)."""
        return self.tx.after_commit

    def emit(
        self,
        team_id: UUID,
        /,
        *,
        props: dict[str, Any] | None = None,
        coalesce_key: str | None = None,
        coalesce_window_s: float | None = None,
        **extra: Any,
    ) -> None:
        """Raise this command's event in ``team_id``; ``extra`` joins the params."""
        self.events.append(EventDraft(team_id, extra, props, coalesce_key, coalesce_window_s))

    async def insert_last(
        self,
        shape: InsertWhere,
        params: dict[str, Any],
        refused: Callable[[], Awaitable[None]],
    ) -> None:
        """Insert a row where ``shape``'s condition holds, else raise through
        ``refused``: the handler's last statement. On PostgreSQL it is held
        back and sent with the rows of the command's event, as one statement
        (see storage.guarded); elsewhere it runs at once."""
        pending = Pending(shape, params, refused)
        if self.tx.postgres and self.tx.pending is None:
            self.tx.pending = pending
        else:
            await pending.send(self.conn, last=False)

    @property
    def profile_id(self) -> UUID:
        if self.identity is None:
            raise AuthenticationError("authentication-required", "log in or send a token")
        return self.identity.profile_id
