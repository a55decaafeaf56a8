"""Drive a running Hookline over its RPC API: set up a user, a token, a team
and webhooks, and raise events with ``create-project`` (its props carry the
project name ``bench-<seq>``, which the receiver reads back)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp


class Hookline:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.session = session
        self.token = ""

    async def call(self, name: str, params: dict[str, Any] | None = None) -> Any:
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Token {self.token}"
        async with self.session.post(
            f"{self.base}/api/rpc/command/{name}", json=params or {}, headers=headers
        ) as response:
            if response.status == 204:
                return None
            body = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{name}: {response.status} {body}")
            return body

    async def setup(self) -> str:
        """Register a user, take a token, create a team; answer the team id."""
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        await self.call(
            "register-profile", {"email": email, "password": "bench password", "fullname": "B"}
        )
        await self.call("login-with-password", {"email": email, "password": "bench password"})
        created = await self.call("create-access-token", {"name": "bench"})
        self.token = created["token"]
        self.session.cookie_jar.clear()
        team = await self.call("create-team", {"name": "Bench"})
        return str(team["id"])

    async def add_webhook(self, team_id: str, uri: str, max_events: int = 1) -> str:
        hook = await self.call(
            "create-webhook",
            {"teamId": team_id, "uri": uri, "name": "bench", "maxEventsPerRequest": max_events},
        )
        return str(hook["id"])

    async def raise_events(
        self, team_id: str, count: int, start: int = 0, concurrency: int = 16
    ) -> dict[int, float]:
        """``count`` create-project commands; answers seq → wall time of the answer."""
        answered: dict[int, float] = {}
        queue = list(range(start, start + count))
        queue.reverse()

        async def client() -> None:
            while queue:
                seq = queue.pop()
                await self.call("create-project", {"teamId": team_id, "name": f"bench-{seq}"})
                answered[seq] = time.time()

        await asyncio.gather(*(client() for _ in range(concurrency)))
        return answered

    async def raise_at_rate(
        self, team_id: str, rate: float, seconds: float, start: int = 0
    ) -> dict[int, float]:
        """Raise events at a steady rate; answers seq → wall time of the answer."""
        answered: dict[int, float] = {}
        tasks: list[asyncio.Task[None]] = []
        total = int(rate * seconds)
        began = time.perf_counter()

        async def one(seq: int) -> None:
            await self.call("create-project", {"teamId": team_id, "name": f"bench-{seq}"})
            answered[seq] = time.time()

        for n in range(total):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(start + n)))
        await asyncio.gather(*tasks)
        return answered


async def receiver_stats(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with session.get(f"{base}/stats") as response:
        result: dict[str, Any] = await response.json()
        return result


async def receiver_reset(session: aiohttp.ClientSession, base: str) -> None:
    async with session.post(f"{base}/reset") as response:
        await response.read()


async def receiver_arrivals(session: aiohttp.ClientSession, base: str) -> dict[int, float]:
    async with session.get(f"{base}/arrivals") as response:
        data = await response.json()
        return {int(k): float(v) for k, v in data.items()}


async def wait_for(
    session: aiohttp.ClientSession,
    base: str,
    key: str,
    target: int,
    timeout: float,
    poll: float = 0.05,
) -> dict[str, Any]:
    """Wait until the receiver's ``key`` count reaches ``target``."""
    deadline = time.monotonic() + timeout
    while True:
        stats = await receiver_stats(session, base)
        if stats[key] >= target:
            return stats
        if time.monotonic() > deadline:
            raise TimeoutError(f"receiver has {stats[key]} of {target} {key} after {timeout}s")
        await asyncio.sleep(poll)
