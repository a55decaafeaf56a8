"""What the worker reads and writes: claiming due deliveries with a lease,
renewing and releasing leases, and recording outcomes in batches."""

from __future__ import annotations

import asyncio
import functools
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Integer,
    Uuid,
    any_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.delivery.render import EventRow
from hookline.ids import new_id
from hookline.settings import Settings
from hookline.storage.tables import deliveries, delivery_attempts, events, webhooks
from hookline.storage.types import UTCDateTime

DUE = ("pending", "retrying")
UNFINISHED = ("pending", "retrying", "paused")
RETRY_AFTER_MAX_S = 24 * 3600.0


@dataclass
class WebhookRow:
    id: UUID
    uri: str
    mtype: str
    verify_ssl: bool
    max_events_per_request: int
    ordered: bool
    secret_enc: str
    previous_secret_enc: str | None
    previous_secret_expires_at: datetime | None

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
            row.previous_secret_enc,
            row.previous_secret_expires_at,
        )


# What sending needs of a webhook besides its id (see WebhookRow.from_row).
SENDING_COLUMNS = (
    webhooks.c.uri,
    webhooks.c.mtype,
    webhooks.c.verify_ssl,
    webhooks.c.max_events_per_request,
    webhooks.c.ordered,
    webhooks.c.secret_enc,
    webhooks.c.previous_secret_enc,
    webhooks.c.previous_secret_expires_at,
)


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


def _free_lease(now: Any) -> Any:
    return or_(deliveries.c.lease_expires_at.is_(None), deliveries.c.lease_expires_at < now)


def _literals(values: tuple[str, ...]) -> list[Any]:
    return [literal_column(f"'{value}'") for value in values]


def _room_unbounded(webhook_id: UUID, max_events_per_request: int) -> int:
    return 1 << 30


@dataclass(frozen=True)
class _ClaimStatements:
    heads: Any
    due_webhooks: Any
    oldest: Any
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
    return _ClaimStatements(leasing(heads), due_webhooks, leasing(oldest), fetch)


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
    claimed = await conn.execute(statements.heads, {**params, "take": limit})
    # Heads first: at most one per ordered webhook, and never crowded out.
    ids: list[UUID] = [row.id for row in claimed]
    for row in await conn.execute(statements.due_webhooks, params):
        take = min(room_for(row.id, row.max_events_per_request), limit - len(ids))
        if len(ids) >= limit:
            break
        if take <= 0:
            continue
        claimed = await conn.execute(statements.oldest, {**params, "hook": row.id, "take": take})
        ids.extend(r.id for r in claimed)
    if not ids:
        return []
    return _claimed(await conn.execute(statements.fetch, {"ids": ids}))


def _claimed(rows: Iterable[Any]) -> list[Claimed]:
    """Claimed deliveries from rows of ``_with_webhook_and_event``."""
    found: list[Claimed] = []
    hooks: dict[UUID, WebhookRow] = {}
    for row in rows:
        hook = hooks.get(row.webhook_id)
        if hook is None:
            hook = hooks[row.webhook_id] = WebhookRow.from_row(row.webhook_id, row)
        event = EventRow(
            row.event_id,
            row.name,
            row.team_id,
            row.profile_id,
            row.props,
            row.created_at,
            row.tracked_at,
        )
        found.append(Claimed(row.delivery_id, row.attempts, hook, event))
    return found


@functools.cache
def _claim_named_statement() -> Any:
    """One statement (PostgreSQL): lease those of the given deliveries that
    are still due and free, of active unordered webhooks, and answer them
    with their webhook and event. Parameters: ``ids``, ``now``, ``owner``,
    ``until``."""
    now = bindparam("now", type_=UTCDateTime)
    picked = (
        select(deliveries.c.id)
        .join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
        .where(
            deliveries.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(Uuid))),
            deliveries.c.status.in_(_literals(DUE)),
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
def _claim_named_sql() -> tuple[str, tuple[str, ...]]:
    """The statement as asyncpg runs it, and its parameters' names in order."""
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    compiled = _claim_named_statement().compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ())


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
    sql, names = _claim_named_sql()
    params = {"ids": ids, "now": now, "owner": owner, "until": now + timedelta(seconds=lease_s)}
    records = await conn.fetch(sql, *(params[name] for name in names))
    # asyncpg hands JSONB over as text, and timestamps in UTC already.
    return _claimed(
        SimpleNamespace(**{**record, "props": json.loads(record["props"])}) for record in records
    )


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


def retry_delay(settings: Settings, attempts: int, retry_after_s: float | None) -> float | None:
    """Seconds until the next attempt after ``attempts`` failed ones; None when
    the schedule is used up."""
    schedule = settings.retry_schedule
    if attempts > len(schedule):
        return None
    if retry_after_s is not None:
        return min(max(retry_after_s, 1.0), RETRY_AFTER_MAX_S)
    base = schedule[attempts - 1]
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


