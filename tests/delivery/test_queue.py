"""How a claim shares the worker's room between webhooks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

from hookline.clock import SystemClock
from hookline.delivery import queue
from hookline.storage import migrate
from hookline.storage.database import Database
from tests.seeding import seed_due_deliveries


async def empty_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    db = Database(url)
    await migrate.upgrade(db)
    await db.dispose()
    return url


async def claim(url: str, limit: int, room: dict[UUID, int]) -> list[UUID]:
    db = Database(url)
    try:
        async with db.write() as conn:
            taken = await queue.claim(
                conn,
                owner="test",
                now=SystemClock().now(),
                lease_s=30,
                limit=limit,
                postgres=False,
                room_for=lambda hook, _size: room.get(hook, 1000),
            )
    finally:
        await db.dispose()
    return [item.webhook.id for item in taken]


async def test_the_webhook_due_longest_goes_first_within_its_room(tmp_path: Path) -> None:
    url = await empty_database(tmp_path)
    now = SystemClock().now()
    newer, older = seed_due_deliveries(
        url, [now - timedelta(seconds=1), now - timedelta(seconds=9)], 5
    )
    assert await claim(url, 3, {}) == [older] * 3
    # The rest of the older one's, then the newer one's, until the limit.
    assert sorted(await claim(url, 4, {})) == sorted([older] * 2 + [newer] * 2)


async def test_a_webhook_without_room_is_passed_over_however_large_its_backlog(
    tmp_path: Path,
) -> None:
    url = await empty_database(tmp_path)
    now = SystemClock().now()
    (stuck,) = seed_due_deliveries(url, [now - timedelta(minutes=5)], 2000)
    healthy, other = seed_due_deliveries(url, [now, now], 10)
    taken = await claim(url, 100, {stuck: 0, other: 4})
    assert taken.count(healthy) == 10 and taken.count(other) == 4 and stuck not in taken
    # Room again: its oldest come first.
    assert await claim(url, 5, {}) == [stuck] * 5
