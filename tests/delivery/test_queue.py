"""How a claim shares the worker's room between webhooks, on SQLite (one
transaction) and on PostgreSQL (each lease a statement of its own on the
leasing connection, as the worker claims there)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from hookline.clock import SystemClock
from hookline.delivery import queue
from hookline.delivery.queue import Claimed
from hookline.storage.database import Database
from tests.seeding import seed_due_deliveries


async def claim(url: str, limit: int, room: dict[UUID, int]) -> list[UUID]:
    db = Database(url)
    now = SystemClock().now()

    def room_for(hook: UUID, _size: int) -> int:
        return room.get(hook, 1000)

    taken: list[Claimed]
    try:
        if db.is_sqlite:
            async with db.write() as conn:
                taken = await queue.claim(
                    conn,
                    owner="test",
                    now=now,
                    lease_s=30,
                    limit=limit,
                    postgres=False,
                    room_for=room_for,
                )
        else:
            leasing = await db.connect_async_commits()
            try:
                taken = await queue.claim_pg(
                    leasing, owner="test", now=now, lease_s=30, limit=limit, room_for=room_for
                )
            finally:
                await leasing.close()
    finally:
        await db.dispose()
    assert all(item.event.name == "create-project" for item in taken)
    return [item.webhook.id for item in taken]


async def test_the_webhook_due_longest_goes_first_within_its_room(database_url: str) -> None:
    now = SystemClock().now()
    newer, older = await seed_due_deliveries(
        database_url, [now - timedelta(seconds=1), now - timedelta(seconds=9)], 5
    )
    assert await claim(database_url, 3, {}) == [older] * 3
    # The rest of the older one's, then the newer one's, until the limit.
    assert sorted(await claim(database_url, 4, {})) == sorted([older] * 2 + [newer] * 2)
    # Leased: not claimed again.
    assert sorted(await claim(database_url, 10, {})) == [newer] * 3


async def test_a_webhook_without_room_is_passed_over_however_large_its_backlog(
    database_url: str,
) -> None:
    now = SystemClock().now()
    (stuck,) = await seed_due_deliveries(database_url, [now - timedelta(minutes=5)], 2000)
    healthy, other = await seed_due_deliveries(database_url, [now, now], 10)
    taken = await claim(database_url, 100, {stuck: 0, other: 4})
    assert taken.count(healthy) == 10 and taken.count(other) == 4 and stuck not in taken
    # Room again: its oldest come first.
    assert await claim(database_url, 5, {}) == [stuck] * 5
