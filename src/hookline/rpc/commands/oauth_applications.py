"""OAuth applications a person registers, and the grants a person gave to
applications (Settings → Applications, Settings → Authorized applications).
Each command reaches only the caller's own applications and grants: another
person's is "not found"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field
from sqlalchemy import delete, func, select, update

from hookline.auth.cache import identity_changed
from hookline.errors import NotFound, RestrictionError, ValidationError
from hookline.ids import new_id
from hookline.oauth import redirects, secrets, store
from hookline.rpc.context import Context
from hookline.rpc.models import Empty, Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import oauth_applications, oauth_grants

commands = CommandGroup()

MAX_APPLICATIONS_PER_PROFILE = 50


def _check_uris(uris: list[str]) -> list[str]:
    cleaned = [uri.strip() for uri in uris]
    for uri in cleaned:
        why = redirects.problem(uri)
        if why is not None:
            raise ValueError(why)
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("each redirect URI once")
    return cleaned


RedirectUris = Annotated[
    list[str],
    Field(min_length=1, max_length=redirects.MAX_PER_APPLICATION),
    AfterValidator(_check_uris),
]


class CreateOAuthApplication(Model):
    name: Name
    redirect_uris: RedirectUris
    # False for a public client (a native or browser app that cannot keep a
    # secret): it authenticates with its client_id and PKCE alone.
    confidential: bool = True


class UpdateOAuthApplication(Model):
    id: UUID
    name: Name | None = None
    redirect_uris: RedirectUris | None = None


class ApplicationId(Model):
    id: UUID


class OAuthApplication(Model):
    id: UUID
    name: str
    client_id: str
    redirect_uris: list[str]
    confidential: bool
    # The last 4 characters of the client secret, to tell secrets apart.
    secret_last4: str | None
    created_at: datetime
    updated_at: datetime


class CreatedOAuthApplication(OAuthApplication):
    """The client secret is in this answer and nowhere else, ever."""

    client_secret: str | None


class OAuthGrant(Model):
    id: UUID
    application_name: str
    client_id: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    # person | client | code-reused | refresh-reused
    revoked_reason: str | None


_COLUMNS = (
    oauth_applications.c.id,
    oauth_applications.c.name,
    oauth_applications.c.client_id,
    oauth_applications.c.redirect_uris,
    oauth_applications.c.confidential,
    oauth_applications.c.secret_last4,
    oauth_applications.c.created_at,
    oauth_applications.c.updated_at,
)


async def _own(ctx: Context, application_id: UUID) -> OAuthApplication:
    row = (
        await ctx.conn.execute(
            select(*_COLUMNS).where(
                oauth_applications.c.id == application_id,
                oauth_applications.c.owner_id == ctx.profile_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("object-not-found", "there is no such application")
    return OAuthApplication.model_validate(dict(row._mapping))


def _new_secret(ctx: Context) -> tuple[str, dict[str, str]]:
    value = secrets.new_value(secrets.SECRET_PREFIX)
    digest = secrets.value_hash(ctx.services.settings.secret_key, value, secrets.SECRET_PREFIX)
    return value, {"secret_hash": digest, "secret_last4": value[-4:]}


@commands.command(
    "create-oauth-application", params=CreateOAuthApplication, result=CreatedOAuthApplication
)
async def create_oauth_application(
    ctx: Context, params: CreateOAuthApplication
) -> CreatedOAuthApplication:
    """Register an application that asks people for access to the API with
    OAuth 2 (authorization code with PKCE S256 at /oauth/authorize). Redirect
    URIs are matched exactly; https, or http to a loopback address. A
    confidential application gets a client secret, shown in this answer only;
    a public one (confidential: false) has none."""
    count = await ctx.conn.scalar(
        select(func.count())
        .select_from(oauth_applications)
        .where(oauth_applications.c.owner_id == ctx.profile_id)
    )
    if (count or 0) >= MAX_APPLICATIONS_PER_PROFILE:
        raise RestrictionError(
            "max-quote-reached",
            f"a person may register at most {MAX_APPLICATIONS_PER_PROFILE} applications",
        )
    value, secret = _new_secret(ctx) if params.confidential else (None, {})
    application_id = new_id()
    await ctx.conn.execute(
        oauth_applications.insert().values(
            id=application_id,
            client_id=secrets.new_client_id(),
            owner_id=ctx.profile_id,
            name=params.name,
            redirect_uris=params.redirect_uris,
            confidential=params.confidential,
            created_at=ctx.now,
            updated_at=ctx.now,
            **secret,
        )
    )
    created = await _own(ctx, application_id)
    return CreatedOAuthApplication(**created.model_dump(), client_secret=value)


@commands.command("get-oauth-applications", params=Empty, result=list[OAuthApplication])
async def get_oauth_applications(ctx: Context, params: Empty) -> list[OAuthApplication]:
    """The applications the caller registered, newest first; never a secret."""
    rows = await ctx.conn.execute(
        select(*_COLUMNS)
        .where(oauth_applications.c.owner_id == ctx.profile_id)
        .order_by(oauth_applications.c.created_at.desc(), oauth_applications.c.id.desc())
    )
    return [OAuthApplication.model_validate(dict(row._mapping)) for row in rows]


@commands.command("get-oauth-application", params=ApplicationId, result=OAuthApplication)
async def get_oauth_application(ctx: Context, params: ApplicationId) -> OAuthApplication:
    """One of the caller's applications."""
    return await _own(ctx, params.id)


