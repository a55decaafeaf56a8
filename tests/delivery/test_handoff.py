"""Deliveries recorded by this process's own commands go straight to its
worker: leased in the command's transaction, sent after the commit, with no
claim in between. What the worker may not take that way (an ordered
webhook's, or any while no worker runs here) waits for a claim."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from hookline.delivery import claimer as claimer_module
from hookline.delivery import queue
from hookline.delivery import room as room_module
from hookline.delivery.worker import Worker
from hookline.ids import new_id
from hookline.services import Services
from hookline.storage.tables import deliveries, events
from tests.delivery.conftest import eventually, team_hook
from tests.helpers import Api
from tests.reliability.harness import Receiver


def watch_leases(
    monkeypatch: pytest.MonkeyPatch, name: str, seen: Callable[[list[UUID]], None]
) -> None:
    """Call ``seen`` with the deliveries each call of the queue's claiming
    function ``name`` leases, whoever makes it."""
    original = getattr(queue, name)

    async def leasing(*args: Any, **kwargs: Any) -> list[queue.Claimed]:
        items: list[queue.Claimed] = await original(*args, **kwargs)
        seen([item.delivery_id for item in items])
        return items

    monkeypatch.setattr(queue, name, leasing)


@pytest.fixture
def claimed(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[UUID]]:
    """Every delivery a claim (a search) leases, whoever runs it, on either
    database."""
    found: set[UUID] = set()
    watch_leases(monkeypatch, "claim", found.update)
    watch_leases(monkeypatch, "claim_pg", found.update)
    yield found


async def project_deliveries(fast: Services, *columns: Any) -> list[Any]:
    """The given columns of create-project's deliveries."""
    async with fast.db.read() as conn:
        rows = await conn.execute(
            select(*columns)
            .join(events, events.c.id == deliveries.c.event_id)
            .where(events.c.name == "create-project")
        )
        return list(rows)


async def project_statuses(fast: Services) -> dict[UUID, str]:
    """create-project deliveries: id -> status."""
    rows = await project_deliveries(fast, deliveries.c.id, deliveries.c.status)
    return {row.id: row.status for row in rows}


async def create_projects(owner: Api, team: dict[str, Any], count: int) -> None:
    for n in range(count):
        await owner.call("create-project", {"teamId": team["id"], "name": f"p{n}"})


async def test_a_command_hands_its_deliveries_to_the_worker(
    api_factory: Any, receiver: Receiver, fast: Services, claimed: set[UUID]
) -> None:
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok")
    worker = Worker(fast)
    await worker.start()
    try:
        await eventually(lambda: len(receiver.requests) == 1)  # the ping
        await create_projects(owner, team, 5)
        await eventually(lambda: len(receiver.requests) == 6)
        sent = await eventually(lambda: _all_succeeded(fast, 5))
    finally:
        await worker.stop()
    assert [r.headers["x-hookline-event"] for r in receiver.requests[1:]] == ["create-project"] * 5
    assert not claimed & set(sent), "a claim found deliveries that were handed over"


async def _all_succeeded(fast: Services, count: int) -> dict[UUID, str] | None:
    found = await project_statuses(fast)
    done = len(found) == count and set(found.values()) == {"succeeded"}
    return found if done else None


async def test_an_ordered_webhooks_deliveries_wait_for_a_claim(
    api_factory: Any, receiver: Receiver, fast: Services, claimed: set[UUID]
) -> None:
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok", ordered=True)
    worker = Worker(fast)
    await worker.start()
    try:
        await create_projects(owner, team, 3)
        sent = await eventually(lambda: _all_succeeded(fast, 3))
    finally:
        await worker.stop()
    assert set(sent) <= claimed


async def test_without_a_running_worker_deliveries_wait_for_a_claim(
    api_factory: Any, receiver: Receiver, fast: Services, claimed: set[UUID]
) -> None:
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok")
    stopped = Worker(fast)
    await stopped.start()
    await stopped.stop()
    await create_projects(owner, team, 3)
    assert set((await project_statuses(fast)).values()) == {"pending"}
    worker = Worker(fast)
    await worker.start()
    try:
        sent = await eventually(lambda: _all_succeeded(fast, 3))
    finally:
        await worker.stop()
    assert set(sent) <= claimed


