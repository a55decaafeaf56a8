"""Due deliveries written straight into a Hookline database, for the parts that
measure delivery alone: a worker started afterwards drains them, and nothing
else runs meanwhile (an API raising the events would share the CPUs with it).

Each event is a ``create-project`` event whose props carry ``bench-<n>``, so
the receiver sequences it like the events raised through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from hookline.ids import new_id
from hookline.storage.tables import deliveries, events

# Rows per INSERT: keeps each statement's parameters within both drivers' limits.
CHUNK = 1000


async def seed(url: str, team_id: str, webhook_id: str, count: int) -> None:
    """``count`` events of ``team_id``, each with one pending delivery to
    ``webhook_id`` due now, in event order, in one transaction. ``url`` is a
    SQLAlchemy async URL (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``)."""
    engine = create_async_engine(url)
    now = datetime.now(UTC)
    team, hook = UUID(team_id), UUID(webhook_id)
    try:
        async with engine.begin() as conn:
            for start in range(0, count, CHUNK):
                ids = [new_id() for _ in range(start, min(start + CHUNK, count))]
                await conn.execute(
                    insert(events),
                    [
                        {
                            "id": event,
                            "name": "create-project",
                            "team_id": team,
                            "profile_id": None,
                            "props": {"name": f"bench-{start + n}"},
                            "created_at": now,
                            "tracked_at": now,
                        }
                        for n, event in enumerate(ids)
                    ],
                )
                await conn.execute(
                    insert(deliveries),
                    [
                        {
                            "id": new_id(),
                            "webhook_id": hook,
                            "event_id": event,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for event in ids
                    ],
                )
    finally:
        await engine.dispose()


def bulk_sql(team_id: str, webhook_id: str, count: int) -> str:
    """The same rows for PostgreSQL in three statements, for a backlog too
    large to send row by row (the memory part's million). Ids keep UUIDv7's
    ordering: a fixed past timestamp, then a counter. Then the statistics
    autovacuum would gather after such a bulk load."""
    eid = "('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid"
    did = "('01900000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid"
    return f"""
    INSERT INTO events (id, name, team_id, profile_id, props, created_at, tracked_at)
    SELECT {eid}, 'create-project', '{team_id}', NULL,
           jsonb_build_object('name', 'bench-' || i), now(), now()
    FROM generate_series(1, {count}) AS i;
    INSERT INTO deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at,
                            created_at, updated_at)
    SELECT {did}, '{webhook_id}', {eid}, 'pending', 0, now(), now(), now()
    FROM generate_series(1, {count}) AS i;
    ANALYZE events;
    ANALYZE deliveries;
    """