@commands.command(
    "update-oauth-application", params=UpdateOAuthApplication, result=OAuthApplication
)
async def update_oauth_application(
    ctx: Context, params: UpdateOAuthApplication
) -> OAuthApplication:
    """Rename an application or replace its redirect URIs. Codes already
    issued keep the redirect URI they were issued for."""
    await _own(ctx, params.id)
    values: dict[str, object] = {"updated_at": ctx.now}
    if params.name is not None:
        values["name"] = params.name
    if params.redirect_uris is not None:
        values["redirect_uris"] = params.redirect_uris
    await ctx.conn.execute(
        update(oauth_applications).where(oauth_applications.c.id == params.id).values(**values)
    )
    return await _own(ctx, params.id)


@commands.command(
    "rotate-oauth-application-secret", params=ApplicationId, result=CreatedOAuthApplication
)
async def rotate_oauth_application_secret(
    ctx: Context, params: ApplicationId
) -> CreatedOAuthApplication:
    """A new client secret for a confidential application, shown in this
    answer only; the old one stops working at once. Tokens already issued
    stay valid."""
    current = await _own(ctx, params.id)
    if not current.confidential:
        raise ValidationError("public-client", "a public application has no client secret")
    value, secret = _new_secret(ctx)
    await ctx.conn.execute(
        update(oauth_applications)
        .where(oauth_applications.c.id == params.id)
        .values(updated_at=ctx.now, **secret)
    )
    rotated = await _own(ctx, params.id)
    return CreatedOAuthApplication(**rotated.model_dump(), client_secret=value)


@commands.command("delete-oauth-application", params=ApplicationId, result=None)
async def delete_oauth_application(ctx: Context, params: ApplicationId) -> None:
    """Delete an application: every grant and token of it ends at once."""
    await _own(ctx, params.id)
    await ctx.conn.execute(delete(oauth_applications).where(oauth_applications.c.id == params.id))
    await identity_changed(ctx.services.identity_cache, ctx.conn, ctx.after_commit)


@commands.command("get-oauth-grants", params=Empty, result=list[OAuthGrant])
async def get_oauth_grants(ctx: Context, params: Empty) -> list[OAuthGrant]:
    """The applications the caller gave access to, newest first: scopes,
    when granted, last use, and (for ended grants, kept as a history) when
    and why they ended."""
    rows = await ctx.conn.execute(
        select(
            oauth_grants.c.id,
            oauth_applications.c.name.label("application_name"),
            oauth_applications.c.client_id,
            oauth_grants.c.scope,
            oauth_grants.c.created_at,
            oauth_grants.c.last_used_at,
            oauth_grants.c.revoked_at,
            oauth_grants.c.revoked_reason,
        )
        .join(oauth_applications, oauth_applications.c.id == oauth_grants.c.application_id)
        .where(oauth_grants.c.profile_id == ctx.profile_id)
        .order_by(oauth_grants.c.created_at.desc(), oauth_grants.c.id.desc())
    )
    return [OAuthGrant.model_validate(dict(row._mapping)) for row in rows]


@commands.command("revoke-oauth-grant", params=ApplicationId, result=None)
async def revoke_oauth_grant(ctx: Context, params: ApplicationId) -> None:
    """End one of the caller's grants: every access and refresh token of it
    stops working at once, in every process."""
    owner = await ctx.conn.scalar(
        select(oauth_grants.c.profile_id).where(oauth_grants.c.id == params.id)
    )
    if owner != ctx.profile_id:
        raise NotFound("object-not-found", "there is no such grant")
    await store.revoke_grant(ctx.conn, params.id, ctx.now, "person")
    await identity_changed(ctx.services.identity_cache, ctx.conn, ctx.after_commit)
