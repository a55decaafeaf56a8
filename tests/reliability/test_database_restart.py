"""PostgreSQL restarts while deliveries flow: the API answers 503 (never 500)
while it is down, then it and the workers carry on by themselves, and every
acknowledged event still arrives."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.reliability.harness import Client, Receiver, Server, hookline_env

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

EVENTS = 400


def restart_postgres() -> None:
    clusters = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.split()
    version, cluster = clusters[0], clusters[1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )


async def test_postgres_restart_loses_nothing(
    tmp_path: Path, receiver: Receiver, postgres_url: str
) -> None:
    if shutil.which("pg_ctlcluster") is None:
        pytest.skip("pg_ctlcluster is not installed: cannot restart PostgreSQL here")
    server = Server(
        tmp_path,
        hookline_env(tmp_path, HOOKLINE_DATABASE_URL=postgres_url),
        serve_args=("--no-worker",),
    )
    client = Client("")
    statuses: Counter[int] = Counter()
    try:
        await server.start()
        server.start_worker()
        server.start_worker()
        client = Client(server.base)
        await client.sign_up()
        team_id = await client.team_with_webhook(f"{receiver.base}/ok", "Restart")
        acked: set[str] = set()
        headers = {"authorization": f"Token {client.token}"}

        async def produce() -> None:
            for n in range(EVENTS):
                name = f"bench-{n}"
                while True:
                    try:
                        response = await client.http.post(
                            "/api/rpc/command/create-project",
                            json={"teamId": team_id, "name": name},
                            headers=headers,
                        )
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                        continue
                    statuses[response.status_code] += 1
                    if response.status_code == 200:
                        acked.add(name)
                        break
                    await asyncio.sleep(0.1)

        producer = asyncio.create_task(produce())
        # Restart once deliveries flow: the workers are up and sending.
        while len(acked) < EVENTS // 4 or not receiver.requests:
            await asyncio.sleep(0.05)
        restarted_at = time.monotonic()
        await asyncio.to_thread(restart_postgres)
        await producer
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and acked - set(receiver.names()):
            await asyncio.sleep(0.2)
        missing = acked - set(receiver.names())
        assert not missing, f"{len(missing)} acknowledged events never arrived"
        assert server.proc is not None and server.proc.poll() is None
        assert all(worker.poll() is None for worker in server.workers)
        assert set(statuses) <= {200, 503}, statuses
        print(
            f"database restart: {EVENTS} events, answers {dict(statuses)},"
            f" all delivered {time.monotonic() - restarted_at:.1f}s after the restart began,"
            f" {receiver.duplicate_messages()} duplicate requests"
        )
    finally:
        await client.aclose()
        server.stop()
