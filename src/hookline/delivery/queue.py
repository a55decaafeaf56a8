"""The delivery queue, and the only code that inserts or changes delivery
rows: enqueue (with the hand-off to this process's worker), claim and lease,
renew and release, record outcomes, pause and resume, requeue (re-send,
recover), announce, and clean up. Everything else reads."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, Protocol, TypeVar
from uuid import UUID

from sqlalchemy import (
    Integer,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.delivery.retry import Verdict, classify, retry_delay
from hookline.ids import new_id
from hookline.storage.guarded import InsertWhere
from hookline.storage.prepared import Prepared
from hookline.storage.tables import deliveries, delivery_attempts, events, webhooks
from hookline.storage.transaction import Transaction
from hookline.storage.types import UTCDateTime

_T = TypeVar("_T")

log = logging.getLogger("hookline.queue")


class Status(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    # Held while its webhook is not active; sent once it is again.
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    # Gave up: the schedule ran out, or the receiver refused it for good.
    FAILED = "failed"


DUE = (Status.PENDING, Status.RETRYING)
UNFINISHED = (Status.PENDING, Status.RETRYING, Status.PAUSED)
FINISHED = (Status.SUCCEEDED, Status.FAILED)
DISABLED_BY_ERRORS = "disabled-by-errors"

NOTIFY_CHANNEL = "hookline_deliveries"
# Most deliveries one notification names (PostgreSQL takes up to 8,000 bytes
# of payload, 66 a delivery); a commit that makes more due names none.
NAMED_MAX = 100


@dataclass(frozen=True)
class EventRow:
    id: UUID
    name: str
    team_id: UUID
    profile_id: UUID | None
    props: dict[str, Any]
    created_at: datetime
    tracked_at: datetime

    @classmethod
    def from_row(cls, row: Any, event_id: UUID | None = None) -> EventRow:
        """From a row of the events table (its id as ``event_id`` when the
        row names it otherwise)."""
        return cls(
            event_id or row.id,
            row.name,
            row.team_id,
            row.profile_id,
            row.props,
            row.created_at,
            row.tracked_at,
        )


@dataclass(frozen=True)
class RetiredSecret:
    sealed: str
    expires_at: datetime


@dataclass
class WebhookRow:
    id: UUID
    uri: str
    mtype: str
    verify_ssl: bool
    max_events_per_request: int
    ordered: bool
    secret_enc: str
    # Secrets replaced less than the overlap ago, newest first.
    retired: tuple[RetiredSecret, ...]

    @classmethod
    def from_row(cls, webhook_id: UUID, row: Any) -> WebhookRow:
        """From a row holding ``SENDING_COLUMNS``."""
        return cls(
            webhook_id,
            row.uri,
            row.mtype,
            row.verify_ssl,
            row.max_events_per_request,
            row.ordered,
            row.secret_enc,
            retired_secrets(row.retired_secrets),
        )


def retired_secrets(stored: Any) -> tuple[RetiredSecret, ...]:
    """The ``retired_secrets`` column: a list of {sealed, expires_at}."""
    if not isinstance(stored, list):
        return ()
    found = []
    for entry in stored:
        try:
            moment = datetime.fromisoformat(entry["expires_at"])
            found.append(RetiredSecret(str(entry["sealed"]), moment))
        except (KeyError, TypeError, ValueError):
            log.warning("an unreadable retired secret entry is skipped")
    return tuple(found)


# What sending needs of a webhook besides its id (see WebhookRow.from_row).
SENDING_COLUMNS = (
    webhooks.c.uri,
    webhooks.c.mtype,
    webhooks.c.verify_ssl,
    webhooks.c.max_events_per_request,
    webhooks.c.ordered,
    webhooks.c.secret_enc,
    webhooks.c.retired_secrets,
)


@dataclass
class Claimed:
    delivery_id: UUID
    attempts: int
    webhook: WebhookRow
    event: EventRow


@dataclass
class Result:
    """The outcome of one request, for each delivery it carried."""

    items: list[Claimed]
    message_id: str
    sent_at: datetime
    url: str
    request_headers: dict[str, str]
    bodies: list[str]  # each delivery's own event document
    ok: bool
    status: int | None
    response_headers: dict[str, str] | None
    response_body: str | None
    duration_ms: int
    error_code: str | None
    retry_after_s: float | None

    @property
    def verdict(self) -> Verdict:
        return classify(self.ok, self.status, self.error_code)


class Handoff(Protocol):
    """A delivery worker running in this process, which takes deliveries
    straight from the transaction that records them."""

    owner: str

    def reserve(self, webhook_id: UUID, max_events_per_request: int) -> bool:
        """Whether it has room now for one more delivery of this webhook."""
        ...

    def take(self, items: list[Claimed]) -> None:
        """Send these deliveries, leased to it in a transaction just committed."""
        ...


# -- enqueue ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A webhook an event goes to, and whether its delivery waits (its
    webhook is disabled by errors until someone re-activates it)."""

    webhook: WebhookRow
    held: bool


_INSERT_DELIVERIES = Prepared(insert(deliveries))
_INSERT_EVENT = Prepared(insert(events))
# On PostgreSQL an event and up to this many deliveries are written by one
# statement: a round trip to the server fewer for every event of a team with
# a few webhooks. More go as two (the deliveries as one batch).
WITH_EVENT_MAX = 8
_EVENT_COLUMNS = tuple(column.name for column in events.columns)
_DELIVERY_COLUMNS = (
    "id",
    "webhook_id",
    "event_id",
    "status",
    "attempts",
    "next_attempt_at",
    "lease_owner",
    "lease_expires_at",
    "created_at",
    "updated_at",
)