class FakeHandoff:
    """Stands in for the worker's side of the hand-off: says yes or no, and
    keeps what it is given."""

    owner = "fake-worker"

    def __init__(self, room: bool) -> None:
        self.room = room
        self.asked = 0
        self.taken: list[queue.Claimed] = []

    def reserve(self, webhook_id: UUID, max_events_per_request: int) -> bool:
        self.asked += 1
        return self.room

    def take(self, items: list[queue.Claimed]) -> None:
        self.taken.extend(items)


async def lease_owners(fast: Services) -> list[str | None]:
    return [row.lease_owner for row in await project_deliveries(fast, deliveries.c.lease_owner)]


def offer_to(fast: Services, room: bool) -> FakeHandoff:
    """Stand the fake in for this process's worker, with no wake-up pending."""
    fake = FakeHandoff(room)
    fast.handoff = fake
    fast.delivery_wakeup.clear()
    return fake


async def test_the_outbox_leases_to_a_worker_with_room_and_hands_over_after_commit(
    api_factory: Any, receiver: Receiver, fast: Services
) -> None:
    owner, team, hook = await team_hook(api_factory, f"{receiver.base}/ok")
    fake = offer_to(fast, room=True)
    await create_projects(owner, team, 2)
    assert await lease_owners(fast) == ["fake-worker", "fake-worker"]
    assert [item.event.name for item in fake.taken] == ["create-project"] * 2
    assert {str(item.webhook.id) for item in fake.taken} == {hook["id"]}
    assert not fast.delivery_wakeup.is_set()  # nothing left to claim


async def test_a_delivery_refused_for_room_is_left_unleased_without_a_wake_up(
    api_factory: Any, receiver: Receiver, fast: Services
) -> None:
    """The worker claims it by itself once its room frees up."""
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok")
    fake = offer_to(fast, room=False)
    await create_projects(owner, team, 2)
    assert fake.asked == 2 and not fake.taken
    assert await lease_owners(fast) == [None, None]
    assert not fast.delivery_wakeup.is_set()


async def test_an_ordered_webhook_is_never_offered_and_wakes_the_claim(
    api_factory: Any, receiver: Receiver, fast: Services
) -> None:
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok", ordered=True)
    fake = offer_to(fast, room=True)
    await create_projects(owner, team, 1)
    assert fake.asked == 0 and await lease_owners(fast) == [None]
    assert fast.delivery_wakeup.is_set()


