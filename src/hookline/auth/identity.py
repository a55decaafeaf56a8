"""Who is calling: a personal access token or an OAuth access token
(``Authorization: Token <t>`` or ``Bearer <t>``), or a browser session
cookie. A request without either is anonymous."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.auth import tokens
from hookline.auth.ratelimit import address_key
from hookline.auth.sessions import find_session
from hookline.errors import AuthenticationError
from hookline.oauth import secrets as oauth_secrets
from hookline.oauth import store as oauth_store
from hookline.storage.tables import access_tokens

if TYPE_CHECKING:
    from hookline.services import Services

SCHEMES = ("token", "bearer")
# Last use is written at most this often per token and process.
USAGE_INTERVAL_S = 60.0
# Longer than every kind of token this server issues.
MAX_TOKEN_LENGTH = 64


@dataclass(frozen=True)
class Identity:
    profile_id: UUID
    via: Literal["session", "token", "oauth"]
    session_id: UUID | None = None
    token_id: UUID | None = None
    # "full", or "read" for tokens that may call get-* commands only; for an
    # OAuth access token its scopes, space-separated (see hookline.rpc.scopes)
    scope: str = "full"
    # When the calling token expires (None: never, or not a token)
    expires_at: datetime | None = None
    # The OAuth grant an OAuth access token belongs to.
    grant_id: UUID | None = None


def _refuse(services: Services, client_ip: str, code: str, hint: str) -> AuthenticationError:
    services.token_limiter.record_failure(address_key(client_ip))
    return AuthenticationError(code, hint)


@dataclass(frozen=True)
class Credentials:
    """What a request presented, read before any database work."""

    authorization: str | None
    session_key: str | None
    client_ip: str
    # The token from ``authorization`` once check_credentials has checked
    # it, and its stored hash.
    checked_token: str | None = None
    checked_digest: str | None = None


async def identify(
    services: Services,
    *,
    authorization: str | None,
    session_key: str | None,
    client_ip: str,
) -> Identity | None:
    """The caller, in a transaction of its own, noting a token's last use."""
    credentials = Credentials(authorization, session_key, client_ip)
    async with services.db.read() as conn:
        identity = await identify_in(services, conn, credentials)
    await note_usage(services, identity, client_ip)
    return identity


async def identify_in(
    services: Services, conn: AsyncConnection, credentials: Credentials
) -> Identity | None:
    """The caller, from the Authorization header or else the session cookie,
    looked up on ``conn`` (the command's own transaction, saving a round trip).

    Credentials that are sent but unusable answer 401 for every command, so a
    program with a revoked or expired token finds out at once instead of being
    served as anonymous. An unusable session cookie counts as anonymous: a
    browser cannot be made to drop it before the next answer."""
    if credentials.authorization is not None:
        token, digest = credentials.checked_token, credentials.checked_digest
        if token is None or digest is None:
            token, digest = _token_value(services, credentials.authorization, credentials.client_ip)
        return await _from_token(services, conn, token, digest, credentials.client_ip)
    if credentials.session_key:
        record = await find_session(
            conn, services.settings.secret_key, credentials.session_key, services.clock.now()
        )
        if record is not None:
            return Identity(record.profile_id, "session", session_id=record.id)
    return None


def check_credentials(services: Services, credentials: Credentials) -> Credentials:
    """Refuse a malformed or mistyped token (and a rate-limited address)
    before any database work: the checksum catches typos and guesses. The
    answer carries the token so checked, for ``identify_in``."""
    if credentials.authorization is None:
        return credentials
    token, digest = _token_value(services, credentials.authorization, credentials.client_ip)
    return Credentials(
        credentials.authorization, credentials.session_key, credentials.client_ip, token, digest
    )


# The longest Authorization header whose reading is kept: a scheme, a token
# and some spaces; longer ones are refused each time, never remembered.
MAX_HEADER_KEPT = MAX_TOKEN_LENGTH + 16


def _token_value(services: Services, authorization: str, client_ip: str) -> tuple[str, str]:
    """The token an Authorization header carries, and its stored hash;
    refused (and counted against the address) when it is no token's shape."""
    services.token_limiter.check(address_key(client_ip))
    if len(authorization) <= MAX_HEADER_KEPT:
        token, digest, problem = _read_header(services.settings.secret_key, authorization)
    else:
        token, digest, problem = _read(services.settings.secret_key, authorization)
    if digest is None:
        raise _refuse(services, client_ip, "invalid-token", problem or "this is not a token")
    return token, digest


@functools.lru_cache(maxsize=4096)
def _read_header(secret: bytes, authorization: str) -> tuple[str, str | None, str | None]:
    """``_read``, kept for the headers this process saw last: a program sends
    the same one with every request."""
    return _read(secret, authorization)


