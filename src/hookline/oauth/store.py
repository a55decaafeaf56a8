"""Every row OAuth reads or writes: applications, codes, grants, tokens.

Single use is enforced by the database, not by a read before a write: a code
or refresh token is claimed with ``UPDATE … WHERE used IS NULL`` and only the
statement that changed the row may go on, so two concurrent exchanges of one
value can never both succeed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.auth.hashing import same
from hookline.auth.tokens import TokenRecord
from hookline.ids import new_id
from hookline.oauth import secrets
from hookline.storage.tables import oauth_applications, oauth_codes, oauth_grants, oauth_tokens

ACCESS_TTL = timedelta(hours=1)
REFRESH_TTL = timedelta(days=30)
CODE_TTL = timedelta(seconds=60)
# Used codes are kept this long past their expiry so that a code sent again
# still revokes what it produced (RFC 6749 §4.1.2); then they are dropped.
CODE_MEMORY = timedelta(days=1)


@dataclass(frozen=True)
class Application:
    id: UUID
    client_id: str
    owner_id: UUID
    name: str
    redirect_uris: tuple[str, ...]
    confidential: bool
    secret_hash: str | None


async def find_application(conn: AsyncConnection, client_id: str) -> Application | None:
    if not secrets.plausible_client_id(client_id):
        return None
    row = (
        await conn.execute(
            select(oauth_applications).where(oauth_applications.c.client_id == client_id)
        )
    ).first()
    if row is None:
        return None
    return Application(
        row.id,
        row.client_id,
        row.owner_id,
        row.name,
        tuple(row.redirect_uris),
        row.confidential,
        row.secret_hash,
    )


# --- codes --------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRecord:
    id: UUID
    application_id: UUID
    profile_id: UUID
    redirect_uri: str
    code_challenge: str
    scope: str
    expires_at: datetime
    used_at: datetime | None
    grant_id: UUID | None


async def create_code(
    conn: AsyncConnection,
    server_secret: bytes,
    *,
    application_id: UUID,
    profile_id: UUID,
    redirect_uri: str,
    code_challenge: str,
    scope: str,
    now: datetime,
) -> str:
    await conn.execute(delete(oauth_codes).where(oauth_codes.c.expires_at < now - CODE_MEMORY))
    code = secrets.new_code()
    await conn.execute(
        oauth_codes.insert().values(
            id=new_id(),
            code_hash=secrets.code_hash(server_secret, code),
            application_id=application_id,
            profile_id=profile_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scope=scope,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    return code


async def find_code(conn: AsyncConnection, digest: str) -> CodeRecord | None:
    row = (await conn.execute(select(oauth_codes).where(oauth_codes.c.code_hash == digest))).first()
    if row is None or not same(row.code_hash, digest):
        return None
    return CodeRecord(
        row.id,
        row.application_id,
        row.profile_id,
        row.redirect_uri,
        row.code_challenge,
        row.scope,
        row.expires_at,
        row.used_at,
        row.grant_id,
    )


async def claim_code(conn: AsyncConnection, code_id: UUID, now: datetime) -> bool:
    """Mark a code used; False when another exchange got there first."""
    result = await conn.execute(
        update(oauth_codes)
        .where(oauth_codes.c.id == code_id, oauth_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


# --- grants and tokens --------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str
    scope: str
    expires_in: int


async def open_grant(
    conn: AsyncConnection,
    server_secret: bytes,
    *,
    code: CodeRecord,
    now: datetime,
) -> Issued:
    """The grant a code's exchange creates, with its first tokens."""
    grant_id = new_id()
    await conn.execute(
        oauth_grants.insert().values(
            id=grant_id,
            application_id=code.application_id,
            profile_id=code.profile_id,
            scope=code.scope,
            created_at=now,
        )
    )
    await conn.execute(
        update(oauth_codes).where(oauth_codes.c.id == code.id).values(grant_id=grant_id)
    )
    return await issue(conn, server_secret, grant_id, code.scope, code.scope, now)


