"""Kill Hookline at random moments while events flow: every event the API
acknowledged still reaches the receiver at least once."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import httpx
import pytest

from tests.reliability.harness import Client, Receiver, Server, hookline_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 2000
KILLS = 20


async def produce(server: Server, client: Client, team_id: str, acked: set[str]) -> None:
    """Raise EVENTS events; an event counts once the API answered 200. A request
    cut off by a crash is retried, as a client would."""
    queue = [f"bench-{n}" for n in range(EVENTS)]
    queue.reverse()

    async def one_client() -> None:
        while queue:
            name = queue.pop()
            while True:
                try:
                    await client.call("create-project", {"teamId": team_id, "name": name})
                    acked.add(name)
                    break
                except (httpx.TransportError, AssertionError):
                    await asyncio.sleep(0.05)

    await asyncio.gather(*(one_client() for _ in range(8)))


async def wait_all(receiver: Receiver, expected: set[str], timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        missing = expected - set(receiver.names())
        if not missing:
            return missing
        await asyncio.sleep(0.2)
    return expected - set(receiver.names())


async def crash_run(
    tmp_path: Path, receiver: Receiver, database_url: str | None, kill_worker: bool
) -> None:
    extra = {"HOOKLINE_DATABASE_URL": database_url} if database_url else {}
    server = Server(
        tmp_path,
        hookline_env(tmp_path, **extra),
        serve_args=("--no-worker",) if kill_worker else (),
    )
    client = Client("")
    try:
        await server.start()
        if kill_worker:
            server.start_worker()
        client = Client(server.base)
        await client.sign_up()
        team_id = await client.team_with_webhook(f"{receiver.base}/ok", "Crash")
        acked: set[str] = set()
        producer = asyncio.create_task(produce(server, client, team_id, acked))
        rng = random.Random(int(os.environ.get("HOOKLINE_CRASH_SEED", "7")))
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.1, 0.6))
            if kill_worker:
                victim = server.workers[-1]
                victim.kill()
                victim.wait()
                server.start_worker()
            else:
                server.kill()
                await server.start()
        await producer
        assert len(acked) == EVENTS
        missing = await wait_all(receiver, acked, timeout=120)
        assert not missing, f"{len(missing)} acknowledged events never arrived"
        print(
            f"crash run: {EVENTS} events, {KILLS} kills,"
            f" {receiver.duplicate_messages()} duplicate requests (same webhook-id)"
        )
    finally:
        await client.aclose()
        server.stop()


async def test_sigkill_serve_on_sqlite_loses_nothing(tmp_path: Path, receiver: Receiver) -> None:
    await crash_run(tmp_path, receiver, None, kill_worker=False)


@pytest.mark.postgres
async def test_sigkill_workers_on_postgresql_loses_nothing(
    tmp_path: Path, receiver: Receiver, postgres_url: str
) -> None:
    await crash_run(tmp_path, receiver, postgres_url, kill_worker=True)