@functools.lru_cache(maxsize=2 * WITH_EVENT_MAX)
def _insert_with_event(count: int, tell: bool = False) -> Prepared:
    """The event (params ``e_<column>``) and ``count`` deliveries (params
    ``d<n>_<column>``) in one statement: the event's insert as a
    data-modifying WITH, which PostgreSQL runs whether or not it is referred
    to, and whose row the deliveries' foreign keys see at the statement's end.
    With ``tell``, it also notifies workers of the payload ``n_told``."""
    event = insert(events).values({c: bindparam(f"e_{c}") for c in _EVENT_COLUMNS})
    if tell:
        told, notified = _told()
        statement = _insert_deliveries(count, notified).add_cte(told)
        return Prepared(statement.add_cte(event.cte("new_event")))
    rows: list[dict[str, Any]] = [
        {c: bindparam(f"d{n}_{c}") for c in _DELIVERY_COLUMNS} for n in range(count)
    ]
    return Prepared(insert(deliveries).values(rows).add_cte(event.cte("new_event")))


def _told() -> tuple[Any, Any]:
    """A WITH that notifies workers of the payload ``n_told``, and a
    condition true once it has: a statement's deliveries are written on that
    condition, so PostgreSQL runs the notification (a WITH nothing refers to
    is never run) once, and only when they are. It reaches listeners when
    the statement's transaction commits, like any NOTIFY."""
    told = select(
        func.pg_notify(
            literal_column(f"'{NOTIFY_CHANNEL}'"), bindparam("n_told", type_=String)
        ).label("notified")
    ).cte("told")
    return told, exists(select(told.c.notified))


def _insert_deliveries(count: int, condition: Any) -> Any:
    """The insert of ``count`` deliveries (params ``d<n>_<column>``),
    written only where ``condition`` holds."""
    rows = [
        select(
            *(bindparam(f"d{n}_{c}", type_=deliveries.c[c].type) for c in _DELIVERY_COLUMNS)
        ).where(condition)
        for n in range(count)
    ]
    source: Any = rows[0] if count == 1 else union_all(*rows)
    return insert(deliveries).from_select(list(_DELIVERY_COLUMNS), source)


async def enqueue(
    tx: Transaction,
    event: EventRow,
    targets: list[Target],
    *,
    due: datetime,
    lease_s: float,
    handoff: Handoff | None,
    wake: Callable[[], None],
    new_event: bool = False,
    coalesce_key: str | None = None,
) -> None:
    """One delivery of ``event`` per target, due at ``due``; with
    ``new_event``, the event's own row too (with ``coalesce_key``). A delivery due
    now to this process's worker, when it has room, is leased to it in this
    transaction and handed over once it commits: no claim in between. The
    rest are announced."""
    if due != tx.now:
        handoff = None
    lease_until = tx.now + timedelta(seconds=lease_s)
    rows: list[dict[str, Any]] = []
    taken: list[Claimed] = []
    # Deliveries this process's worker could claim right away. One it turned
    # down for want of room it claims by itself once room frees up.
    claimable_here = 0
    # Deliveries a worker in another process may lease as soon as this
    # commits: named in the notification, they are leased by id.
    named: list[tuple[UUID, UUID]] = []
    for target in targets:
        hook = target.webhook
        delivery_id = new_id()
        lease_owner = None
        if target.held:
            pass
        elif handoff is not None and not hook.ordered:
            if handoff.reserve(hook.id, hook.max_events_per_request):
                lease_owner = handoff.owner
                taken.append(Claimed(delivery_id, 0, hook, event))
        else:
            claimable_here += 1
        if not target.held and lease_owner is None:
            named.append((hook.id, delivery_id))
        rows.append(
            {
                "id": delivery_id,
                "webhook_id": hook.id,
                "event_id": event.id,
                "status": Status.PAUSED if target.held else Status.PENDING,
                "attempts": 0,
                "next_attempt_at": due,
                "lease_owner": lease_owner,
                "lease_expires_at": lease_until if lease_owner else None,
                "created_at": tx.now,
                "updated_at": tx.now,
            }
        )
    searched = due != tx.now or any(t.webhook.ordered for t in targets)
    # Named deliveries may be notified by the statement writing them.
    told = None
    if (
        named
        and not searched
        and tx.tell_in_commit is not None
        and _fused(tx, new_event, rows)
        and tx.tell_in_commit()
    ):
        told = name_deliveries(named)
    await _write(tx, _event_values(event, coalesce_key) if new_event else None, rows, told)
    if taken and handoff is not None:
        tx.after_commit.append(functools.partial(handoff.take, taken))
    if not named:
        return  # nothing left for a claim: no wake-up needed
    announce(
        tx, wake, here=claimable_here > 0, due=None if searched else named, told=told is not None
    )


def _event_values(event: EventRow, coalesce_key: str | None) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "team_id": event.team_id,
        "profile_id": event.profile_id,
        "props": event.props,
        "coalesce_key": coalesce_key,
        "created_at": event.created_at,
        "tracked_at": event.tracked_at,
    }


