"""Rows written straight into a database file, for tests of the storage
layer that need many deliveries without the API that normally makes them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import create_engine, insert

from hookline.ids import new_id
from hookline.storage.tables import deliveries, events, webhooks


def seed_due_deliveries(url: str, due_at: list[datetime], each: int) -> list[UUID]:
    """One webhook per entry of ``due_at``, each with ``each`` pending
    deliveries due then; answers the webhooks' ids. Written without the
    foreign keys' parents: a plain SQLite connection does not enforce them."""
    hooks = []
    with create_engine(url).begin() as conn:
        for n, due in enumerate(due_at):
            hook = new_id()
            hooks.append(hook)
            conn.execute(
                insert(webhooks).values(
                    id=hook,
                    team_id=new_id(),
                    name=f"w{n}",
                    uri="https://example.com/",
                    mtype="application/json",
                    is_active=True,
                    state="active",
                    verify_ssl=True,
                    max_events_per_request=1,
                    ordered=False,
                    secret_enc="x",
                    error_count=0,
                    created_at=due,
                    updated_at=due,
                )
            )
            for _ in range(each):
                event = new_id()
                conn.execute(
                    insert(events).values(
                        id=event,
                        name="create-project",
                        team_id=new_id(),
                        props={},
                        created_at=due,
                        tracked_at=due,
                    )
                )
                conn.execute(
                    insert(deliveries).values(
                        id=new_id(),
                        webhook_id=hook,
                        event_id=event,
                        status="pending",
                        attempts=0,
                        next_attempt_at=due,
                        created_at=due,
                        updated_at=due,
                    )
                )
    return hooks
