"""Team webhooks: where, in which format and for which events a team's
events are POSTed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints
from sqlalchemy import delete, func, insert, select, update

from hookline.auth.cache import webhooks_changed
from hookline.auth.roles import Role, require_role
from hookline.delivery import queue
from hookline.errors import NotFound, RestrictionError, ValidationError
from hookline.events import outbox
from hookline.ids import new_id
from hookline.net.ssrf import BlockedRequest, resolve
from hookline.rpc.catalogue import PING, catalogue
from hookline.rpc.context import Context
from hookline.rpc.models import Empty, Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import webhooks
from hookline.webhooks.secrets import new_secret, seal

commands = CommandGroup()

MediaType = Literal["application/json", "application/transit+json"]
Uri = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
ROTATION_OVERLAP = timedelta(hours=24)
# Retired secrets that still sign: with the current one, at most three
# signatures per request.
MAX_RETIRED = 2


class Webhook(Model):
    id: UUID
    team_id: UUID
    # Who created it, as Penpot answers; null once that person is deleted
    # (and for webhooks made before Hookline recorded it).
    profile_id: UUID | None
    name: str
    uri: str
    mtype: MediaType
    is_active: bool
    state: Literal["active", "inactive", "disabled-by-errors"]
    events: list[str] | None
    verify_ssl: bool
    max_events_per_request: int
    ordered: bool
    error_code: str | None
    error_count: int
    last_triggered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(Webhook):
    """The signing secret is in this answer only."""

    secret: str


class CreateWebhook(Model):
    team_id: UUID
    uri: Uri
    name: Name | None = None
    mtype: MediaType = "application/json"
    is_active: bool = True
    events: list[str] | None = Field(default=None, max_length=200)
    verify_ssl: bool = True
    max_events_per_request: int = Field(default=1, ge=1, le=100)
    ordered: bool = False


class UpdateWebhook(Model):
    id: UUID
    uri: Uri | None = None
    name: Name | None = None
    mtype: MediaType | None = None
    is_active: bool | None = None
    events: list[str] | None = Field(default=None, max_length=200)
    verify_ssl: bool | None = None
    max_events_per_request: int | None = Field(default=None, ge=1, le=100)
    ordered: bool | None = None


class WebhookId(Model):
    id: UUID


class TeamWebhooks(Model):
    team_id: UUID


class RotatedSecret(Model):
    id: UUID
    secret: str
    previous_secret_expires_at: datetime


class EventTypeInfo(Model):
    name: str
    description: str
    schema_: dict[str, Any] = Field(alias="schema")
    example: dict[str, Any]


_COLUMNS: list[Any] = [
    c.label("profile_id") if c.name == "created_by" else c
    for c in webhooks.c
    if not c.name.startswith(("secret", "retired_secret"))
]


async def load_webhook(ctx: Context, webhook_id: UUID, minimum: Role = Role.VIEWER) -> Webhook:
    """The webhook, if the caller's role in its team is at least ``minimum``;
    not-found for anyone outside the team."""
    row = (await ctx.conn.execute(select(*_COLUMNS).where(webhooks.c.id == webhook_id))).first()
    if row is None:
        raise NotFound("object-not-found", "there is no such webhook")
    await require_role(ctx.conn, row.team_id, ctx.profile_id, minimum)
    return Webhook.model_validate(row._mapping)


async def check_uri(ctx: Context, uri: str) -> str:
    """http(s) only, and a host that resolves to addresses webhooks may reach."""
    try:
        await resolve(uri, ctx.services.settings.ssrf_allowlist)
    except BlockedRequest as blocked:
        if blocked.reason == "invalid-url":
            raise ValidationError(
                "invalid-uri", "the URL must be http:// or https:// with a host", field="uri"
            ) from None
        raise ValidationError(
            "blocked-request",
            f"webhooks may not target this address ({blocked.reason}); an administrator"
            " can allow it with HOOKLINE_SSRF_ALLOWLIST",
            reason=blocked.reason,
            field="uri",
        ) from None
    return uri


def check_events(ctx: Context, names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    known = [name for name in catalogue(ctx.registry) if name != PING]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValidationError(
            "unknown-event-type",
            f"unknown event types {', '.join(unknown)}; valid ones: {', '.join(known)}",
            field="events",
        )
    return list(dict.fromkeys(names))


def _state(is_active: bool) -> Literal["active", "inactive"]:
    return "active" if is_active else "inactive"


async def send_ping(ctx: Context, webhook: Webhook) -> UUID | None:
    """A signed test event to this webhook only."""
    return await outbox.record(
        ctx.services,
        ctx.tx,
        PING,
        webhook.team_id,
        {"webhook_id": str(webhook.id), "team_id": str(webhook.team_id)},
        profile_id=ctx.profile_id,
        only_webhook=webhook.id,
    )


@commands.command("create-webhook", params=CreateWebhook, result=WebhookWithSecret)
async def create_webhook(ctx: Context, params: CreateWebhook) -> WebhookWithSecret:
    """Add a webhook to a team (owners, admins and editors). `events` null or
    absent means every event. The answer holds the signing secret, shown only
    here and after a rotation. A signed `ping` event is sent right away; its
    result shows in the delivery history (no request is made while creating)."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.EDITOR)
    limit = ctx.services.settings.max_webhooks_per_team
    count = await ctx.conn.scalar(
        select(func.count()).select_from(webhooks).where(webhooks.c.team_id == params.team_id)
    )
    if (count or 0) >= limit:
        raise RestrictionError(
            "webhooks-quote-reached", f"a team may have at most {limit} webhooks"
        )
    uri = await check_uri(ctx, params.uri)
    secret = new_secret()
    webhook = Webhook(
        id=new_id(),
        team_id=params.team_id,
        profile_id=ctx.profile_id,
        name=params.name or uri[:250],
        uri=uri,
        mtype=params.mtype,
        is_active=params.is_active,
        state=_state(params.is_active),
        events=check_events(ctx, params.events),
        verify_ssl=params.verify_ssl,
        max_events_per_request=params.max_events_per_request,
        ordered=params.ordered,
        error_code=None,
        error_count=0,
        last_triggered_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await webhooks_changed(ctx.services.identity_cache, ctx.tx)
    await ctx.conn.execute(
        insert(webhooks).values(
            **webhook.model_dump(exclude={"profile_id"}),
            secret_enc=seal(ctx.services.settings.secret_key, secret),
            created_by=webhook.profile_id,
        )
    )
    await send_ping(ctx, webhook)
    return WebhookWithSecret(**webhook.model_dump(), secret=secret)


@commands.command("update-webhook", params=UpdateWebhook, result=Webhook, bulk=True)
async def update_webhook(ctx: Context, params: UpdateWebhook) -> Webhook:
    """Change a webhook (owners, admins and editors); fields left out keep their
    value, and `events: null` means every event. Resets the error code and
    count. Re-activating a webhook disabled by errors sends the deliveries it
    held back."""
    webhook = await load_webhook(ctx, params.id, Role.EDITOR)
    given = params.model_fields_set - {"id"}
    values: dict[str, Any] = {
        field: getattr(params, field)
        for field in given
        if getattr(params, field) is not None or field == "events"
    }
    if "uri" in values:
        values["uri"] = await check_uri(ctx, values["uri"])
    if "events" in values:
        values["events"] = check_events(ctx, values["events"])
    is_active = values.get("is_active", webhook.is_active)
    values.update(state=_state(is_active), error_code=None, error_count=0, updated_at=ctx.now)
    await webhooks_changed(ctx.services.identity_cache, ctx.tx)
    await ctx.conn.execute(update(webhooks).where(webhooks.c.id == params.id).values(**values))
    if is_active:
        await queue.resume(ctx.tx, params.id, ctx.services.wake_delivery)
    elif webhook.is_active:
        await queue.hold(ctx.tx, params.id)
    return await load_webhook(ctx, params.id)


@commands.command("delete-webhook", params=WebhookId, result=None, bulk=True)
async def delete_webhook(ctx: Context, params: WebhookId) -> None:
    """Delete a webhook with its delivery history (owners, admins and editors)."""
    await load_webhook(ctx, params.id, Role.EDITOR)
    await webhooks_changed(ctx.services.identity_cache, ctx.tx)
    await ctx.conn.execute(delete(webhooks).where(webhooks.c.id == params.id))


@commands.command("get-webhooks", params=TeamWebhooks, result=list[Webhook])
async def get_webhooks(ctx: Context, params: TeamWebhooks) -> list[Webhook]:
    """A team's webhooks (any member; secrets are never listed), ordered by
    `uri` as Penpot lists them (then by id). `profile-id` is the person who
    created each one."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id)
    rows = await ctx.conn.execute(
        select(*_COLUMNS)
        .where(webhooks.c.team_id == params.team_id)
        .order_by(webhooks.c.uri, webhooks.c.id)
    )
    return [Webhook.model_validate(row._mapping) for row in rows]


@commands.command("get-webhook", params=WebhookId, result=Webhook)
async def get_webhook(ctx: Context, params: WebhookId) -> Webhook:
    """One webhook (any member of its team)."""
    return await load_webhook(ctx, params.id)


@commands.command("rotate-webhook-secret", params=WebhookId, result=RotatedSecret)
async def rotate_webhook_secret(ctx: Context, params: WebhookId) -> RotatedSecret:
    """Issue a new signing secret (owners, admins and editors). For 24 hours
    the replaced secret keeps signing too: requests carry one signature per
    secret (up to three after repeated rotations), so receivers can switch
    without missing a message. The new secret is in this answer only."""
    await load_webhook(ctx, params.id, Role.EDITOR)
    row = (
        await ctx.conn.execute(
            select(webhooks.c.secret_enc, webhooks.c.retired_secrets).where(
                webhooks.c.id == params.id
            )
        )
    ).one()
    expires = ctx.now + ROTATION_OVERLAP
    # Every secret retired within the overlap keeps signing, so rotating
    # twice in a day never drops one a receiver may still hold.
    still_valid = [r for r in queue.retired_secrets(row.retired_secrets) if r.expires_at > ctx.now]
    retired = [queue.RetiredSecret(row.secret_enc, expires), *still_valid][:MAX_RETIRED]
    secret = new_secret()
    await webhooks_changed(ctx.services.identity_cache, ctx.tx)
    await ctx.conn.execute(
        update(webhooks)
        .where(webhooks.c.id == params.id)
        .values(
            secret_enc=seal(ctx.services.settings.secret_key, secret),
            retired_secrets=[
                {"sealed": r.sealed, "expires_at": r.expires_at.isoformat()} for r in retired
            ],
            updated_at=ctx.now,
        )
    )
    return RotatedSecret(id=params.id, secret=secret, previous_secret_expires_at=expires)


@commands.command("get-webhook-event-types", params=Empty, result=list[EventTypeInfo], auth=False)
async def get_webhook_event_types(ctx: Context, params: Empty) -> list[EventTypeInfo]:
    """The catalogue of events a webhook can receive: name, description, the
    JSON Schema of the delivered object and an example."""
    return [
        EventTypeInfo(
            name=event.name,
            description=event.description,
            schema_=event.schema,
            example=event.example,
        )
        for event in catalogue(ctx.registry).values()
    ]
