"""A webhook's delivery history, and the controls to re-send and recover."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field
from sqlalchemy import String, cast, func, or_, select

from hookline.auth.roles import Role
from hookline.delivery import queue
from hookline.delivery.queue import EventRow
from hookline.delivery.render import json_document
from hookline.errors import NotFound, ValidationError
from hookline.rpc.commands.webhooks import load_webhook, send_ping
from hookline.rpc.context import Context
from hookline.rpc.models import INT_COLUMN_MAX, Instant, Model
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import deliveries, delivery_attempts, events, webhooks

commands = CommandGroup()

Status = Literal["pending", "succeeded", "failed", "retrying", "paused"]
Sort = Literal[
    "sent-at", "-sent-at", "status", "-status", "duration", "-duration", "created", "-created"
]


class Delivery(Model):
    id: UUID
    webhook_id: UUID
    event_id: UUID
    event: str
    url: str
    status: Status
    attempts: int
    result: str | None = Field(description="the last status code, or the last error code")
    last_status: int | None
    last_error: str | None
    sent_at: datetime | None
    duration_ms: int | None
    next_attempt_at: datetime
    created_at: datetime


class DeliveryPage(Model):
    items: list[Delivery]
    next_cursor: str | None
    total: int


class Attempt(Model):
    id: UUID
    attempt: int
    sent_at: datetime
    url: str
    request_headers: dict[str, str]
    request_body: str
    response_status: int | None
    response_headers: dict[str, str] | None
    response_body: str | None
    duration_ms: int | None
    error_code: str | None
    batch_size: int


class DeliveryDetail(Delivery):
    attempts_detail: list[Attempt]
    payload: dict[str, Any]


class ListDeliveries(Model):
    webhook_id: UUID
    status: Status | None = None
    event: str | None = Field(default=None, max_length=120)
    since: Instant | None = None
    until: Instant | None = None
    search: str | None = Field(default=None, max_length=200)
    sort: Sort = "-created"
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=40)


class DeliveryId(Model):
    id: UUID


class Recover(Model):
    webhook_id: UUID
    since: Instant
    until: Instant | None = None


class Count(Model):
    count: int


class TestSent(Model):
    event_id: UUID | None


_COLUMNS = (
    deliveries.c.id,
    deliveries.c.webhook_id,
    deliveries.c.event_id,
    events.c.name.label("event"),
    webhooks.c.uri.label("url"),
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.last_status,
    deliveries.c.last_error,
    deliveries.c.last_attempt_at.label("sent_at"),
    deliveries.c.last_duration_ms.label("duration_ms"),
    deliveries.c.next_attempt_at,
    deliveries.c.created_at,
)
_SORTS = {
    "sent-at": deliveries.c.last_attempt_at,
    "status": deliveries.c.status,
    "duration": deliveries.c.last_duration_ms,
    "created": deliveries.c.id,
}


def _delivery(row: Any) -> Delivery:
    data = dict(row._mapping)
    result = str(data["last_status"]) if data["last_status"] is not None else data["last_error"]
    return Delivery(**data, result=result)


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o:"))
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("invalid-cursor", "use the nextCursor of a previous page") from None
    if not 0 <= value <= INT_COLUMN_MAX:
        raise ValidationError("invalid-cursor", "use the nextCursor of a previous page")
    return value


def cursor_at(offset: int) -> str:
    """The cursor of the page starting at ``offset`` (the web UI links pages
    by number)."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


