"""What the worker records when receivers misbehave, and how it retries,
disables, resumes, re-sends and recovers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hookline.delivery import queue
from hookline.delivery.worker import Worker
from hookline.services import Services
from hookline.settings import SsrfAllowlist, parse_allowlist
from tests.delivery.conftest import eventually, team_hook
from tests.helpers import Api, ApiFactory
from tests.reliability.harness import Receiver, self_signed_context


async def deliveries_of(owner: Api, hook: dict[str, Any], **filters: Any) -> list[dict[str, Any]]:
    page = await owner.call("get-webhook-deliveries", {"webhookId": hook["id"], **filters})
    items: list[dict[str, Any]] = page["items"]
    return items


async def settled(owner: Api, hook: dict[str, Any], status: str, count: int = 1) -> Any:
    """Wait until ``count`` deliveries of the webhook have ``status``; answer the first
    one's detail."""

    async def check() -> Any:
        found = await deliveries_of(owner, hook, status=status)
        return found if len(found) >= count else None

    found = await eventually(check)
    return await owner.call("get-webhook-delivery", {"id": found[0]["id"]})


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/500", "unexpected-status:500"),
        ("/hang", "timeout"),
        ("/drip", "timeout"),
        ("/reset", "connection-error"),
        ("/redirect", "unexpected-status:302"),
    ],
)
async def test_failure_codes_and_retries(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker, path: str, code: str
) -> None:
    owner, _team, hook = await team_hook(api_factory, receiver.base + path)
    detail = await settled(owner, hook, "failed")
    # The schedule has three retries: four attempts, each recorded with its code.
    assert [a["attempt"] for a in detail["attemptsDetail"]] == [1, 2, 3, 4]
    assert {a["errorCode"] for a in detail["attemptsDetail"]} == {code}
    assert detail["lastError"] == code
    assert {a["headers"]["webhook-id"] for a in _requests(receiver, path)} == {
        detail["attemptsDetail"][0]["requestHeaders"]["webhook-id"]
    }
    webhook = await owner.call("get-webhook", {"id": hook["id"]})
    assert webhook["errorCode"] == code and webhook["errorCount"] == 4
    # Redirects are never followed.
    assert not [r for r in receiver.requests if r.path == "/ok"]


def receiver_names_in_order(receiver: Receiver) -> dict[str, None]:
    names: dict[str, None] = {}
    for request in receiver.requests:
        name = json.loads(request.body).get("props", {}).get("name")
        if name:
            names[name] = None
    return names