@functools.lru_cache(maxsize=64)
def _guarded_with_event(shape: InsertWhere, count: int, tell: bool = False) -> Prepared:
    """A command's guarded insert (see storage.guarded), its event and
    ``count`` deliveries in one statement, the event and the deliveries
    written only if the guarded row was (params as ``_insert_with_event``'s).
    Its rowcount, the deliveries', is zero exactly when the guard refused.
    With ``tell``, it also notifies workers of the payload ``n_told``, when
    the guarded row was written."""
    guarded, inserted = shape.guarded_cte()
    event = insert(events).from_select(
        list(_EVENT_COLUMNS),
        select(*(bindparam(f"e_{c}", type_=events.c[c].type) for c in _EVENT_COLUMNS)).where(
            inserted
        ),
    )
    if not tell:
        statement = _insert_deliveries(count, inserted).add_cte(guarded)
    else:
        told, notified = _told()
        statement = _insert_deliveries(count, and_(inserted, notified)).add_cte(guarded, told)
    return Prepared(statement.add_cte(event.cte("new_event")))


def _fused(tx: Transaction, new_event: bool, rows: list[dict[str, Any]]) -> bool:
    """Whether ``_write`` writes the event and its deliveries as one statement."""
    return tx.postgres and new_event and 0 < len(rows) <= WITH_EVENT_MAX


async def _write(
    tx: Transaction,
    event_values: dict[str, Any] | None,
    rows: list[dict[str, Any]],
    told: str | None = None,
) -> None:
    """Write the event (if new) and its deliveries; ``told``, a payload the
    statement notifies workers of (only where ``_fused``)."""
    fused = _fused(tx, event_values is not None, rows)
    params: dict[str, Any] = {}
    if fused and event_values is not None:
        params = {f"e_{column}": event_values[column] for column in _EVENT_COLUMNS}
        for n, row in enumerate(rows):
            params.update({f"d{n}_{column}": row[column] for column in _DELIVERY_COLUMNS})
        if told is not None:
            params["n_told"] = told
    pending = tx.pending
    if pending is not None:
        if fused and pending.fused is None:
            # Held back with the command's last insert: sent as one statement.
            pending.fused = _guarded_with_event(pending.shape, len(rows), told is not None)
            pending.fused_params = params
            return
        await tx.send_pending(last=False)
    if event_values is None:
        await _INSERT_DELIVERIES.run_many(tx.conn, rows)
    elif fused:
        await _insert_with_event(len(rows), told is not None).run(tx.conn, params)
    else:
        await _INSERT_EVENT.run(tx.conn, event_values)
        await _INSERT_DELIVERIES.run_many(tx.conn, rows)


async def postpone_unsent(tx: Transaction, event_id: UUID, due: datetime) -> bool:
    """Move an event's deliveries that no worker has touched to ``due``
    (coalescing edits). False when a worker took one meanwhile."""
    moved = await tx.conn.execute(
        update(deliveries)
        .where(deliveries.c.event_id == event_id, *untouched())
        .values(next_attempt_at=due, updated_at=tx.now)
    )
    return bool(moved.rowcount)


def untouched() -> list[Any]:
    """Conditions of a delivery no worker has leased or tried yet."""
    return [
        deliveries.c.status == Status.PENDING,
        deliveries.c.attempts == 0,
        deliveries.c.lease_owner.is_(None),
    ]


# -- announcing ---------------------------------------------------------------


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


def announce(
    tx: Transaction,
    wake: Callable[[], None],
    *,
    here: bool = True,
    due: list[tuple[UUID, UUID]] | None = None,
    told: bool = False,
) -> None:
    """Wake delivery once this transaction commits: workers in other
    processes on PostgreSQL (told after the commit; see delivery.notifier),
    and, unless ``here`` is false, the worker in this process (``wake``).
    ``due`` names the (webhook, delivery) pairs the caller made due, when
    that is all there is to claim (none of an ordered webhook, none due
    later): workers then lease those by id instead of searching for what is
    due. ``told``: the statement that wrote them notified workers already."""
    if here:
        tx.on_commit(wake)
    if told or not tx.postgres or tx.announce_search:
        return
    if due and len(tx.announced) + len(due) <= NAMED_MAX:
        tx.announced.extend(due)
    else:
        tx.announce_search = True  # workers search: no need to tell them more
        tx.announced.clear()


# -- pausing, resuming, requeueing --------------------------------------------


async def hold(tx: Transaction, webhook_id: UUID) -> None:
    """A webhook was switched off: its due deliveries wait, paused."""
    await tx.conn.execute(
        update(deliveries)
        .where(deliveries.c.webhook_id == webhook_id, deliveries.c.status.in_(DUE))
        .values(status=Status.PAUSED, lease_owner=None, lease_expires_at=None, updated_at=tx.now)
    )


async def resume(tx: Transaction, webhook_id: UUID, wake: Callable[[], None]) -> int:
    """A webhook is active again: what it held is due now, in event order."""
    resumed = await tx.conn.execute(
        update(deliveries)
        .where(deliveries.c.webhook_id == webhook_id, deliveries.c.status == Status.PAUSED)
        .values(status=Status.PENDING, next_attempt_at=tx.now, updated_at=tx.now)
    )
    count = int(resumed.rowcount or 0)
    if count:
        announce(tx, wake)
    return count


