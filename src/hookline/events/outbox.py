"""The transactional outbox: an event row, and through the delivery queue
one delivery per webhook that wants it, written in the transaction of the
command that raised the event. If the command fails, nothing is written;
once it commits, nothing is lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import bindparam, exists, or_, select, update

from hookline.delivery import queue
from hookline.delivery.queue import DISABLED_BY_ERRORS, EventRow, Target, WebhookRow
from hookline.ids import new_id
from hookline.services import Services
from hookline.storage.prepared import Prepared
from hookline.storage.tables import deliveries, events, webhooks
from hookline.storage.transaction import Transaction

# Params never copied into an event's props.
SENSITIVE = frozenset({"password", "old_password", "token", "session_id", "secret"})


@dataclass
class EventDraft:
    """An event a command raises once it succeeds."""

    team_id: UUID
    extra: dict[str, Any] = field(default_factory=dict)
    # Props replacing the params entirely (update-file sends no changes).
    props: dict[str, Any] | None = None
    # Events with the same key are merged while still unsent (update-file).
    coalesce_key: str | None = None
    # The quiet window of that merge, when not the update-file setting.
    coalesce_window_s: float | None = None


def props_from_params(params: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = params.model_dump(mode="json", exclude_none=True, exclude=set(SENSITIVE))
    return data


async def record_drafts(
    services: Services,
    tx: Transaction,
    name: str,
    params: BaseModel,
    drafts: list[EventDraft],
    profile_id: UUID | None,
) -> None:
    """Record the events a command raised, its params being their props."""
    base = props_from_params(params)
    for draft in drafts:
        if draft.props is not None:
            props = to_jsonable_python(draft.props)
        else:
            props = {**base, **to_jsonable_python(draft.extra)}
        props = {k: v for k, v in props.items() if v is not None and k not in SENSITIVE}
        await record(
            services,
            tx,
            name,
            draft.team_id,
            props,
            profile_id=profile_id,
            coalesce_key=draft.coalesce_key,
            coalesce_window_s=draft.coalesce_window_s,
        )


# Built once: it runs for every event. A webhook disabled by errors still
# gets its deliveries, held until it is re-activated; one a person switched
# off gets none.
_TEAM_WEBHOOKS = select(
    webhooks.c.id, webhooks.c.events, webhooks.c.state, *queue.SENDING_COLUMNS
).where(
    webhooks.c.team_id == bindparam("team_id"),
    or_(webhooks.c.is_active.is_(True), webhooks.c.state == DISABLED_BY_ERRORS),
)
_ALL_TEAM_WEBHOOKS = Prepared(_TEAM_WEBHOOKS)


async def _team_webhooks(services: Services, tx: Transaction, team_id: UUID) -> Sequence[Any]:
    """The team's webhooks that may get deliveries, from memory when kept
    there (see hookline.auth.cache): an event then costs no read to route."""
    if tx.webhooks_changed:
        return await _ALL_TEAM_WEBHOOKS.all(tx.conn, {"team_id": team_id})
    cache = services.identity_cache
    rows = cache.team_webhooks(team_id)
    if rows is None:
        generation = cache.generation
        rows = tuple(await _ALL_TEAM_WEBHOOKS.all(tx.conn, {"team_id": team_id}))
        cache.keep_team_webhooks(team_id, rows, generation)
    return rows


def _wants(event_names: Any, name: str) -> bool:
    return event_names is None or (isinstance(event_names, list) and name in event_names)


async def record(
    services: Services,
    tx: Transaction,
    name: str,
    team_id: UUID,
    props: dict[str, Any],
    *,
    profile_id: UUID | None,
    coalesce_key: str | None = None,
    coalesce_window_s: float | None = None,
    only_webhook: UUID | None = None,
) -> UUID | None:
    """Record event ``name`` for the team's webhooks that want it; answers the
    event id, or None when no webhook wants it (then nothing is stored)."""
    if only_webhook is None:
        rows = await _team_webhooks(services, tx, team_id)
    else:
        query = _TEAM_WEBHOOKS.where(webhooks.c.id == only_webhook)
        rows = list((await tx.conn.execute(query, {"team_id": team_id})).all())
    targets = [row for row in rows if only_webhook is not None or _wants(row.events, name)]
    if not targets:
        return None
    settings = services.settings
    due = tx.now
    if coalesce_key is not None:
        window = settings.coalesce_window_s if coalesce_window_s is None else coalesce_window_s
        merged = await _merge(services, tx, coalesce_key, props, window)
        if merged is not None:
            return merged
        due = tx.now + timedelta(seconds=min(window, settings.coalesce_max_delay_s))
    event = EventRow(new_id(), name, team_id, profile_id, props, tx.now, tx.now)
    await queue.enqueue(
        tx,
        event,
        [
            Target(WebhookRow.from_row(row.id, row), held=row.state == DISABLED_BY_ERRORS)
            for row in targets
        ],
        due=due,
        lease_s=settings.delivery_lease_s,
        handoff=services.handoff,
        wake=services.wake_delivery,
        new_event=True,
        coalesce_key=coalesce_key,
    )
    return event.id


async def _merge(
    services: Services, tx: Transaction, key: str, props: dict[str, Any], window: float
) -> UUID | None:
    """Fold an edit into the still-unsent event with the same key: refresh its
    props and push its due time back by the quiet window, but never past the
    cap counted from the first edit. None when there is no such event."""
    unsent = exists().where(deliveries.c.event_id == events.c.id, *queue.untouched())
    row = (
        await tx.conn.execute(
            select(events.c.id, events.c.created_at)
            .where(events.c.coalesce_key == key, unsent)
            .order_by(events.c.created_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    settings = services.settings
    first: datetime = row.created_at
    due = min(
        tx.now + timedelta(seconds=window),
        first + timedelta(seconds=settings.coalesce_max_delay_s),
    )
    if not await queue.postpone_unsent(tx, row.id, due):
        return None  # a worker took it meanwhile: this edit starts a new event
    await tx.conn.execute(
        update(events).where(events.c.id == row.id).values(props=props, tracked_at=tx.now)
    )
    return UUID(str(row.id))