def count_wake_ups(fast: Services, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts each time something wakes the worker's claim loop to search for
    due deliveries (a notification that names deliveries, on PostgreSQL,
    only has those leased, and not even that for a webhook without room)."""
    count = [0]
    original = fast.wake_delivery

    def counting_wake() -> None:
        count[0] += 1
        original()

    monkeypatch.setattr(fast, "wake_delivery", counting_wake)
    return count


async def test_writing_outcomes_of_handed_over_deliveries_wakes_no_claim(
    api_factory: Any, receiver: Receiver, fast: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim after each write of outcomes would find nothing and hold the
    write lock meanwhile."""
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok")
    worker = Worker(fast)
    await worker.start()
    try:
        await eventually(lambda: len(receiver.requests) == 1)  # the ping
        await eventually(lambda: not worker.held)  # its outcome is written
        wake_ups = count_wake_ups(fast, monkeypatch)
        await create_projects(owner, team, 5)
        await eventually(lambda: _all_succeeded(fast, 5))
        await eventually(lambda: not worker.held)
        woken = wake_ups[0]
    finally:
        await worker.stop()
    assert woken == 0


async def test_deliveries_left_for_want_of_room_go_out_once_room_frees(
    api_factory: Any,
    receiver: Receiver,
    fast: Services,
    monkeypatch: pytest.MonkeyPatch,
    claimed: set[UUID],
) -> None:
    """With room for one delivery of the webhook, the others stay in the
    database; writing the outcome that frees the room wakes a claim for them."""
    monkeypatch.setattr(room_module, "HOLD_PER_SLOT", 1)
    fast.settings = dataclasses.replace(fast.settings, delivery_concurrency_per_webhook=1)
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok")
    worker = Worker(fast)
    await worker.start()
    try:
        await eventually(lambda: len(receiver.requests) == 1)  # the ping
        await eventually(lambda: not worker.held)
        wake_ups = count_wake_ups(fast, monkeypatch)
        await create_projects(owner, team, 6)
        sent = await eventually(lambda: _all_succeeded(fast, 6))
        woken = wake_ups[0]
    finally:
        await worker.stop()
    assert claimed & set(sent), "the ones refused for room were claimed"
    assert woken >= 1


async def test_a_full_webhook_beside_a_healthy_one_wakes_no_claim(
    api_factory: Any,
    receiver: Receiver,
    fast: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A webhook whose endpoint hangs fills its room and stays full; writing
    the healthy webhook's outcomes frees no room for it, so claims nothing."""
    fast.settings = dataclasses.replace(
        fast.settings, delivery_concurrency_per_webhook=1, request_timeout_s=5.0
    )
    room = room_module.HOLD_PER_SLOT  # per webhook, at one request at a time
    owner, team, stuck = await team_hook(api_factory, f"{receiver.base}/hang")
    await owner.call("create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/ok"})
    worker = Worker(fast)
    await worker.start()

    def healthy_requests() -> int:
        return sum(r.path == "/ok" for r in receiver.requests)

    try:
        await create_projects(owner, team, room - 1)  # with its ping, fills the room
        await eventually(lambda: healthy_requests() == room)
        await eventually(lambda: len(worker.held) == room)  # the hanging webhook's
        wake_ups = count_wake_ups(fast, monkeypatch)
        await create_projects(owner, team, 5)
        await eventually(lambda: healthy_requests() == room + 5)
        await eventually(lambda: len(worker.held) == room)  # healthy outcomes written
        woken = wake_ups[0]
        leases = await project_deliveries(fast, deliveries.c.webhook_id, deliveries.c.lease_owner)
    finally:
        await worker.stop()
    left = [row for row in leases if str(row.webhook_id) == stuck["id"] and not row.lease_owner]
    assert len(left) == 5, "the full webhook's new deliveries wait in the database"
    assert woken == 0


async def test_workers_elsewhere_lease_the_deliveries_a_commit_names(
    api_factory: Any,
    receiver: Receiver,
    fast: Services,
    monkeypatch: pytest.MonkeyPatch,
    claimed: set[UUID],
) -> None:
    """On PostgreSQL a commit's NOTIFY names the deliveries it made due: two
    workers in other processes (here, without the hand-over) lease exactly
    those by id, no search needed, and each goes out once."""
    if fast.db.is_sqlite:
        pytest.skip("notifications are PostgreSQL's; on SQLite one process serves")
    monkeypatch.setattr(claimer_module, "POLL_S", 60.0)  # no search but at start
    leased_by_name: list[UUID] = []
    watch_leases(monkeypatch, "claim_named", leased_by_name.extend)
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok")
    # Two worker processes, each with services of its own; the API's
    # process runs none.
    elsewhere = [await Services.start(fast.settings, apply_migrations=False) for _ in range(2)]
    workers = [Worker(services) for services in elsewhere]
    try:
        for worker in workers:
            await worker.start()
        await eventually(lambda: len(receiver.requests) == 1)  # the ping
        for n in range(20):
            await owner.call("create-project", {"teamId": team["id"], "name": f"bench-{n}"})
        sent = await eventually(lambda: _all_succeeded(fast, 20))
    finally:
        for worker in workers:
            await worker.stop()
        for services in elsewhere:
            await services.close()
    assert sorted(leased_by_name) == sorted(sent)
    assert not claimed & set(sent), "no search claimed them"
    assert receiver.duplicate_messages() == 0
    assert set(receiver.names().values()) == {1}


def test_a_notification_names_deliveries_or_none() -> None:
    pairs = [(new_id(), new_id()) for _ in range(3)]
    assert queue.named_deliveries(queue.name_deliveries(pairs)) == pairs
    assert len(queue.name_deliveries(pairs)) == 3 * 66 - 1
    for unreadable in ("", "   ", "not-a-pair", "abc.def", "a.b.c"):
        assert queue.named_deliveries(unreadable) is None
    most = [(new_id(), new_id()) for _ in range(queue.NAMED_MAX)]
    assert len(queue.name_deliveries(most)) < 8000, "fits PostgreSQL's payload limit"