async def _webhook_active(tx: Transaction, webhook_id: UUID) -> bool:
    active = await tx.conn.scalar(select(webhooks.c.is_active).where(webhooks.c.id == webhook_id))
    return bool(active)


async def requeue_one(tx: Transaction, delivery_id: UUID, wake: Callable[[], None]) -> Status:
    """Send a delivery again now, whatever its state; while its webhook is
    not active it waits, paused. Answers its new status."""
    webhook_id = await tx.conn.scalar(
        select(deliveries.c.webhook_id).where(deliveries.c.id == delivery_id)
    )
    status = Status.PENDING
    if webhook_id is None or not await _webhook_active(tx, webhook_id):
        status = Status.PAUSED
    await tx.conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(
            status=status,
            next_attempt_at=tx.now,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=tx.now,
        )
    )
    if status == Status.PENDING:
        announce(tx, wake)
    return status


async def requeue_failed(
    tx: Transaction,
    webhook_id: UUID,
    since: datetime,
    until: datetime | None,
    wake: Callable[[], None],
) -> tuple[int, Status]:
    """Queue again a webhook's failed deliveries created in a window; paused
    while the webhook is not active. Answers how many, and their status."""
    status = Status.PENDING if await _webhook_active(tx, webhook_id) else Status.PAUSED
    window = [deliveries.c.created_at >= since]
    if until is not None:
        window.append(deliveries.c.created_at < until)
    changed = await tx.conn.execute(
        update(deliveries)
        .where(
            and_(deliveries.c.webhook_id == webhook_id, deliveries.c.status == Status.FAILED),
            *window,
        )
        .values(status=status, next_attempt_at=tx.now, updated_at=tx.now)
    )
    count = int(changed.rowcount or 0)
    if count and status == Status.PENDING:
        announce(tx, wake)
    return count, status


# -- claiming -----------------------------------------------------------------


def _with_webhook_and_event(source: Any) -> Any:
    """What sending needs of each delivery in ``source`` (the deliveries
    table, or a statement answering its id, attempts, webhook_id and
    event_id): read by ``_claimed``."""
    return (
        select(
            source.c.id.label("delivery_id"),
            source.c.attempts,
            webhooks.c.id.label("webhook_id"),
            *SENDING_COLUMNS,
            events.c.id.label("event_id"),
            events.c.name,
            events.c.team_id,
            events.c.profile_id,
            events.c.props,
            events.c.created_at,
            events.c.tracked_at,
        )
        .join(webhooks, webhooks.c.id == source.c.webhook_id)
        .join(events, events.c.id == source.c.event_id)
        .order_by(source.c.id)
    )


def _free_lease(now: Any) -> Any:
    return or_(deliveries.c.lease_expires_at.is_(None), deliveries.c.lease_expires_at < now)


def _literals(values: tuple[str, ...]) -> list[Any]:
    return [literal_column(f"'{value}'") for value in values]


def _room_unbounded(webhook_id: UUID, max_events_per_request: int) -> int:
    return 1 << 30


@dataclass(frozen=True)
class _ClaimStatements:
    heads: Prepared
    due_webhooks: Prepared
    oldest: Prepared
    fetch: Any


@functools.cache
def _claim_statements(postgres: bool) -> _ClaimStatements:
    """Built once: a claim runs on every burst of commits, and building and
    keying these statements each time cost more than running them.
    Parameters: ``now``, ``owner``, ``until``; ``hook`` and ``take``
    for one webhook's oldest; ``ids`` for the fetch."""
    now = bindparam("now", type_=UTCDateTime)
    lease = {
        "lease_owner": bindparam("owner", type_=deliveries.c.lease_owner.type),
        "lease_expires_at": bindparam("until", type_=UTCDateTime),
    }
    due = [
        # Literals, not parameters: a partial index (ix_deliveries_due) is
        # used only when the query's condition visibly implies its own.
        deliveries.c.status.in_(_literals(DUE)),
        deliveries.c.next_attempt_at <= now,
        _free_lease(now),
    ]
    # An ordered webhook's head is its oldest unfinished delivery (found
    # through ix_deliveries_unfinished, from the few ordered webhooks rather
    # than from every due delivery); it is claimed when due and free.
    earlier = deliveries.alias("earlier")
    head = (
        select(earlier.c.id)
        .where(
            earlier.c.webhook_id == webhooks.c.id,
            earlier.c.status.in_(_literals(UNFINISHED)),
        )
        .order_by(earlier.c.id)
        .limit(1)
        .correlate(webhooks)
        .scalar_subquery()
    )
    heads = (
        select(deliveries.c.id)
        .where(
            deliveries.c.id.in_(
                select(head).where(webhooks.c.is_active.is_(True), webhooks.c.ordered.is_(True))
            ),
            *due,
        )
        .limit(bindparam("take", type_=Integer))
    )
    # Unordered webhooks with a due delivery, the one due longest first: one
    # index probe per webhook.
    first_due = (
        select(deliveries.c.next_attempt_at)
        .where(deliveries.c.webhook_id == webhooks.c.id, *due)
        .order_by(deliveries.c.next_attempt_at)
        .limit(1)
        .correlate(webhooks)
        .scalar_subquery()
        .label("first_due")
    )
    listed = (
        select(webhooks.c.id, webhooks.c.max_events_per_request, first_due)
        .where(webhooks.c.is_active.is_(True), webhooks.c.ordered.is_(False))
        .subquery()
    )
    due_webhooks = (
        select(listed.c.id, listed.c.max_events_per_request)
        .where(listed.c.first_due.is_not(None))
        .order_by(listed.c.first_due, listed.c.id)
    )
    oldest = (
        select(deliveries.c.id)
        .where(deliveries.c.webhook_id == bindparam("hook", type_=Uuid), *due)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(bindparam("take", type_=Integer))
    )
    if postgres:
        heads = heads.with_for_update(of=deliveries, skip_locked=True)
        oldest = oldest.with_for_update(skip_locked=True)

    def leasing(candidates: Any) -> Any:
        return (
            update(deliveries)
            .where(deliveries.c.id.in_(candidates.scalar_subquery()))
            .values(**lease)
            .returning(deliveries.c.id)
        )

    fetch = _with_webhook_and_event(deliveries).where(
        deliveries.c.id.in_(bindparam("ids", expanding=True))
    )
    # Run on the driver (see Prepared): with many webhooks due, a claim runs
    # one ``oldest`` per webhook.
    return _ClaimStatements(
        Prepared(leasing(heads)), Prepared(due_webhooks), Prepared(leasing(oldest)), fetch
    )


