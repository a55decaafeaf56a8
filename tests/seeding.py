"""Rows written straight into a database, for tests of the storage layer
that need many deliveries without the API that normally makes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert

from hookline.ids import new_id
from hookline.storage.database import Database
from hookline.storage.tables import deliveries, events, teams, webhooks


async def seed_due_deliveries(url: str, due_at: list[datetime], each: int) -> list[UUID]:
    """One webhook per entry of ``due_at``, each with ``each`` pending
    deliveries due then, all of one team; answers the webhooks' ids."""
    team = new_id()
    hooks: list[UUID] = []
    hook_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    for n, due in enumerate(due_at):
        hook = new_id()
        hooks.append(hook)
        hook_rows.append(
            {
                "id": hook,
                "team_id": team,
                "name": f"w{n}",
                "uri": "https://example.com/",
                "mtype": "application/json",
                "is_active": True,
                "state": "active",
                "verify_ssl": True,
                "max_events_per_request": 1,
                "ordered": False,
                "secret_enc": "x",
                "error_count": 0,
                "created_at": due,
                "updated_at": due,
            }
        )
        for _ in range(each):
            event = new_id()
            event_rows.append(
                {
                    "id": event,
                    "name": "create-project",
                    "team_id": team,
                    "props": {},
                    "created_at": due,
                    "tracked_at": due,
                }
            )
            delivery_rows.append(
                {
                    "id": new_id(),
                    "webhook_id": hook,
                    "event_id": event,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": due,
                    "created_at": due,
                    "updated_at": due,
                }
            )
    db = Database(url)
    try:
        async with db.write() as conn:
            when = min(due_at)
            await conn.execute(
                insert(teams).values(id=team, name="Seeded", created_at=when, updated_at=when)
            )
            await conn.execute(insert(webhooks), hook_rows)
            await conn.execute(insert(events), event_rows)
            await conn.execute(insert(deliveries), delivery_rows)
    finally:
        await db.dispose()
    return hooks
