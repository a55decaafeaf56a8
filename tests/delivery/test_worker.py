from __future__ import annotations

import io
import json
from typing import Any

from standardwebhooks import Webhook as Verifier
from transit.reader import Reader

from hookline.delivery.worker import Worker
from tests.delivery.conftest import eventually, team_hook
from tests.helpers import ApiFactory
from tests.reliability.harness import Receiver


def verify(secret: str, request: Any) -> Any:
    return Verifier(secret).verify(request.body, request.headers)


async def test_ping_then_events_signed_and_documented(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, team, hook = await team_hook(api_factory, f"{receiver.base}/ok")
    await eventually(lambda: len(receiver.requests) == 1)
    ping = receiver.requests[0]
    assert ping.headers["x-hookline-event"] == "ping"
    assert ping.headers["user-agent"].startswith("Hookline/")
    assert json.loads(ping.body)["props"]["webhookId"] == hook["id"]
    verify(hook["secret"], ping)
    await owner.call("create-project", {"teamId": team["id"], "name": "bench-1"})
    await eventually(lambda: len(receiver.requests) == 2)
    event = json.loads(receiver.requests[1].body)
    assert set(event) == {"id", "name", "profileId", "teamId", "props", "createdAt", "trackedAt"}
    assert event["name"] == "create-project" and event["props"]["name"] == "bench-1"
    verify(hook["secret"], receiver.requests[1])
    page = await owner.call("get-webhook-deliveries", {"webhookId": hook["id"]})
    assert page["total"] == 2
    await eventually(
        lambda: owner.call(
            "get-webhook-deliveries", {"webhookId": hook["id"], "status": "succeeded"}
        )
    )
    updated = await owner.call("get-webhook", {"id": hook["id"]})
    assert updated["lastTriggeredAt"] is not None and updated["errorCount"] == 0


async def test_signatures_during_rotation(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, _team, hook = await team_hook(api_factory, f"{receiver.base}/ok")
    rotated = await owner.call("rotate-webhook-secret", {"id": hook["id"]})
    await owner.call("send-webhook-test", {"id": hook["id"]})
    await eventually(lambda: len(receiver.requests) == 2)
    last = receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 2
    verify(hook["secret"], last)
    verify(rotated["secret"], last)


async def test_transit_bodies(api_factory: ApiFactory, receiver: Receiver, worker: Worker) -> None:
    owner, team, hook = await team_hook(
        api_factory, f"{receiver.base}/ok", mtype="application/transit+json"
    )
    await owner.call("create-project", {"teamId": team["id"], "name": "T1"})
    await eventually(lambda: len(receiver.requests) == 2)
    request = receiver.requests[1]
    assert request.headers["content-type"] == "application/transit+json"
    decoded = Reader("json").read(io.StringIO(request.body.decode()))
    as_text = {str(k): v for k, v in decoded.items()}
    assert as_text["name"] == "create-project"
    props = {str(k): v for k, v in as_text["props"].items()}
    assert props["name"] == "T1"
    assert str(props["team-id"]) == team["id"]
    verify(hook["secret"], request)


async def test_batching_keeps_order(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, team, hook = await team_hook(api_factory, f"{receiver.base}/ok", maxEventsPerRequest=10)
    await eventually(lambda: len(receiver.requests) == 1)
    for n in range(25):
        await owner.call("create-project", {"teamId": team["id"], "name": f"p{n:02d}"})
    await eventually(lambda: sum(len(json.loads(r.body)) for r in receiver.requests[1:]) == 25)
    batches = [json.loads(r.body) for r in receiver.requests[1:]]
    assert all(isinstance(b, list) and len(b) <= 10 for b in batches)
    assert len(batches) >= 3
    names = [e["props"]["name"] for b in batches for e in b]
    assert names == sorted(names)
    assert all(r.headers["x-hookline-event"] == "batch" for r in receiver.requests[1:])
    for request in receiver.requests[1:]:
        verify(hook["secret"], request)
