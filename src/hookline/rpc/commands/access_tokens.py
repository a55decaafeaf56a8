"""Personal access tokens: programs call the API with them instead of a password."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BeforeValidator, WithJsonSchema
from sqlalchemy import delete, func, insert, or_, select, update

from hookline.auth import tokens
from hookline.auth.cache import identity_changed
from hookline.errors import AuthorizationError, NotFound, RestrictionError
from hookline.ids import new_id
from hookline.rpc.context import Context
from hookline.rpc.models import Empty, Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import access_tokens

commands = CommandGroup()

Scope = Literal["full", "read"]


def _duration(value: object) -> object:
    if isinstance(value, str):
        return tokens.parse_duration(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return tokens.duration_from_ms(value)
    raise ValueError(
        "give the expiration as a string such as 720h or P30D, or as whole milliseconds"
    )


Expiration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "description": "a duration: 720h, 1h30m, 10s, P30D, PT2S ...",
                    "examples": ["720h", "1440h", "2160h", "4320h", "P30D"],
                },
                {
                    # Past 32 bits; never stored as it is (it becomes an instant).
                    "type": "integer",
                    "format": "int64",
                    "minimum": tokens.MIN_DURATION_MS,
                    "maximum": tokens.MAX_DURATION_MS,
                    "description": "milliseconds, as Penpot's clients send a duration"
                    " (Transit ~#duration)",
                    "examples": [2592000000],
                },
            ],
            "description": "how long the token lives: a duration such as 720h or P30D, or"
            " whole milliseconds",
        }
    ),
]


class CreateAccessToken(Model):
    name: Name
    expiration: Expiration | None = None
    scope: Scope = "full"


class TokenId(Model):
    id: UUID


class RenameAccessToken(Model):
    id: UUID
    name: Name


class CreatedAccessToken(Model):
    """The token value is in this answer and nowhere else, ever."""

    id: UUID
    name: str
    token: str
    scope: Scope
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None


class AccessToken(Model):
    id: UUID
    name: str
    scope: Scope
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    expired: bool
    last_used_at: datetime | None
    last_used_ip: str | None
    last4: str


_COLUMNS = (
    access_tokens.c.id,
    access_tokens.c.name,
    access_tokens.c.scope,
    access_tokens.c.created_at,
    access_tokens.c.updated_at,
    access_tokens.c.expires_at,
    access_tokens.c.last_used_at,
    access_tokens.c.last_used_ip,
    access_tokens.c.last4,
)


def _record(ctx: Context, row: object) -> AccessToken:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    expires_at = data["expires_at"]
    return AccessToken(**data, expired=expires_at is not None and expires_at <= ctx.now)


async def _own(ctx: Context, token_id: UUID) -> AccessToken:
    """The caller's token, or not-found (another person's token is never revealed)."""
    row = (
        await ctx.conn.execute(
            select(*_COLUMNS).where(
                access_tokens.c.id == token_id, access_tokens.c.profile_id == ctx.profile_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("object-not-found", "there is no such access token")
    return _record(ctx, row)


def _within_calling_token(ctx: Context, expires_at: datetime | None) -> None:
    """A token may hand out only what it holds: no token that outlives it, or
    a short-lived leaked token would buy a permanent one. (Nor a wider scope:
    a read-scoped token calls get-* commands only, so it never gets here.)
    Sessions are not concerned: a person signed in chooses freely."""
    caller = ctx.identity
    if caller is None or caller.via != "token" or caller.expires_at is None:
        return
    if expires_at is None or expires_at > caller.expires_at:
        raise AuthorizationError(
            "expiry-beyond-caller",
            "a token may not give out a token that outlives it: this one expires at "
            f"{caller.expires_at.isoformat()}, so give an expiration that ends by then",
        )


def _issue(ctx: Context) -> tuple[str, dict[str, object]]:
    value = tokens.new_token()
    return value, {
        "token_hash": tokens.token_hash(ctx.services.settings.secret_key, value),
        "last4": value[-4:],
    }


@commands.command("create-access-token", params=CreateAccessToken, result=CreatedAccessToken)
async def create_access_token(ctx: Context, params: CreateAccessToken) -> CreatedAccessToken:
    """Create a personal access token for programs: send it as
    `Authorization: Token <token>`. The token is shown in this answer only. An
    expiration is a duration (720h = 30 days, or ISO-8601 like P30D) or whole
    milliseconds (2592000000; in Transit also Penpot's `~#duration`); without
    one the token never expires. Scope "read" limits it to get-* commands.
    Called with a token, the new token may not outlive the caller (403
    expiry-beyond-caller); a read-scoped token may not call this at all."""
    limit = ctx.services.settings.max_tokens_per_profile
    live = await ctx.conn.scalar(
        select(func.count())
        .select_from(access_tokens)
        .where(
            access_tokens.c.profile_id == ctx.profile_id,
            or_(access_tokens.c.expires_at.is_(None), access_tokens.c.expires_at > ctx.now),
        )
    )
    if (live or 0) >= limit:
        raise RestrictionError(
            "max-quote-reached",
            f"a person may hold at most {limit} live access tokens; revoke one first",
        )
    expires_at = ctx.now + params.expiration if params.expiration is not None else None
    _within_calling_token(ctx, expires_at)
    value, secret = _issue(ctx)
    token_id = new_id()
    await ctx.conn.execute(
        insert(access_tokens).values(
            id=token_id,
            profile_id=ctx.profile_id,
            name=params.name,
            scope=params.scope,
            created_at=ctx.now,
            updated_at=ctx.now,
            expires_at=expires_at,
            **secret,
        )
    )
    return CreatedAccessToken(
        id=token_id,
        name=params.name,
        token=value,
        scope=params.scope,
        created_at=ctx.now,
        updated_at=ctx.now,
        expires_at=expires_at,
    )


@commands.command("get-access-tokens", params=Empty, result=list[AccessToken])
async def get_access_tokens(ctx: Context, params: Empty) -> list[AccessToken]:
    """The caller's access tokens, newest first: name, scope, dates, whether
    expired, last use (time and address) and the last 4 characters. Never the
    token itself."""
    rows = await ctx.conn.execute(
        select(*_COLUMNS)
        .where(access_tokens.c.profile_id == ctx.profile_id)
        .order_by(access_tokens.c.created_at.desc(), access_tokens.c.id.desc())
    )
    return [_record(ctx, row) for row in rows]


@commands.command("get-current-access-token", params=Empty, result=AccessToken)
async def get_current_access_token(ctx: Context, params: Empty) -> AccessToken:
    """Who am I: the record of the token this request was sent with."""
    identity = ctx.identity
    if identity is None or identity.token_id is None:
        raise NotFound("object-not-found", "this request was not sent with an access token")
    return await _own(ctx, identity.token_id)


@commands.command("rename-access-token", params=RenameAccessToken, result=AccessToken)
async def rename_access_token(ctx: Context, params: RenameAccessToken) -> AccessToken:
    """Give one of the caller's tokens a new name."""
    await _own(ctx, params.id)
    await ctx.conn.execute(
        update(access_tokens)
        .where(access_tokens.c.id == params.id)
        .values(name=params.name, updated_at=ctx.now)
    )
    return await _own(ctx, params.id)


@commands.command("rotate-access-token", params=TokenId, result=CreatedAccessToken)
async def rotate_access_token(ctx: Context, params: TokenId) -> CreatedAccessToken:
    """Replace a token's value, keeping its name, scope and expiry. The old
    value stops working at once; the new one is shown in this answer only.
    Called with a token, only tokens that do not outlive it (403
    expiry-beyond-caller)."""
    current = await _own(ctx, params.id)
    # A new value is a new token for whoever asked: the same bounds apply.
    _within_calling_token(ctx, current.expires_at)
    value, secret = _issue(ctx)
    await ctx.conn.execute(
        update(access_tokens)
        .where(access_tokens.c.id == params.id)
        .values(updated_at=ctx.now, last_used_at=None, last_used_ip=None, **secret)
    )
    await identity_changed(ctx.services.identity_cache, ctx.conn, ctx.after_commit)
    return CreatedAccessToken(
        id=current.id,
        name=current.name,
        token=value,
        scope=current.scope,
        created_at=current.created_at,
        updated_at=ctx.now,
        expires_at=current.expires_at,
    )


@commands.command("delete-access-token", params=TokenId, result=None)
async def delete_access_token(ctx: Context, params: TokenId) -> None:
    """Revoke one of the caller's tokens: it stops working at once. An unknown
    id (or another person's token) answers 404 `object-not-found`, where
    Penpot answers 204 whatever the id: a program learns its revoke did
    nothing."""
    await _own(ctx, params.id)
    await ctx.conn.execute(delete(access_tokens).where(access_tokens.c.id == params.id))
    await identity_changed(ctx.services.identity_cache, ctx.conn, ctx.after_commit)
    ctx.services.token_usage.pop(params.id, None)