async def claim(
    conn: AsyncConnection,
    *,
    owner: str,
    now: datetime,
    lease_s: float,
    limit: int,
    postgres: bool,
    room_for: Callable[[UUID, int], int] = _room_unbounded,
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries.

    Unordered webhooks: those with due deliveries, the one due longest first,
    each giving up to ``room_for(webhook id, max events per request)`` of its
    oldest due ones. Claiming webhook by webhook, through an index that starts
    with the webhook, means a webhook this worker has no room for costs one
    index probe, however large its backlog: a dead endpoint's pile of due
    deliveries is never walked to reach a healthy webhook's.

    Ordered webhooks: only the oldest unfinished delivery, when due."""
    statements = _claim_statements(postgres)
    params = {"now": now, "owner": owner, "until": now + timedelta(seconds=lease_s)}

    async def heads() -> list[UUID]:
        return [row.id for row in await statements.heads.all(conn, {**params, "take": limit})]

    async def due() -> list[tuple[UUID, int]]:
        rows = await statements.due_webhooks.all(conn, params)
        return [(row.id, row.max_events_per_request) for row in rows]

    async def oldest(hook: UUID, take: int) -> list[UUID]:
        rows = await statements.oldest.all(conn, {**params, "hook": hook, "take": take})
        return [row.id for row in rows]

    ids = await _claim_in_turn(heads, due, oldest, limit, room_for)
    if not ids:
        return []
    return _claimed(await conn.execute(statements.fetch, {"ids": ids}))


async def _claim_in_turn(
    heads: Callable[[], Awaitable[list[_T]]],
    due_webhooks: Callable[[], Awaitable[list[tuple[UUID, int]]]],
    oldest: Callable[[UUID, int], Awaitable[list[_T]]],
    limit: int,
    room_for: Callable[[UUID, int], int],
) -> list[_T]:
    """The order of a claim (see ``claim``): ordered webhooks' heads first, at
    most one each and never crowded out, then each due webhook's oldest, as
    far as its room and the limit allow."""
    found = await heads()
    for hook, batch_size in await due_webhooks():
        take = min(room_for(hook, batch_size), limit - len(found))
        if len(found) >= limit:
            break
        if take <= 0:
            continue
        found.extend(await oldest(hook, take))
    return found


async def claim_pg(
    conn: Any,
    *,
    owner: str,
    now: datetime,
    lease_s: float,
    limit: int,
    room_for: Callable[[UUID, int], int] = _room_unbounded,
) -> list[Claimed]:
    """``claim`` on an asyncpg connection whose statements are transactions
    by themselves (Database.connect_async_commits): each lease is one
    statement answering the leased deliveries with their webhook and event,
    so a claim of one webhook's deliveries is three round trips to the
    server (heads, due webhooks, oldest) where a transaction takes six."""
    heads_sql, oldest_sql, due_sql = _claim_pg_sql()
    params = {"now": now, "owner": owner, "until": now + timedelta(seconds=lease_s)}

    async def heads() -> list[Claimed]:
        return _claimed_records(await _fetch(conn, heads_sql, {**params, "take": limit}))

    async def due() -> list[tuple[UUID, int]]:
        return [
            (row["id"], row["max_events_per_request"])
            for row in await _fetch(conn, due_sql, params)
        ]

    async def oldest(hook: UUID, take: int) -> list[Claimed]:
        return _claimed_records(
            await _fetch(conn, oldest_sql, {**params, "hook": hook, "take": take})
        )

    return await _claim_in_turn(heads, due, oldest, limit, room_for)


@dataclass(frozen=True)
class _Sql:
    """A statement as asyncpg runs it: its text, its parameters' names in
    order, and the values of those it fixes itself (a LIMIT 1)."""

    text: str
    names: tuple[str, ...]
    fixed: dict[str, Any]


def _asyncpg_sql(statement: Any) -> _Sql:
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    compiled = statement.compile(dialect=dialect)
    fixed = compiled.construct_params(_check=False)
    return _Sql(str(compiled), tuple(compiled.positiontup or ()), fixed)


async def _fetch(conn: Any, sql: _Sql, params: dict[str, Any]) -> Any:
    values = (params[name] if name in params else sql.fixed[name] for name in sql.names)
    return await conn.fetch(sql.text, *values)


def _claimed_records(records: Iterable[Any]) -> list[Claimed]:
    # asyncpg hands JSONB over as text, and timestamps in UTC already.
    return _claimed(
        SimpleNamespace(**{**record, "props": json.loads(record["props"])}) for record in records
    )


@functools.cache
def _claim_pg_sql() -> tuple[_Sql, _Sql, _Sql]:
    """``claim``'s statements for ``claim_pg``: heads and oldest each lease
    and answer what they leased with its webhook and event."""
    statements = _claim_statements(True)

    def answering(lease: Prepared) -> Any:
        leased = lease.statement.returning(  # type: ignore[attr-defined]
            deliveries.c.attempts, deliveries.c.webhook_id, deliveries.c.event_id
        ).cte("leased")
        return _with_webhook_and_event(leased)

    return (
        _asyncpg_sql(answering(statements.heads)),
        _asyncpg_sql(answering(statements.oldest)),
        _asyncpg_sql(statements.due_webhooks.statement),
    )


def _claimed(rows: Iterable[Any]) -> list[Claimed]:
    """Claimed deliveries from rows of ``_with_webhook_and_event``."""
    found: list[Claimed] = []
    hooks: dict[UUID, WebhookRow] = {}
    for row in rows:
        hook = hooks.get(row.webhook_id)
        if hook is None:
            hook = hooks[row.webhook_id] = WebhookRow.from_row(row.webhook_id, row)
        event = EventRow.from_row(row, row.event_id)
        found.append(Claimed(row.delivery_id, row.attempts, hook, event))
    return found


@functools.cache
def _claim_named_statement() -> Any:
    """One statement (PostgreSQL): lease those of the given deliveries that
    are still due and free, of active unordered webhooks, and answer them
    with their webhook and event. Parameters: ``ids``, ``now``, ``owner``,
    ``until``."""
    now = bindparam("now", type_=UTCDateTime)
    # The statuses as a parameter, not as literals: ix_deliveries_due is then
    # of no use here, and the named deliveries are looked up by their key. A
    # plan made while the table was small (and kept after five runs) read
    # that index from end to end: every due delivery, such as a dead
    # endpoint's whole backlog, for the few named.
    picked = (
        select(deliveries.c.id)
        .join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
        .where(
            deliveries.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(Uuid))),
            deliveries.c.status == any_(bindparam("due", type_=postgresql.ARRAY(String))),
            deliveries.c.next_attempt_at <= now,
            _free_lease(now),
            webhooks.c.is_active.is_(True),
            webhooks.c.ordered.is_(False),
        )
        .with_for_update(of=deliveries, skip_locked=True)
        .cte("picked")
    )
    leased = (
        update(deliveries)
        .where(deliveries.c.id == picked.c.id)
        .values(
            lease_owner=bindparam("owner", type_=deliveries.c.lease_owner.type),
            lease_expires_at=bindparam("until", type_=UTCDateTime),
        )
        .returning(
            deliveries.c.id, deliveries.c.attempts, deliveries.c.webhook_id, deliveries.c.event_id
        )
        .cte("leased")
    )
    return _with_webhook_and_event(leased)


@functools.cache
def _claim_named_sql() -> _Sql:
    return _asyncpg_sql(_claim_named_statement())


async def claim_named(
    conn: Any, ids: list[UUID], *, owner: str, now: datetime, lease_s: float
) -> list[Claimed]:
    """Lease the given deliveries, those still due and free, on an asyncpg
    connection (PostgreSQL; see Database.connect_async_commits). A commit names the
    deliveries it made due in its NOTIFY; leasing exactly those is one
    statement, where a claim searches webhook by webhook. Ordered webhooks and
    anything not named are left to ``claim``."""
    if not ids:
        return []
    params = {
        "ids": ids,
        "due": [str(status) for status in DUE],
        "now": now,
        "owner": owner,
        "until": now + timedelta(seconds=lease_s),
    }
    return _claimed_records(await _fetch(conn, _claim_named_sql(), params))


async def renew(conn: AsyncConnection, owner: str, ids: list[UUID], until: datetime) -> None:
    if ids:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.lease_owner == owner, deliveries.c.id.in_(ids))
            .values(lease_expires_at=until)
        )


async def release(conn: AsyncConnection, owner: str, ids: list[UUID]) -> None:
    """Give back leases on deliveries this worker will not send (shutdown)."""
    if ids:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.lease_owner == owner, deliveries.c.id.in_(ids))
            .values(lease_owner=None, lease_expires_at=None)
        )


# -- outcomes -----------------------------------------------------------------

# Built once: outcomes are written many times a second (the statement objects
# keep their cache keys, so each execution skips building and keying them).
_PRESENT = select(deliveries.c.id).where(deliveries.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_ATTEMPTS = Prepared(insert(delivery_attempts))
_MARK_DELIVERIES = Prepared(
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_due"),
        last_error=bindparam("b_error"),
        last_status=bindparam("b_status_code"),
        last_attempt_at=bindparam("b_at"),
        last_duration_ms=bindparam("b_ms"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now"),
    )
)
# A disabled webhook's counts stand as they were when it was disabled: the
# outcomes of requests still in flight then neither add to nor clear them.
_COUNTING = webhooks.c.state != DISABLED_BY_ERRORS
_WEBHOOK_SUCCEEDED = Prepared(
    update(webhooks)
    .where(webhooks.c.id == bindparam("b_id"), _COUNTING)
    .values(error_count=0, error_code=None, last_triggered_at=bindparam("b_at"))
)


def _next_state(
    result: Result, attempt: int, schedule: tuple[float, ...], now: datetime
) -> tuple[Status, datetime]:
    verdict = result.verdict
    if verdict == Verdict.SENT:
        return Status.SUCCEEDED, result.sent_at
    if verdict == Verdict.GONE:
        return Status.PAUSED, now
    if verdict == Verdict.PERMANENT:
        return Status.FAILED, result.sent_at
    delay = retry_delay(schedule, attempt, result.retry_after_s)
    if delay is None:
        return Status.FAILED, result.sent_at
    return Status.RETRYING, now + timedelta(seconds=delay)


async def record(
    conn: AsyncConnection,
    results: list[Result],
    now: datetime,
    *,
    schedule: tuple[float, ...],
    disable_after: int,
) -> list[UUID]:
    """Write outcomes: attempts, delivery states, webhook error tracking,
    and disabling. Answers the webhooks this disabled."""
    ids = [item.delivery_id for r in results for item in r.items]
    present = {row.id for row in await conn.execute(_PRESENT, {"ids": ids})}
    attempt_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    for result in results:
        for item, doc in zip(result.items, result.bodies, strict=True):
            if item.delivery_id not in present:
                continue  # its webhook was deleted meanwhile
            attempt = item.attempts + 1
            attempt_rows.append(
                {
                    "id": new_id(),
                    "delivery_id": item.delivery_id,
                    "attempt": attempt,
                    "sent_at": result.sent_at,
                    "url": result.url,
                    "request_headers": result.request_headers,
                    "request_body": doc,
                    "response_status": result.status,
                    "response_headers": result.response_headers,
                    "response_body": result.response_body,
                    "duration_ms": result.duration_ms,
                    "error_code": result.error_code,
                    "batch_size": len(result.items),
                }
            )
            status, due = _next_state(result, attempt, schedule, now)
            delivery_rows.append(
                {
                    "b_id": item.delivery_id,
                    "b_status": status,
                    "b_attempts": attempt,
                    "b_due": due,
                    "b_error": result.error_code,
                    "b_status_code": result.status,
                    "b_at": result.sent_at,
                    "b_ms": result.duration_ms,
                    "b_now": now,
                }
            )
    # Outcomes are written while this process may be sending: between
    # statements, let the event loop send what became ready (on SQLite the
    # statements themselves run on the loop; see sqlite_driver).
    await asyncio.sleep(0)
    if attempt_rows:
        await _INSERT_ATTEMPTS.run_many(conn, attempt_rows)
        await asyncio.sleep(0)
    if delivery_rows:
        await _MARK_DELIVERIES.run_many(conn, delivery_rows)
    await asyncio.sleep(0)
    failing = await _track_webhooks(conn, results, disable_after)
    if not failing:
        return []  # no webhook's error count went up: none can reach the limit
    await asyncio.sleep(0)
    gone = {r.items[0].webhook.id for r in results if r.verdict == Verdict.GONE}
    disabled = await _disable(conn, failing, gone, disable_after, now)
    await _hold_inactive(conn, failing, now)
    return disabled


# The outcomes of requests that all succeeded, written by one statement
# (PostgreSQL): the attempts of the deliveries still there (a webhook may
# have been deleted meanwhile), those deliveries succeeded, and their
# webhooks' error counts cleared, as ``record`` writes them. (Statuses as
# literals: Status.SUCCEEDED and DISABLED_BY_ERRORS.)
_RECORD_SENT_SQL = """
WITH given AS (
    SELECT * FROM unnest(
        $1::uuid[], $2::uuid[], $3::int[], $4::timestamptz[], $5::text[], $6::text[],
        $7::text[], $8::int[], $9::text[], $10::text[], $11::int[], $12::int[]
    ) AS g(id, delivery_id, attempt, sent_at, url, request_headers, request_body,
           response_status, response_headers, response_body, duration_ms, batch_size)
), present AS (
    SELECT given.* FROM given JOIN deliveries ON deliveries.id = given.delivery_id
), attempts AS (
    INSERT INTO delivery_attempts (
        id, delivery_id, attempt, sent_at, url, request_headers, request_body,
        response_status, response_headers, response_body, duration_ms, error_code, batch_size
    )
    SELECT id, delivery_id, attempt, sent_at, url, request_headers::jsonb, request_body,
           response_status, response_headers::jsonb, response_body, duration_ms, NULL,
           batch_size
    FROM present
), marked AS (
    UPDATE deliveries SET
        status = 'succeeded', attempts = present.attempt,
        next_attempt_at = present.sent_at, last_error = NULL,
        last_status = present.response_status, last_attempt_at = present.sent_at,
        last_duration_ms = present.duration_ms, lease_owner = NULL, lease_expires_at = NULL,
        updated_at = $13
    FROM present WHERE deliveries.id = present.delivery_id
)
UPDATE webhooks SET error_count = 0, error_code = NULL, last_triggered_at = sent.at
FROM unnest($14::uuid[], $15::timestamptz[]) AS sent(id, at)
WHERE webhooks.id = sent.id AND webhooks.state <> 'disabled-by-errors'
"""


def all_sent(results: list[Result]) -> bool:
    """Whether every request of ``results`` succeeded (``record_sent`` writes
    those; any other outcome needs ``record``)."""
    return all(result.verdict == Verdict.SENT for result in results)


async def record_sent(conn: Any, results: list[Result], now: datetime) -> None:
    """``record`` for results that all succeeded, as one statement on an
    asyncpg connection whose statements are transactions by themselves
    (PostgreSQL; Database.connect_statements): one round trip where a
    transaction of ``record`` takes six."""
    rows: list[tuple[Any, ...]] = []
    triggered: dict[UUID, datetime] = {}
    for result in results:
        if result.verdict != Verdict.SENT:
            raise ValueError("record_sent writes only requests that succeeded")
        sent_headers = json.dumps(result.request_headers)
        answered_headers = (
            None if result.response_headers is None else json.dumps(result.response_headers)
        )
        rows.extend(
            # In the order of the statement's unnest ($1 to $12).
            (
                new_id(),
                item.delivery_id,
                item.attempts + 1,
                result.sent_at,
                result.url,
                sent_headers,
                doc,
                result.status,
                answered_headers,
                result.response_body,
                result.duration_ms,
                len(result.items),
            )
            for item, doc in zip(result.items, result.bodies, strict=True)
        )
        triggered[result.items[0].webhook.id] = result.sent_at
    if not rows:
        return
    columns = [list(column) for column in zip(*rows, strict=True)]
    await conn.execute(_RECORD_SENT_SQL, *columns, now, list(triggered), list(triggered.values()))


async def _track_webhooks(
    conn: AsyncConnection, results: list[Result], disable_after: int
) -> set[UUID]:
    """Consecutive failures per webhook, counted up to ``disable_after``; a
    success resets them. Answers the webhooks with a failure among these
    results."""
    runs: dict[UUID, tuple[bool, int, str | None, datetime | None]] = {}
    for result in results:
        hook = result.items[0].webhook.id
        reset, failures, code, triggered = runs.get(hook, (False, 0, None, None))
        if result.ok:
            runs[hook] = (True, 0, None, result.sent_at)
        else:
            runs[hook] = (reset, failures + 1, result.error_code, triggered)
    succeeded = []
    for hook, (reset, failures, code, triggered) in runs.items():
        if reset and not failures and triggered is not None:
            # The usual case: all of them in one statement built once.
            succeeded.append({"b_id": hook, "b_at": triggered})
            continue
        values: dict[str, Any] = {}
        if reset:
            values["error_count"] = min(failures, disable_after)
            values["error_code"] = code
        elif failures:
            counted = webhooks.c.error_count + failures
            # Several failures written at once stop at the limit too.
            values["error_count"] = case((counted > disable_after, disable_after), else_=counted)
            values["error_code"] = code
        if triggered is not None:
            values["last_triggered_at"] = triggered
        if values:
            await conn.execute(
                update(webhooks).where(webhooks.c.id == hook, _COUNTING).values(**values)
            )
    await _WEBHOOK_SUCCEEDED.run_many(conn, succeeded)
    return {hook for hook, (_reset, failures, _code, _at) in runs.items() if failures}


async def _disable(
    conn: AsyncConnection,
    touched: set[UUID],
    gone: set[UUID],
    disable_after: int,
    now: datetime,
) -> list[UUID]:
    """Turn off webhooks that failed ``disable_after`` times in a row (or
    answered 410 Gone). One statement decides: of two workers writing
    outcomes of the same webhook, the second finds it disabled already."""
    reached = webhooks.c.error_count >= disable_after
    changed = await conn.execute(
        update(webhooks)
        .where(
            webhooks.c.is_active.is_(True),
            webhooks.c.id.in_(touched),
            or_(reached, webhooks.c.id.in_(gone)) if gone else reached,
        )
        .values(state=DISABLED_BY_ERRORS, is_active=False, updated_at=now)
        .returning(webhooks.c.id)
    )
    return [row.id for row in changed]


async def _hold_inactive(conn: AsyncConnection, touched: set[UUID], now: datetime) -> None:
    """Every unfinished delivery of a webhook that is not active waits,
    paused: those it had queued, and those whose retry was written just now
    or by another worker in flight when it was disabled."""
    inactive = select(webhooks.c.id).where(
        webhooks.c.id.in_(touched), webhooks.c.is_active.is_(False)
    )
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.webhook_id.in_(inactive), deliveries.c.status.in_(DUE))
        .values(status=Status.PAUSED, lease_owner=None, lease_expires_at=None, updated_at=now)
    )


# -- housekeeping -------------------------------------------------------------


async def clean_up(conn: AsyncConnection, retention_days: int, now: datetime) -> int:
    """Drop history older than the retention period; answers attempts removed."""
    cutoff = now - timedelta(days=retention_days)
    removed = await conn.execute(
        delete(delivery_attempts).where(delivery_attempts.c.sent_at < cutoff)
    )
    await conn.execute(
        delete(deliveries).where(
            deliveries.c.status.in_(FINISHED), deliveries.c.updated_at < cutoff
        )
    )
    await conn.execute(
        delete(events).where(
            events.c.created_at < cutoff,
            ~exists().where(deliveries.c.event_id == events.c.id),
        )
    )
    return int(removed.rowcount or 0)


async def queue_depth(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(
        select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
    )
    return {row[0]: int(row[1]) for row in rows}