def _read(secret: bytes, authorization: str) -> tuple[str, str | None, str | None]:
    """The token an Authorization header carries, its stored hash (None when
    refused) and why it is refused (None when it is a token's shape)."""
    scheme, _, value = authorization.strip().partition(" ")
    token = value.strip()
    if scheme.lower() not in SCHEMES or not token:
        return token, None, "send the header as: Authorization: Token <t>"
    digest = _digest(secret, token)
    if digest is None:
        return token, None, "this is not a Hookline token"
    return token, digest, None


def _digest(secret: bytes, token: str) -> str | None:
    """The stored hash of ``token``; None when it is no token's shape. A
    value longer than any token is refused before it is remembered."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    return _checked_digest(secret, token)


@functools.lru_cache(maxsize=4096)
def _checked_digest(secret: bytes, token: str) -> str | None:
    """The stored hash of a well-formed personal or OAuth access token, or
    None for a value of neither shape. Kept for the values this process saw
    last: a program sends the same token with every request, and its shape
    check and keyed hash are most of what identifying it costs. (The values
    stay in this process's memory, which holds the server secret anyway.)"""
    if tokens.well_formed(token):
        return tokens.token_hash(secret, token)
    if oauth_secrets.well_formed(token, oauth_secrets.ACCESS_PREFIX):
        return oauth_secrets.value_hash(secret, token, oauth_secrets.ACCESS_PREFIX)
    return None


async def _lookup(
    services: Services, conn: AsyncConnection, token: str, digest: str
) -> Identity | None:
    """The caller a personal or OAuth access token (whose stored hash is
    ``digest``) names, from the cache if there; None when it is unknown."""
    cache = services.identity_cache
    cached = cache.token(digest)
    if isinstance(cached, Identity):
        return cached
    generation = cache.generation
    if token.startswith(oauth_secrets.ACCESS_PREFIX):
        record = await oauth_store.find_access_token(conn, digest)
    else:
        record = await tokens.find_token(conn, digest)
    if record is None:
        return None
    identity = _identity_of(record)
    cache.keep_token(digest, identity, generation)
    return identity


async def _from_token(
    services: Services, conn: AsyncConnection, token: str, digest: str, client_ip: str
) -> Identity:
    identity = await _lookup(services, conn, token, digest)
    # A revoked token is deleted, so it is indistinguishable from one that never
    # existed: both are "invalid-token", and nothing is kept about revoked values.
    if identity is None:
        raise _refuse(services, client_ip, "invalid-token", "this token is not valid")
    expires_at = identity.expires_at
    if expires_at is not None and expires_at <= services.clock.now():
        raise _refuse(services, client_ip, "token-expired", "this token has expired")
    return identity


def _identity_of(record: tokens.TokenRecord) -> Identity:
    """The caller a token record names."""
    if record.grant_id is not None:
        return Identity(
            record.profile_id,
            "oauth",
            token_id=record.id,
            scope=record.scope,
            expires_at=record.expires_at,
            grant_id=record.grant_id,
        )
    return Identity(
        record.profile_id,
        "token",
        token_id=record.id,
        scope=record.scope,
        expires_at=record.expires_at,
    )


async def note_usage(services: Services, identity: Identity | None, client_ip: str) -> None:
    """Record a token's last use (after the command's transaction: on SQLite a
    write inside another transaction would wait for itself); for an OAuth
    token, its grant's."""
    due = usage_due(services, identity)
    if due is not None:
        await record_usage(services, due, client_ip)


def usage_due(services: Services, identity: Identity | None) -> tuple[UUID, bool] | None:
    """The token or grant (id, whether a grant) whose last use is to be
    recorded now: at most once a minute each, not on every request. Marks
    it as recorded; answers None when nothing is due, without a coroutine to
    run (the usual case, on every request a token makes)."""
    if identity is None:
        return None
    oauth = identity.grant_id is not None
    row_id = identity.grant_id if oauth else identity.token_id
    if row_id is None:
        return None
    moment = time.monotonic()
    last = services.token_usage.get(row_id)
    if last is not None and moment - last < USAGE_INTERVAL_S:
        return None
    services.token_usage[row_id] = moment
    if len(services.token_usage) > 100_000:
        services.token_usage.clear()
    return row_id, oauth


async def record_usage(services: Services, due: tuple[UUID, bool], client_ip: str) -> None:
    """Write the last use ``usage_due`` answered."""
    row_id, oauth = due
    async with services.db.write() as conn:
        if oauth:
            await oauth_store.note_grant_use(conn, row_id, services.clock.now())
            return
        await conn.execute(
            update(access_tokens)
            .where(access_tokens.c.id == row_id)
            .values(last_used_at=services.clock.now(), last_used_ip=client_ip[:64])
        )