async def issue(
    conn: AsyncConnection,
    server_secret: bytes,
    grant_id: UUID,
    access_scope: str,
    refresh_scope: str,
    now: datetime,
) -> Issued:
    access = secrets.new_value(secrets.ACCESS_PREFIX)
    refresh = secrets.new_value(secrets.REFRESH_PREFIX)
    rows = [
        (access, secrets.ACCESS_PREFIX, "access", access_scope, ACCESS_TTL),
        (refresh, secrets.REFRESH_PREFIX, "refresh", refresh_scope, REFRESH_TTL),
    ]
    await conn.execute(
        oauth_tokens.insert(),
        [
            {
                "id": new_id(),
                "grant_id": grant_id,
                "kind": kind,
                "token_hash": secrets.value_hash(server_secret, value, prefix),
                "scope": scope,
                "created_at": now,
                "expires_at": now + ttl,
            }
            for value, prefix, kind, scope, ttl in rows
        ],
    )
    return Issued(access, refresh, access_scope, int(ACCESS_TTL.total_seconds()))


@dataclass(frozen=True)
class TokenRow:
    """A live grant's access or refresh token, with whom and what it is for."""

    id: UUID
    kind: str
    grant_id: UUID
    application_id: UUID
    client_id: str
    profile_id: UUID
    scope: str
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None


async def find_token(conn: AsyncConnection, digest: str) -> TokenRow | None:
    """The token whose hash is ``digest``, if its grant stands (a revoked
    grant has no tokens left, but a race with revocation is ruled out here)."""
    row = (
        await conn.execute(
            select(
                oauth_tokens.c.id,
                oauth_tokens.c.kind,
                oauth_tokens.c.token_hash,
                oauth_tokens.c.grant_id,
                oauth_grants.c.application_id,
                oauth_applications.c.client_id,
                oauth_grants.c.profile_id,
                oauth_tokens.c.scope,
                oauth_tokens.c.created_at,
                oauth_tokens.c.expires_at,
                oauth_tokens.c.rotated_at,
            )
            .join(oauth_grants, oauth_grants.c.id == oauth_tokens.c.grant_id)
            .join(oauth_applications, oauth_applications.c.id == oauth_grants.c.application_id)
            .where(oauth_tokens.c.token_hash == digest, oauth_grants.c.revoked_at.is_(None))
        )
    ).first()
    if row is None or not same(row.token_hash, digest):
        return None
    return TokenRow(
        row.id,
        row.kind,
        row.grant_id,
        row.application_id,
        row.client_id,
        row.profile_id,
        row.scope,
        row.created_at,
        row.expires_at,
        row.rotated_at,
    )


async def find_access_token(conn: AsyncConnection, digest: str) -> TokenRecord | None:
    """An access token as the API's identity lookup wants it."""
    found = await find_token(conn, digest)
    if found is None or found.kind != "access":
        return None
    return TokenRecord(found.id, found.profile_id, found.scope, found.expires_at, found.grant_id)


async def rotate_refresh_token(conn: AsyncConnection, token_id: UUID, now: datetime) -> bool:
    """Mark a refresh token exchanged; False when another exchange got there
    first."""
    result = await conn.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.id == token_id, oauth_tokens.c.rotated_at.is_(None))
        .values(rotated_at=now)
    )
    return result.rowcount == 1


async def drop_expired_tokens(conn: AsyncConnection, grant_id: UUID, now: datetime) -> None:
    await conn.execute(
        delete(oauth_tokens).where(
            oauth_tokens.c.grant_id == grant_id, oauth_tokens.c.expires_at <= now
        )
    )


async def delete_token(conn: AsyncConnection, token_id: UUID) -> None:
    await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.id == token_id))


async def revoke_grant(conn: AsyncConnection, grant_id: UUID, now: datetime, reason: str) -> bool:
    """End a grant: every token of it is deleted at once. The caller tells the
    identity cache (``hookline.auth.cache.identity_changed``)."""
    await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.grant_id == grant_id))
    result = await conn.execute(
        update(oauth_grants)
        .where(oauth_grants.c.id == grant_id, oauth_grants.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return result.rowcount == 1


async def note_grant_use(conn: AsyncConnection, grant_id: UUID, now: datetime) -> None:
    await conn.execute(
        update(oauth_grants).where(oauth_grants.c.id == grant_id).values(last_used_at=now)
    )
