"""What a command handler gets besides its params."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.auth.identity import Identity
from hookline.errors import AuthenticationError
from hookline.services import Services


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
class EventDraft:
    """An event a command raises once it succeeds (see hookline.events)."""

    team_id: UUID
    extra: dict[str, Any] = field(default_factory=dict)
    # Props replacing the params entirely (update-file sends no changes).
    props: dict[str, Any] | None = None
    # Events with the same key are merged while still unsent (update-file).
    coalesce_key: str | None = None


@dataclass
class Context:
    services: Services
    conn: AsyncConnection
    identity: Identity | None
    call: CallInfo
    now: datetime
    # Run once the command's transaction has committed (never on failure).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    events: list[EventDraft] = field(default_factory=list)
    # Whether this transaction has sent NOTIFY for new deliveries (PostgreSQL).
    notified: bool = False
    # A get-* command's transaction: it sees only committed data, so what it
    # reads may go into the identity cache.
    read_only: bool = False

    def emit(
        self,
        team_id: UUID,
        /,
        *,
        props: dict[str, Any] | None = None,
        coalesce_key: str | None = None,
        **extra: Any,
    ) -> None:
        """Raise this command's event in ``team_id``; ``extra`` joins the params."""
        self.events.append(EventDraft(team_id, extra, props, coalesce_key))

    @property
    def profile_id(self) -> UUID:
        if self.identity is None:
            raise AuthenticationError("authentication-required", "log in or send a token")
        return self.identity.profile_id
