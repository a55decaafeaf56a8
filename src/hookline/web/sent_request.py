"""The exact body of a request, for the delivery page: what a person checks a
signature against.

An attempt row keeps only its own event's document (a batch is not stored
once per member). A batch's body is rebuilt from the events of the attempts
that shared its ``webhook-id`` and send time, in the order they were written
(the request's order), rendered the way the worker renders a batch. Callers
first load the delivery through ``get-webhook-delivery``, which checks that
the visitor may see it; this only reads that webhook's rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select

from hookline.delivery.queue import EventRow
from hookline.delivery.render import body
from hookline.services import Services
from hookline.storage.tables import deliveries, delivery_attempts, events

BATCH_EVENT = "batch"


def is_batch(attempt: Any) -> bool:
    return bool(attempt.request_headers.get("x-hookline-event") == BATCH_EVENT)


async def batch_body(services: Services, webhook_id: UUID, attempt: Any) -> str:
    """The body of the batch request ``attempt`` was part of."""
    message = attempt.request_headers.get("webhook-id")
    query = (
        select(delivery_attempts.c.request_headers, events)
        .select_from(
            delivery_attempts.join(
                deliveries, deliveries.c.id == delivery_attempts.c.delivery_id
            ).join(events, events.c.id == deliveries.c.event_id)
        )
        .where(
            deliveries.c.webhook_id == webhook_id,
            delivery_attempts.c.sent_at == attempt.sent_at,
        )
        .order_by(delivery_attempts.c.id)
    )
    async with services.db.read() as conn:
        rows = (await conn.execute(query)).all()
    members = [EventRow.from_row(r) for r in rows if r.request_headers.get("webhook-id") == message]
    mtype = attempt.request_headers.get("content-type", "application/json")
    return body(mtype, members, batch=True).decode()


async def preview_body(services: Services, event_id: UUID, mtype: str) -> str:
    """The body a delivery not sent yet will carry, in its webhook's format."""
    async with services.db.read() as conn:
        row = (await conn.execute(select(events).where(events.c.id == event_id))).one()
    return body(mtype, [EventRow.from_row(row)], batch=False).decode()