@commands.command("get-webhook-deliveries", params=ListDeliveries, result=DeliveryPage, bulk=True)
async def get_webhook_deliveries(ctx: Context, params: ListDeliveries) -> DeliveryPage:
    """A webhook's deliveries, newest first by default: event, URL, result
    (status code or error), duration, attempts. Filter by status, event name,
    a creation-time window (`since`, `until`) and a search over event, result,
    error and the event's payload text; sort by `sent-at`, `status`, `duration`
    or `created` (prefix `-` for descending); page with `limit` and the answer's `nextCursor`."""
    await load_webhook(ctx, params.webhook_id)
    where: list[Any] = [deliveries.c.webhook_id == params.webhook_id]
    if params.status:
        where.append(deliveries.c.status == params.status)
    if params.event:
        where.append(events.c.name == params.event)
    if params.since:
        where.append(deliveries.c.created_at >= params.since)
    if params.until:
        where.append(deliveries.c.created_at < params.until)
    if params.search:
        needle = f"%{params.search.lower()}%"
        where.append(
            or_(
                func.lower(events.c.name).like(needle),
                func.lower(func.coalesce(deliveries.c.last_error, "")).like(needle),
                cast(deliveries.c.last_status, String).like(needle),
                deliveries.c.status.like(needle),
                func.lower(cast(events.c.props, String)).like(needle),
            )
        )
    joined = deliveries.join(events, events.c.id == deliveries.c.event_id).join(
        webhooks, webhooks.c.id == deliveries.c.webhook_id
    )
    column = _SORTS[params.sort.lstrip("-")]
    descending = params.sort.startswith("-")
    order = [
        column.desc().nulls_last() if descending else column.asc().nulls_last(),
        deliveries.c.id.desc() if descending else deliveries.c.id.asc(),
    ]
    offset = _offset(params.cursor)
    rows = await ctx.conn.execute(
        select(*_COLUMNS)
        .select_from(joined)
        .where(*where)
        .order_by(*order)
        .offset(offset)
        .limit(params.limit + 1)
    )
    items = [_delivery(row) for row in rows]
    total = await ctx.conn.scalar(select(func.count()).select_from(joined).where(*where))
    more = len(items) > params.limit
    return DeliveryPage(
        items=items[: params.limit],
        next_cursor=cursor_at(offset + params.limit) if more else None,
        total=total or 0,
    )


async def _load(ctx: Context, delivery_id: UUID, minimum: Role) -> Delivery:
    row = (
        await ctx.conn.execute(
            select(*_COLUMNS)
            .select_from(
                deliveries.join(events, events.c.id == deliveries.c.event_id).join(
                    webhooks, webhooks.c.id == deliveries.c.webhook_id
                )
            )
            .where(deliveries.c.id == delivery_id)
        )
    ).first()
    if row is None:
        raise NotFound("object-not-found", "there is no such delivery")
    await load_webhook(ctx, row.webhook_id, minimum)
    return _delivery(row)


@commands.command("get-webhook-delivery", params=DeliveryId, result=DeliveryDetail)
async def get_webhook_delivery(ctx: Context, params: DeliveryId) -> DeliveryDetail:
    """One delivery with every attempt: request headers and payload, response
    status, headers and body (first 20 KB), duration and error."""
    delivery = await _load(ctx, params.id, Role.VIEWER)
    attempts = await ctx.conn.execute(
        select(delivery_attempts)
        .where(delivery_attempts.c.delivery_id == params.id)
        .order_by(delivery_attempts.c.attempt, delivery_attempts.c.id)
    )
    event = (await ctx.conn.execute(select(events).where(events.c.id == delivery.event_id))).one()
    payload = json_document(EventRow.from_row(event))
    return DeliveryDetail(
        **delivery.model_dump(),
        attempts_detail=[Attempt.model_validate(a._mapping) for a in attempts],
        payload=payload,
    )


@commands.command("resend-webhook-delivery", params=DeliveryId, result=Delivery)
async def resend_webhook_delivery(ctx: Context, params: DeliveryId) -> Delivery:
    """Send a delivery again now, whatever its state, with the same
    `webhook-id` so receivers can tell it is the same message (editors and
    above). The new attempt appears in its history."""
    await _load(ctx, params.id, Role.EDITOR)
    await queue.requeue_one(ctx.tx, params.id, ctx.services.wake_delivery)
    return await _load(ctx, params.id, Role.EDITOR)


@commands.command("recover-webhook-deliveries", params=Recover, result=Count, bulk=True)
async def recover_webhook_deliveries(ctx: Context, params: Recover) -> Count:
    """Queue again every failed delivery of a webhook created in a time window
    (`since`, up to `until` or now). Answers how many were queued."""
    await load_webhook(ctx, params.webhook_id, Role.EDITOR)
    if params.until is not None and params.until <= params.since:
        raise ValidationError("invalid-window", "until must come after since", field="until")
    count, _status = await queue.requeue_failed(
        ctx.tx, params.webhook_id, params.since, params.until, ctx.services.wake_delivery
    )
    return Count(count=count)


@commands.command("send-webhook-test", params=DeliveryId, result=TestSent)
async def send_webhook_test(ctx: Context, params: DeliveryId) -> TestSent:
    """Send a signed `ping` event to this webhook (editors and above); its
    result shows in the history. An inactive webhook receives nothing."""
    webhook = await load_webhook(ctx, params.id, Role.EDITOR)
    return TestSent(event_id=await send_ping(ctx, webhook))
