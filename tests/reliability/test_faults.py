"""A team whose webhooks point at every kind of broken receiver, beside one
healthy webhook: the healthy one keeps flowing, each failure is recorded with
its code, and the worker stays within its concurrency and memory bounds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
import pytest

from tests.reliability.harness import Client, Receiver, Server, hookline_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 200
PER_WEBHOOK = 4
RSS_LIMIT_MB = 300

EXPECTED = {
    "/500": "unexpected-status:500",
    "/hang": "timeout",
    "/drip": "timeout",
    "/reset": "connection-error",
    "/429": "unexpected-status:429",
    "/410": "unexpected-status:410",
    "/redirect": "unexpected-status:302",
    "/huge": "200",
}


async def test_broken_receivers_do_not_hold_back_a_healthy_one(
    tmp_path: Path, receiver: Receiver
) -> None:
    server = Server(
        tmp_path,
        hookline_env(
            tmp_path,
            HOOKLINE_MAX_WEBHOOKS_PER_TEAM="20",
            HOOKLINE_REQUEST_TIMEOUT_S="2",
            HOOKLINE_CONNECT_TIMEOUT_S="1",
            HOOKLINE_RETRY_SCHEDULE="1,2",
            HOOKLINE_DELIVERY_CONCURRENCY_PER_WEBHOOK=str(PER_WEBHOOK),
        ),
    )
    client = Client("")
    try:
        await server.start()
        client = Client(server.base)
        await client.sign_up()
        team = await client.call("create-team", {"name": "Faults"})
        hooks = {}
        for path in ["/ok", *EXPECTED]:
            hook = await client.call(
                "create-webhook",
                {"teamId": team["id"], "uri": receiver.base + path, "name": path.strip("/")},
            )
            hooks[path] = hook["id"]
        started = time.monotonic()
        for n in range(EVENTS):
            await client.call("create-project", {"teamId": team["id"], "name": f"bench-{n}"})
        deadline = time.monotonic() + 60
        while len(receiver.names()) < EVENTS and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        healthy_s = time.monotonic() - started
        assert len(receiver.names()) == EVENTS, "the healthy webhook was held back"

        for path, code in EXPECTED.items():
            results: set[str] = set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                page = await client.call(
                    "get-webhook-deliveries", {"webhookId": hooks[path], "limit": 500}
                )
                results = {
                    d["lastError"] or str(d["lastStatus"]) for d in page["items"] if d["attempts"]
                }
                if code in results:
                    break
                await asyncio.sleep(0.2)
            assert code in results, f"{path}: expected {code}, saw {results}"
        gone = await client.call("get-webhook", {"id": hooks["/410"]})
        assert gone["state"] == "disabled-by-errors"

        for path in EXPECTED:
            assert receiver.peak_by_path[path] <= PER_WEBHOOK, path
        assert server.proc is not None
        rss_mb = psutil.Process(server.proc.pid).memory_info().rss / 2**20
        assert rss_mb < RSS_LIMIT_MB
        print(
            f"faults: {EVENTS} healthy events in {healthy_s:.1f}s beside {len(EXPECTED)} broken"
            f" webhooks; peak in flight per webhook {max(receiver.peak_by_path.values())};"
            f" serve RSS {rss_mb:.0f} MB"
        )
    finally:
        await client.aclose()
        server.stop()