# Built once: outcomes are written many times a second (the statement objects
# keep their cache keys, so each execution skips building and keying them).
_PRESENT = select(deliveries.c.id).where(deliveries.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_ATTEMPTS = insert(delivery_attempts)
_MARK_DELIVERIES = (
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
_WEBHOOK_SUCCEEDED = (
    update(webhooks)
    .where(webhooks.c.id == bindparam("b_id"))
    .values(error_count=0, error_code=None, last_triggered_at=bindparam("b_at"))
)


async def record(
    conn: AsyncConnection, settings: Settings, results: list[Result], now: datetime
) -> list[UUID]:
    """Write outcomes: attempts, delivery states, webhook error tracking.
    Answers the webhooks this disabled."""
    ids = [item.delivery_id for r in results for item in r.items]
    present = {row.id for row in await conn.execute(_PRESENT, {"ids": ids})}
    attempt_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    gone: set[UUID] = set()
    for result in results:
        if result.status == 410:
            gone.update(item.webhook.id for item in result.items)
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
            if result.ok:
                status, due = "succeeded", result.sent_at
            elif result.status == 410:
                status, due = "paused", now
            else:
                delay = retry_delay(settings, attempt, result.retry_after_s)
                if delay is None:
                    status, due = "failed", result.sent_at
                else:
                    status, due = "retrying", now + timedelta(seconds=delay)
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
        await conn.execute(_INSERT_ATTEMPTS, attempt_rows)
        await asyncio.sleep(0)
    if delivery_rows:
        await conn.execute(_MARK_DELIVERIES, delivery_rows)
    await asyncio.sleep(0)
    failing = await _track_webhooks(conn, results, now)
    if not failing and not gone:
        return []  # no webhook's error count went up: none can reach the limit
    await asyncio.sleep(0)
    return await _disable(conn, settings, failing | gone, gone, now)


async def _track_webhooks(conn: AsyncConnection, results: list[Result], now: datetime) -> set[UUID]:
    """Consecutive failures per webhook; a success resets them. Answers the
    webhooks whose count went up."""
    runs: dict[UUID, tuple[bool, int, str | None, datetime | None]] = {}
    for result in results:
        hook = result.items[0].webhook.id
        reset, failures, code, triggered = runs.get(hook, (False, 0, None, None))
        if result.ok:
            runs[hook] = (True, 0, None, result.sent_at)
        else:
            runs[hook] = (reset, failures + 1, result.error_code, triggered)
    for hook, (reset, failures, code, triggered) in runs.items():
        if reset and not failures and triggered is not None:
            # The usual case, with a statement built once.
            await conn.execute(_WEBHOOK_SUCCEEDED, {"b_id": hook, "b_at": triggered})
            continue
        values: dict[str, Any] = {}
        if reset:
            values["error_count"] = failures
            values["error_code"] = code
        elif failures:
            values["error_count"] = webhooks.c.error_count + failures
            values["error_code"] = code
        if triggered is not None:
            values["last_triggered_at"] = triggered
        if values:
            await conn.execute(update(webhooks).where(webhooks.c.id == hook).values(**values))
    return {hook for hook, (_reset, failures, _code, _at) in runs.items() if failures}


async def _disable(
    conn: AsyncConnection,
    settings: Settings,
    touched: set[UUID],
    gone: set[UUID],
    now: datetime,
) -> list[UUID]:
    """Turn off webhooks that failed too often (or answered 410 Gone) and hold
    their remaining deliveries until someone re-activates them."""
    changed = await conn.execute(
        update(webhooks)
        .where(
            webhooks.c.is_active.is_(True),
            webhooks.c.id.in_(touched),
            or_(
                webhooks.c.error_count >= settings.disable_after_failures,
                webhooks.c.id.in_(gone) if gone else false(),
            ),
        )
        .values(state="disabled-by-errors", is_active=False, updated_at=now)
        .returning(webhooks.c.id)
    )
    disabled: list[UUID] = [row.id for row in changed]
    if disabled:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.webhook_id.in_(disabled), deliveries.c.status.in_(DUE))
            .values(status="paused", lease_owner=None, lease_expires_at=None, updated_at=now)
        )
    return disabled


async def clean_up(conn: AsyncConnection, settings: Settings, now: datetime) -> int:
    """Drop history older than the retention period; answers attempts removed."""
    cutoff = now - timedelta(days=settings.retention_days)
    removed = await conn.execute(
        delete(delivery_attempts).where(delivery_attempts.c.sent_at < cutoff)
    )
    await conn.execute(
        delete(deliveries).where(
            deliveries.c.status.in_(("succeeded", "failed")), deliveries.c.updated_at < cutoff
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