def _requests(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [{"headers": r.headers} for r in receiver.requests if r.path == path]


async def test_connection_refused_is_a_connection_error(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    closed = Receiver()
    await closed.start()
    await closed.stop()  # nothing listens on its port any more
    owner, _team, hook = await team_hook(api_factory, closed.base + "/ok")
    detail = await settled(owner, hook, "failed")
    assert detail["lastError"] == "connection-error"


async def test_huge_response_is_read_only_up_to_the_limit(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, _team, hook = await team_hook(api_factory, receiver.base + "/huge")
    detail = await settled(owner, hook, "succeeded")
    attempt = detail["attemptsDetail"][0]
    assert attempt["responseStatus"] == 200
    assert 0 < len(attempt["responseBody"]) <= 20 * 1024


@pytest.fixture
async def tls_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver(tls=self_signed_context())
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_bad_certificate_unless_verification_is_off(
    api_factory: ApiFactory, tls_receiver: Receiver, worker: Worker
) -> None:
    owner, team, hook = await team_hook(api_factory, tls_receiver.base + "/ok")
    detail = await settled(owner, hook, "failed")
    assert detail["lastError"] == "ssl-validation-error"
    assert not tls_receiver.requests
    trusting = await owner.call(
        "create-webhook",
        {"teamId": team["id"], "uri": tls_receiver.base + "/ok", "verifySsl": False},
    )
    await settled(owner, trusting, "succeeded")
    assert len(tls_receiver.requests) == 1


async def test_gone_disables_at_once_and_holds_later_deliveries(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, team, hook = await team_hook(api_factory, receiver.base + "/410")
    await settled(owner, hook, "paused")
    webhook = await owner.call("get-webhook", {"id": hook["id"]})
    assert webhook["state"] == "disabled-by-errors" and webhook["isActive"] is False
    assert webhook["errorCode"] == "unexpected-status:410"
    # Events raised while it is disabled by errors wait for it, paused...
    await owner.call("create-project", {"teamId": team["id"], "name": "while-off"})
    await asyncio.sleep(0.5)
    assert len(receiver.requests) == 1
    held = await deliveries_of(owner, hook)
    assert sorted(d["status"] for d in held) == ["paused", "paused"]
    # ...and all it held goes out once it is pointed somewhere healthy and
    # re-activated, the first with the same webhook-id as before.
    await owner.call("update-webhook", {"id": hook["id"], "uri": receiver.base + "/ok"})
    await owner.call("update-webhook", {"id": hook["id"], "isActive": True})
    await eventually(lambda: len(receiver.requests) == 3)
    gone, *sent = receiver.requests
    assert all(r.path == "/ok" for r in sent)
    assert gone.headers["webhook-id"] in {r.headers["webhook-id"] for r in sent}
    assert {r.headers["x-hookline-event"] for r in sent} == {"ping", "create-project"}


async def test_retry_after_is_honoured(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, _team, hook = await team_hook(api_factory, receiver.base + "/429")
    await eventually(lambda: len(receiver.requests) >= 2)
    first, second = receiver.requests[:2]
    # The schedule says 0.2 s; the receiver asked for 1 s.
    assert second.at - first.at >= 0.95
    detail = await settled(owner, hook, "failed")
    assert detail["lastError"] == "unexpected-status:429"


async def test_auto_disable_then_resume(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    fast.settings = dataclasses.replace(
        fast.settings, disable_after_failures=3, retry_schedule=(0.1,) * 10
    )
    owner, team, hook = await team_hook(api_factory, receiver.base + "/500")
    for name in ("held-1", "held-2"):
        await owner.call("create-project", {"teamId": team["id"], "name": name})
    worker = Worker(fast)
    await worker.start()
    try:

        async def disabled() -> bool:
            webhook = await owner.call("get-webhook", {"id": hook["id"]})
            return bool(webhook["state"] == "disabled-by-errors")

        await eventually(disabled)
        webhook = await owner.call("get-webhook", {"id": hook["id"]})
        assert webhook["errorCount"] == 3 and webhook["errorCode"] == "unexpected-status:500"
        assert webhook["isActive"] is False
        assert len(receiver.requests) == 3
        await settled(owner, hook, "paused", count=3)
        await owner.call(
            "update-webhook", {"id": hook["id"], "uri": receiver.base + "/ok", "isActive": True}
        )
        await settled(owner, hook, "succeeded", count=3)
        assert receiver.names() == {"held-1": 1, "held-2": 1}
        webhook = await owner.call("get-webhook", {"id": hook["id"]})
        assert webhook["state"] == "active" and webhook["errorCount"] == 0
        assert webhook["lastTriggeredAt"] is not None
    finally:
        await worker.stop()


async def test_ordered_webhook_sends_one_at_a_time_in_order(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    owner, team, _hook = await team_hook(api_factory, receiver.base + "/ok", ordered=True)
    for n in range(30):
        await owner.call("create-project", {"teamId": team["id"], "name": f"o{n:02d}"})
    worker = Worker(fast)  # started with a backlog, so order has to be chosen
    await worker.start()
    try:
        await eventually(lambda: len(receiver.names()) == 30)
    finally:
        await worker.stop()
    names = list(receiver.names())
    assert names == sorted(names)
    assert receiver.peak_in_flight == 1


async def test_ordered_webhook_holds_later_events_behind_a_failure(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    fast.settings = dataclasses.replace(fast.settings, retry_schedule=(0.3, 0.3))
    worker = Worker(fast)
    await worker.start()
    try:
        owner, team, hook = await team_hook(
            api_factory, receiver.base + "/500", ordered=True, events=["create-project"]
        )
        await owner.call("create-project", {"teamId": team["id"], "name": "first"})
        await owner.call("create-project", {"teamId": team["id"], "name": "second"})
        await settled(owner, hook, "failed", count=3)
        # Each message is retried to the end before the next is tried at all.
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert len(ids) == 9
        assert ids == [ids[0]] * 3 + [ids[3]] * 3 + [ids[6]] * 3
        assert len(set(ids)) == 3
        assert list(receiver_names_in_order(receiver)) == ["first", "second"]
    finally:
        await worker.stop()


async def test_resend_keeps_the_webhook_id(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, _team, hook = await team_hook(api_factory, receiver.base + "/ok")
    detail = await settled(owner, hook, "succeeded")
    await owner.call("resend-webhook-delivery", {"id": detail["id"]})
    await eventually(lambda: len(receiver.requests) == 2)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["webhook-timestamp"] <= second.headers["webhook-timestamp"]

    async def two_attempts() -> bool:
        again = await owner.call("get-webhook-delivery", {"id": detail["id"]})
        return len(again["attemptsDetail"]) == 2 and again["status"] == "succeeded"

    await eventually(two_attempts)


async def test_recover_requeues_failed_deliveries_in_the_window(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    owner, team, hook = await team_hook(api_factory, receiver.base + "/500")
    await owner.call("create-project", {"teamId": team["id"], "name": "lost"})
    await settled(owner, hook, "failed", count=2)
    await owner.call("update-webhook", {"id": hook["id"], "uri": receiver.base + "/ok"})
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    empty = await owner.call(
        "recover-webhook-deliveries", {"webhookId": hook["id"], "since": later}
    )
    assert empty == {"count": 0}
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    recovered = await owner.call(
        "recover-webhook-deliveries", {"webhookId": hook["id"], "since": since}
    )
    assert recovered == {"count": 2}
    await eventually(lambda: receiver.names() == {"lost": 1})
    await settled(owner, hook, "succeeded", count=2)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_ssrf_guard_refuses_at_send_time(
    api_factory: ApiFactory, receiver: Receiver, fast: Services, host: str
) -> None:
    """A webhook accepted while its address was allowed is refused when sent
    once the allow-list no longer covers it, by address or by a host name
    that resolves to it."""
    uri = receiver.base.replace("127.0.0.1", host) + "/ok"
    fast.settings = dataclasses.replace(
        fast.settings, ssrf_allowlist=parse_allowlist("127.0.0.0/8, localhost")
    )
    owner, _team, hook = await team_hook(api_factory, uri)
    fast.settings = dataclasses.replace(fast.settings, ssrf_allowlist=SsrfAllowlist())
    worker = Worker(fast)
    await worker.start()
    try:
        detail = await settled(owner, hook, "failed")
    finally:
        await worker.stop()
    assert detail["lastError"].startswith("blocked-request:")
    assert not receiver.requests


async def test_a_dead_workers_lease_expires_and_the_delivery_completes(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    """A worker that claimed a delivery and died (no release, no outcome)
    holds it only until its lease runs out."""
    owner, _team, hook = await team_hook(api_factory, receiver.base + "/ok")
    async with fast.db.write() as conn:
        taken = await queue.claim(
            conn,
            owner="dead-worker",
            now=fast.clock.now(),
            lease_s=1.5,
            limit=10,
            postgres=not fast.db.is_sqlite,
        )
    assert len(taken) == 1
    worker = Worker(fast)
    await worker.start()
    try:
        await asyncio.sleep(0.7)
        assert not receiver.requests  # still leased to the dead worker
        await settled(owner, hook, "succeeded")
    finally:
        await worker.stop()
    assert len(receiver.requests) == 1


async def test_two_workers_never_send_the_same_delivery_twice(
    api_factory: ApiFactory, receiver: Receiver, fast: Services
) -> None:
    if fast.db.is_sqlite:
        pytest.skip("several workers share one queue on PostgreSQL; SQLite runs one process")
    owner, team, _hook = await team_hook(api_factory, receiver.base + "/ok")
    for n in range(150):
        await owner.call("create-project", {"teamId": team["id"], "name": f"w{n:03d}"})
    workers = [Worker(fast), Worker(fast)]
    for worker in workers:
        await worker.start()
    try:
        await eventually(lambda: len(receiver.names()) == 150, timeout=30)
        await asyncio.sleep(0.5)
    finally:
        for worker in workers:
            await worker.stop()
    assert receiver.duplicate_messages() == 0
    assert set(receiver.names().values()) == {1}
    assert len(receiver.requests) == 151
