"""A webhook's last 24 hours for its overview: attempts by hour and result,
and the share that succeeded. One aggregate query (a pair of counts per
hour), so a busy webhook costs no more to show than a quiet one. Callers
first load the webhook through ``get-webhook``, which checks the visitor may
see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import and_, case, func, or_, select

from hookline.services import Services
from hookline.storage.tables import deliveries, delivery_attempts

HOURS = 24


@dataclass(frozen=True)
class Hour:
    start: datetime
    succeeded: int
    failed: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed


@dataclass(frozen=True)
class Day:
    hours: list[Hour]

    @property
    def succeeded(self) -> int:
        return sum(h.succeeded for h in self.hours)

    @property
    def total(self) -> int:
        return sum(h.total for h in self.hours)

    @property
    def success_rate(self) -> int | None:
        """Percent of attempts that succeeded, None without attempts."""
        return round(100 * self.succeeded / self.total) if self.total else None

    @property
    def busiest(self) -> int:
        return max((h.total for h in self.hours), default=0)


async def last_day(services: Services, webhook_id: UUID, now: datetime) -> Day:
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    starts = [end - timedelta(hours=HOURS - n) for n in range(HOURS)]
    ok = delivery_attempts.c.response_status.between(200, 299)
    # No response at all (a timeout, a refused connection) is a failure too.
    failed = or_(delivery_attempts.c.response_status.is_(None), ~ok)
    columns = []
    for start in starts:
        within = and_(
            delivery_attempts.c.sent_at >= start,
            delivery_attempts.c.sent_at < start + timedelta(hours=1),
        )
        columns.append(func.sum(case((and_(within, ok), 1), else_=0)))
        columns.append(func.sum(case((and_(within, failed), 1), else_=0)))
    query = (
        select(*columns)
        .select_from(
            delivery_attempts.join(deliveries, deliveries.c.id == delivery_attempts.c.delivery_id)
        )
        .where(deliveries.c.webhook_id == webhook_id, delivery_attempts.c.sent_at >= starts[0])
    )
    async with services.db.read() as conn:
        row = (await conn.execute(query)).one()
    counts = [int(value or 0) for value in row]
    return Day([Hour(start, counts[2 * n], counts[2 * n + 1]) for n, start in enumerate(starts)])


@dataclass(frozen=True)
class LastAttempt:
    """A webhook's delivery attempted most recently, as the table shows it."""

    id: UUID
    status: str
    last_status: int | None
    last_error: str | None
    sent_at: datetime


async def last_attempts(services: Services, webhook_ids: list[UUID]) -> dict[UUID, LastAttempt]:
    """For each webhook, its delivery attempted most recently: one query for
    the whole table rather than a page of history per webhook. Callers pass
    ids from ``get-webhooks``, which checked the visitor may see them."""
    if not webhook_ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=deliveries.c.webhook_id,
            order_by=(deliveries.c.last_attempt_at.desc(), deliveries.c.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(
            deliveries.c.webhook_id,
            deliveries.c.id,
            deliveries.c.status,
            deliveries.c.last_status,
            deliveries.c.last_error,
            deliveries.c.last_attempt_at,
            rank,
        )
        .where(
            deliveries.c.webhook_id.in_(webhook_ids),
            deliveries.c.last_attempt_at.is_not(None),
        )
        .subquery()
    )
    async with services.db.read() as conn:
        rows = await conn.execute(select(ranked).where(ranked.c.rank == 1))
        return {
            row.webhook_id: LastAttempt(
                row.id, row.status, row.last_status, row.last_error, row.last_attempt_at
            )
            for row in rows
        }
