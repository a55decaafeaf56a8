"""The transactional outbox: an event row and one delivery row per webhook that
wants it, written in the transaction of the command that raised the event. If
the command fails, nothing is written; once it commits, nothing is lost."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import and_, bindparam, exists, func, insert, select, update

from hookline.delivery.render import EventRow
from hookline.delivery.store import SENDING_COLUMNS, Claimed, WebhookRow
from hookline.ids import new_id
from hookline.rpc.context import Context
from hookline.storage.tables import deliveries, events, webhooks

# Params never copied into an event's props.
SENSITIVE = frozenset({"password", "old_password", "token", "session_id", "secret"})
NOTIFY_CHANNEL = "hookline_deliveries"
# Most deliveries one notification names (PostgreSQL takes up to 8,000 bytes
# of payload, 66 a delivery); a commit that makes more due names none.
NAMED_MAX = 100


def name_deliveries(due: list[tuple[UUID, UUID]]) -> str:
    """A NOTIFY payload naming (webhook, delivery) pairs made due."""
    return " ".join(f"{hook.hex}.{delivery.hex}" for hook, delivery in due)


def named_deliveries(payload: str) -> list[tuple[UUID, UUID]] | None:
    """The pairs a payload names; None when it names none (an empty payload,
    or one this version cannot read): then anything may be due."""
    try:
        pairs = [part.split(".") for part in payload.split()]
        return [(UUID(hook), UUID(delivery)) for hook, delivery in pairs] or None
    except ValueError:
        return None


def props_from_params(params: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = params.model_dump(mode="json", exclude_none=True, exclude=set(SENSITIVE))
    return data


async def record_command_events(ctx: Context, name: str, params: BaseModel) -> None:
    base = props_from_params(params)
    for draft in ctx.events:
        if draft.props is not None:
            props = to_jsonable_python(draft.props)
        else:
            props = {**base, **to_jsonable_python(draft.extra)}
        props = {k: v for k, v in props.items() if v is not None and k not in SENSITIVE}
        await record(ctx, name, draft.team_id, props, coalesce_key=draft.coalesce_key)


# Built once: they run for every event.
_TEAM_WEBHOOKS = select(webhooks.c.id, webhooks.c.events, webhooks.c.state, *SENDING_COLUMNS).where(
    webhooks.c.team_id == bindparam("team_id"), webhooks.c.is_active.is_(True)
)
_INSERT_EVENT = insert(events)
_INSERT_DELIVERIES = insert(deliveries)


def _wants(event_names: Any, name: str) -> bool:
    return event_names is None or (isinstance(event_names, list) and name in event_names)


async def record(
    ctx: Context,
    name: str,
    team_id: UUID,
    props: dict[str, Any],
    *,
    coalesce_key: str | None = None,
    only_webhook: UUID | None = None,
) -> UUID | None:
    """Record event ``name`` for the team's webhooks that want it; answers the
    event id, or None when no webhook wants it (then nothing is stored)."""
    if only_webhook is None:
        found = await ctx.conn.execute(_TEAM_WEBHOOKS, {"team_id": team_id})
    else:
        query = _TEAM_WEBHOOKS.where(webhooks.c.id == only_webhook)
        found = await ctx.conn.execute(query, {"team_id": team_id})
    rows = found.all()
    targets = [row for row in rows if only_webhook is not None or _wants(row.events, name)]
    if not targets:
        return None
    now = ctx.now
    due = now
    if coalesce_key is not None:
        merged = await _merge(ctx, coalesce_key, props)
        if merged is not None:
            return merged
        settings = ctx.services.settings
        due = now + timedelta(
            seconds=min(settings.coalesce_window_s, settings.coalesce_max_delay_s)
        )
    event_id = new_id()
    profile_id = ctx.identity.profile_id if ctx.identity is not None else None
    await ctx.conn.execute(
        _INSERT_EVENT,
        {
            "id": event_id,
            "name": name,
            "team_id": team_id,
            "profile_id": profile_id,
            "props": props,
            "coalesce_key": coalesce_key,
            "created_at": now,
            "tracked_at": now,
        },
    )
    handoff = ctx.services.handoff if due == now else None
    lease_until = now + timedelta(seconds=ctx.services.settings.delivery_lease_s)
    event = EventRow(event_id, name, team_id, profile_id, props, now, now)
    new_rows: list[dict[str, Any]] = []
    taken: list[Claimed] = []
    # Deliveries this process's worker could claim right away. One it turned
    # down for want of room it claims by itself once room frees up.
    claimable_here = 0
    # Deliveries a worker in another process may lease as soon as this
    # commits: named in the notification, they are leased by id.
    named: list[tuple[UUID, UUID]] = []
    for row in targets:
        delivery_id = new_id()
        paused = row.state == "disabled-by-errors"
        lease_owner = None
        if handoff is not None and not paused and not row.ordered:
            # Leased at once to this process's worker when it has room: it
            # sends right after the commit, with no claim in between.
            if handoff.reserve(row.id, row.max_events_per_request):
                lease_owner = handoff.owner
                webhook = WebhookRow.from_row(row.id, row)
                taken.append(Claimed(delivery_id, 0, webhook, event))
        elif not paused:
            claimable_here += 1
        if not paused and lease_owner is None:
            named.append((row.id, delivery_id))
        new_rows.append(
            {
                "id": delivery_id,
                "webhook_id": row.id,
                "event_id": event_id,
                "status": "paused" if paused else "pending",
                "attempts": 0,
                "next_attempt_at": due,
                "lease_owner": lease_owner,
                "lease_expires_at": lease_until if lease_owner else None,
                "created_at": now,
                "updated_at": now,
            }
        )
    await ctx.conn.execute(_INSERT_DELIVERIES, new_rows)
    if taken and handoff is not None:
        ctx.after_commit.append(functools.partial(handoff.take, taken))
    if len(taken) == len(targets):
        return event_id  # nothing left for a claim: no wake-up needed
    searched = due != now or any(row.ordered for row in targets)
    await announce(ctx, here=claimable_here > 0, due=None if searched else named)
    return event_id


async def _merge(ctx: Context, key: str, props: dict[str, Any]) -> UUID | None:
    """Fold an edit into the still-unsent event with the same key: refresh its
    props and push its due time back by the quiet window, but never past the
    cap counted from the first edit. None when there is no such event."""
    unsent = and_(
        deliveries.c.event_id == events.c.id,
        deliveries.c.status == "pending",
        deliveries.c.attempts == 0,
        deliveries.c.lease_owner.is_(None),
    )
    row = (
        await ctx.conn.execute(
            select(events.c.id, events.c.created_at)
            .where(events.c.coalesce_key == key, exists().where(unsent))
            .order_by(events.c.created_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    settings = ctx.services.settings
    first: datetime = row.created_at
    due = min(
        ctx.now + timedelta(seconds=settings.coalesce_window_s),
        first + timedelta(seconds=settings.coalesce_max_delay_s),
    )
    moved = await ctx.conn.execute(
        update(deliveries)
        .where(
            deliveries.c.event_id == row.id,
            deliveries.c.status == "pending",
            deliveries.c.attempts == 0,
            deliveries.c.lease_owner.is_(None),
        )
        .values(next_attempt_at=due, updated_at=ctx.now)
    )
    if not moved.rowcount:
        return None  # a worker took it meanwhile: this edit starts a new event
    await ctx.conn.execute(
        update(events).where(events.c.id == row.id).values(props=props, tracked_at=ctx.now)
    )
    return UUID(str(row.id))


_NOTIFY_NAMING = select(func.pg_notify(NOTIFY_CHANNEL, bindparam("payload")))


async def announce(
    ctx: Context, *, here: bool = True, due: list[tuple[UUID, UUID]] | None = None
) -> None:
    """Wake delivery once this transaction commits: through LISTEN/NOTIFY for
    workers in other processes on PostgreSQL, and, unless ``here`` is false,
    the worker in this process. ``due`` names the (webhook, delivery) pairs
    the caller made due, when that is all there is to claim (none of an
    ordered webhook, none due later): workers then lease those by id
    instead of searching for what is due."""
    services = ctx.services
    if here and services.wake_delivery not in ctx.after_commit:
        ctx.after_commit.append(services.wake_delivery)
    if services.db.is_sqlite or ctx.notified:
        return
    if due and len(due) <= NAMED_MAX:
        await ctx.conn.execute(_NOTIFY_NAMING, {"payload": name_deliveries(due)})
    else:
        ctx.notified = True  # workers search: no need to tell them more
        await ctx.conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}")
