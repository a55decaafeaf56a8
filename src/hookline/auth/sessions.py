"""Browser sessions: a random key in an HttpOnly cookie, stored as a keyed hash."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.auth.hashing import keyed_hash
from hookline.ids import new_id
from hookline.storage.prepared import Prepared
from hookline.storage.tables import sessions

COOKIE_NAME = "hookline_session"
_PURPOSE = "session"


@dataclass(frozen=True)
class SessionRecord:
    id: UUID
    profile_id: UUID
    expires_at: datetime


async def create_session(
    conn: AsyncConnection, secret: bytes, profile_id: UUID, now: datetime, max_age_s: int
) -> str:
    """Store a new session and answer the key for the cookie."""
    key = secrets.token_urlsafe(32)
    await conn.execute(
        insert(sessions).values(
            id=new_id(),
            key_hash=keyed_hash(secret, key, purpose=_PURPOSE),
            profile_id=profile_id,
            created_at=now,
            expires_at=now + timedelta(seconds=max_age_s),
        )
    )
    return key


# Built once: every request with a session cookie runs it.
_FIND = Prepared(
    select(sessions.c.id, sessions.c.profile_id, sessions.c.expires_at).where(
        sessions.c.key_hash == bindparam("key_hash")
    )
)


async def find_session(
    conn: AsyncConnection, secret: bytes, key: str, now: datetime
) -> SessionRecord | None:
    if not key or len(key) > 100:
        return None
    row = await _FIND.first(conn, {"key_hash": keyed_hash(secret, key, purpose=_PURPOSE)})
    if row is None or row.expires_at <= now:
        return None
    return SessionRecord(row.id, row.profile_id, row.expires_at)


async def delete_session(conn: AsyncConnection, secret: bytes, key: str) -> None:
    await conn.execute(
        delete(sessions).where(sessions.c.key_hash == keyed_hash(secret, key, purpose=_PURPOSE))
    )


async def delete_other_sessions(conn: AsyncConnection, profile_id: UUID, keep: UUID | None) -> None:
    query = delete(sessions).where(sessions.c.profile_id == profile_id)
    if keep is not None:
        query = query.where(sessions.c.id != keep)
    await conn.execute(query)
