"""The delivery core under unlucky and hostile conditions: slots that must
come back, events raised while a webhook is disabled, disabling decided
once, rotations and lost keys, permanent failures, one clock."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

from standardwebhooks import Webhook as Verifier

from hookline.delivery.worker import Worker
from hookline.services import Services
from tests.delivery.conftest import eventually, team_hook
from tests.delivery.test_failures import deliveries_of, settled
from tests.helpers import ApiFactory
from tests.reliability.harness import Receiver


async def test_slots_come_back_when_a_hanging_webhook_is_disabled_meanwhile(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    """A webhook that hangs gets disabled while its next deliveries wait for
    its one slot; its buffer is dropped under the waiting pump. The slots
    must come back: with two overall, two such rounds used to wedge every
    webhook."""
    fast.settings = dataclasses.replace(
        fast.settings,
        delivery_concurrency=2,
        delivery_concurrency_per_webhook=1,
        disable_after_failures=1,
        request_timeout_s=0.3,
    )
    worker = Worker(fast)
    await worker.start()
    try:
        owner, team, hook = await team_hook(api_factory, receiver.base + "/hang")
        for round_ in range(3):
            for n in range(4):
                await owner.call("create-project", {"teamId": team["id"], "name": f"r{round_}{n}"})

            async def disabled() -> bool:
                found = await owner.call("get-webhook", {"id": hook["id"]})
                return bool(found["state"] == "disabled-by-errors")

            await eventually(disabled)
            await eventually(lambda: worker.metrics.in_flight == 0)
            await eventually(lambda: not worker.lanes.pumps)
            await owner.call("update-webhook", {"id": hook["id"], "isActive": True})
        healthy = await owner.call(
            "create-webhook", {"teamId": team["id"], "uri": receiver.base + "/ok"}
        )
        await settled(owner, healthy, "succeeded")
        await owner.call("update-webhook", {"id": hook["id"], "isActive": False})
        await eventually(lambda: worker.metrics.in_flight == 0)
        assert not worker.metrics.task_failures
    finally:
        await worker.stop()
    assert worker.lanes.overall._value == 2  # every slot returned


async def test_events_raised_while_disabled_arrive_in_order_once_re_enabled(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    fast.settings = dataclasses.replace(fast.settings, disable_after_failures=1)
    worker = Worker(fast)
    await worker.start()
    try:
        owner, team, hook = await team_hook(api_factory, receiver.base + "/500", ordered=True)
        await settled(owner, hook, "paused")
        for n in range(10):
            await owner.call("create-project", {"teamId": team["id"], "name": f"held-{n}"})
        held = await deliveries_of(owner, hook, status="paused")
        assert len(held) == 11  # the ping and all ten events
        await owner.call(
            "update-webhook", {"id": hook["id"], "uri": receiver.base + "/ok", "isActive": True}
        )
        await settled(owner, hook, "succeeded", count=11)
    finally:
        await worker.stop()
    assert list(receiver.names()) == [f"held-{n}" for n in range(10)]


async def test_disabling_pauses_everything_and_the_count_stops_at_the_limit(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    """Many requests in flight fail together: whatever order their outcomes
    are written in, the webhook is disabled once, every unfinished delivery
    waits paused, and the error count is the limit."""
    fast.settings = dataclasses.replace(
        fast.settings, disable_after_failures=3, retry_schedule=(0.05,) * 20
    )
    owner, team, hook = await team_hook(api_factory, receiver.base + "/500")
    for n in range(30):
        await owner.call("create-project", {"teamId": team["id"], "name": f"p{n}"})
    worker = Worker(fast)
    await worker.start()
    try:

        async def disabled() -> bool:
            found = await owner.call("get-webhook", {"id": hook["id"]})
            return bool(found["state"] == "disabled-by-errors")

        await eventually(disabled)
        await eventually(lambda: not worker.held)
        await asyncio.sleep(0.3)  # past any retry that could still be due
    finally:
        await worker.stop()
    statuses = {d["status"] for d in await deliveries_of(owner, hook, limit=100)}
    assert statuses == {"paused"}
    found = await owner.call("get-webhook", {"id": hook["id"]})
    assert found["errorCount"] == 3


def verify(secret: str, request: Any) -> Any:
    return Verifier(secret).verify(request.body, request.headers)


async def test_every_secret_retired_within_a_day_keeps_signing(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, _team, hook = await team_hook(api_factory, receiver.base + "/ok")
    first = await owner.call("rotate-webhook-secret", {"id": hook["id"]})
    second = await owner.call("rotate-webhook-secret", {"id": hook["id"]})
    await owner.call("send-webhook-test", {"id": hook["id"]})
    await eventually(lambda: len(receiver.requests) == 2)
    last = receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 3
    for secret in (hook["secret"], first["secret"], second["secret"]):
        verify(secret, last)
    # A third rotation keeps the two newest retired ones: never more than three.
    third = await owner.call("rotate-webhook-secret", {"id": hook["id"]})
    await owner.call("send-webhook-test", {"id": hook["id"]})
    await eventually(lambda: len(receiver.requests) == 3)
    last = receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 3
    for secret in (first["secret"], second["secret"], third["secret"]):
        verify(secret, last)


async def test_a_retired_secret_sealed_under_another_server_key_is_skipped(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    owner, _team, hook = await team_hook(api_factory, receiver.base + "/ok")
    # The server key changes; the webhook's secret is rotated under the new
    # one, so the retired secret can no longer be opened.
    fast.settings = dataclasses.replace(fast.settings, secret_key=b"another-key-" * 4)
    # Sessions were signed with the old key: sign in again.
    email = owner.profile["email"] if owner.profile else ""
    await owner.call("login-with-password", {"email": email, "password": "correct horse"})
    rotated = await owner.call("rotate-webhook-secret", {"id": hook["id"]})
    await owner.call("send-webhook-test", {"id": hook["id"]})
    worker = Worker(fast)
    await worker.start()
    try:
        await settled(owner, hook, "succeeded", count=2)
    finally:
        await worker.stop()
    for request in receiver.requests:
        assert len(request.headers["webhook-signature"].split(" ")) == 1
        verify(rotated["secret"], request)
    found = await owner.call("get-webhook", {"id": hook["id"]})
    assert found["errorCount"] == 0


async def test_a_refusal_is_not_retried(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, _team, hook = await team_hook(api_factory, receiver.base + "/400")
    detail = await settled(owner, hook, "failed")
    await asyncio.sleep(0.6)  # three retries' worth of the test schedule
    assert len(receiver.requests) == 1
    assert detail["attempts"] == 1 and detail["lastError"] == "unexpected-status:400"
    found = await owner.call("get-webhook", {"id": hook["id"]})
    assert found["errorCount"] == 1


async def test_a_conflict_is_retried(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    await team_hook(api_factory, receiver.base + "/429")
    await eventually(lambda: len(receiver.requests) >= 2)
    assert json.loads(receiver.requests[1].body)["name"] == "ping"
