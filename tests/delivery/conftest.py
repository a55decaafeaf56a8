"""A running worker with short schedules, for delivery tests (the receiver
fixture lives in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hookline.delivery.worker import Worker
from hookline.services import Services
from tests.helpers import Api, ApiFactory


@pytest.fixture
def fast(services: Services) -> Services:
    """Short schedules so retries and timeouts happen within a test."""
    services.settings = dataclasses.replace(
        services.settings,
        retry_schedule=(0.2, 0.2, 0.2),
        request_timeout_s=1.0,
        connect_timeout_s=1.0,
        batch_linger_ms=100,
        delivery_lease_s=5,
    )
    return services


@pytest.fixture
async def worker(fast: Services) -> AsyncIterator[Worker]:
    worker = Worker(fast)
    await worker.start()
    yield worker
    await worker.stop()


async def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``check`` (sync or async) until it answers something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s")
        await asyncio.sleep(0.05)


async def team_hook(
    api_factory: ApiFactory, uri: str, **options: Any
) -> tuple[Api, dict[str, Any], dict[str, Any]]:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    hook = await owner.call("create-webhook", {"teamId": team["id"], "uri": uri, **options})
    return owner, team, hook
