"""Each team's webhooks kept in memory for the outbox (hookline.auth.cache):
every change applies to the very next event, in this process and in others."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from hookline.delivery.worker import Worker
from hookline.services import Services
from hookline.storage.tables import deliveries
from tests.auth.test_cache import first_process, second_process  # noqa: F401 (fixtures)
from tests.delivery.conftest import eventually
from tests.delivery.test_failures import deliveries_of, settled
from tests.helpers import Api, ApiFactory
from tests.reliability.harness import Receiver

NOWHERE = "http://127.0.0.1:9/hook"


async def delivery_count(services: Services, hook: dict[str, Any]) -> int:
    async with services.db.read() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.webhook_id == UUID(hook["id"]))
        )
    return int(count or 0)


async def new_project(owner: Api, team_id: str, name: str = "p") -> None:
    await owner.call("create-project", {"teamId": team_id, "name": name})


async def test_changes_to_webhooks_apply_to_the_very_next_event(api_factory: ApiFactory) -> None:
    services = api_factory.services
    cache = services.identity_cache
    owner = await api_factory.user()
    team = (await owner.call("create-team", {"name": "T"}))["id"]
    first = await owner.call("create-webhook", {"teamId": team, "uri": NOWHERE})
    await new_project(owner, team)
    kept = cache.team_webhooks(UUID(team))
    assert kept is not None and [row.id for row in kept] == [UUID(first["id"])]
    await new_project(owner, team)
    assert await delivery_count(services, first) == 3  # the ping and two events

    # A new webhook gets the next event.
    second = await owner.call("create-webhook", {"teamId": team, "uri": NOWHERE + "/2"})
    await new_project(owner, team)
    assert await delivery_count(services, second) == 2

    # A narrowed choice of events applies at once.
    await owner.call("update-webhook", {"id": second["id"], "events": ["delete-project"]})
    await new_project(owner, team)
    assert await delivery_count(services, second) == 2
    assert await delivery_count(services, first) == 5

    # A deleted webhook is never routed to again (its rows are gone with it).
    await owner.call("delete-webhook", {"id": first["id"]})
    await new_project(owner, team)
    assert await delivery_count(services, first) == 0

    # Switched off by a person: no deliveries; switched on again: at once.
    await owner.call("update-webhook", {"id": second["id"], "events": None, "isActive": False})
    await new_project(owner, team)
    assert await delivery_count(services, second) == 2
    await owner.call("update-webhook", {"id": second["id"], "isActive": True})
    await new_project(owner, team)
    assert await delivery_count(services, second) == 3


async def test_a_webhook_the_worker_disables_holds_the_next_event(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    services = api_factory.services
    owner = await api_factory.user()
    team = (await owner.call("create-team", {"name": "T"}))["id"]
    hook = await owner.call("create-webhook", {"teamId": team, "uri": receiver.base + "/ok"})
    await settled(owner, hook, "succeeded")
    await owner.call("update-webhook", {"id": hook["id"], "uri": receiver.base + "/410"})
    # This event fills the cache with the webhook still active; its answer,
    # 410 Gone, disables the webhook.
    await new_project(owner, team, "gone")
    await eventually(lambda: services.identity_cache.team_webhooks(UUID(team)) is None)
    await settled(owner, hook, "paused")
    await new_project(owner, team, "while-off")
    await asyncio.sleep(0.3)
    statuses = sorted(d["status"] for d in await deliveries_of(owner, hook))
    assert statuses == ["paused", "paused", "succeeded"]


@pytest.mark.postgres
async def test_a_change_in_another_process_applies_to_the_next_event(
    first_process: ApiFactory,  # noqa: F811
    second_process: ApiFactory,  # noqa: F811 (the fixtures imported above)
) -> None:
    services = first_process.services
    owner = await first_process.user()
    team = (await owner.call("create-team", {"name": "T"}))["id"]
    hook = await owner.call("create-webhook", {"teamId": team, "uri": NOWHERE})
    cache = services.identity_cache
    await new_project(owner, team)
    assert cache.team_webhooks(UUID(team)) is not None

    elsewhere = await second_process.anonymous()
    await elsewhere.call(
        "login-with-password", {"email": owner.profile["email"], "password": "correct horse"}
    )
    await elsewhere.call("delete-webhook", {"id": hook["id"]})
    async with asyncio.timeout(5):
        while cache.team_webhooks(UUID(team)) is not None:
            await asyncio.sleep(0.005)
    await new_project(owner, team)  # no delivery to a deleted webhook
    assert await delivery_count(services, hook) == 0
