"""200 concurrent API clients for a minute, mixing reads, writes and token
authentication against ``hookline serve``: no 5xx, every acknowledged event
delivered, latency percentiles reported; and not one token, secret, password
or session key anywhere in the server's log of the whole run (at DEBUG)."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability.harness import Client, Receiver, Server, hookline_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 200
USERS = 10
SECONDS = float(os.environ.get("HOOKLINE_LOAD_SECONDS", "60"))
PASSWORD = "correct horse"


async def test_load_and_no_secret_in_the_logs(tmp_path: Path, receiver: Receiver) -> None:
    server = Server(
        tmp_path,
        hookline_env(tmp_path, HOOKLINE_LOG_LEVEL="DEBUG", HOOKLINE_TOKEN_FAILURES_PER_MINUTE="5"),
    )
    secrets: list[str] = [PASSWORD]
    users: list[dict[str, Any]] = []
    try:
        await server.start()
        for n in range(USERS):
            client = Client(server.base)
            email = f"load-{n}@example.com"
            creds = {"email": email, "password": PASSWORD}
            await client.call("register-profile", {**creds, "fullname": "Load"})
            login = await client.http.post("/api/rpc/command/login-with-password", json=creds)
            secrets.extend(c.value for c in login.cookies.jar if c.value)
            client.token = (await client.call("create-access-token", {"name": "load"}))["token"]
            rotated = await client.call(
                "rotate-access-token",
                {"id": (await client.call("get-current-access-token"))["id"]},
            )
            secrets.append(client.token)
            client.token = rotated["token"]
            client.http.cookies.clear()
            team = await client.call("create-team", {"name": f"Load {n}"})
            hook = await client.call(
                "create-webhook",
                {"teamId": team["id"], "uri": f"{receiver.base}/ok", "name": "load"},
            )
            rotated_secret = await client.call("rotate-webhook-secret", {"id": hook["id"]})
            secrets.extend([client.token, hook["secret"], rotated_secret["secret"]])
            users.append({"token": client.token, "team": team["id"], "hook": hook["id"]})
            await client.aclose()

        statuses: Counter[int] = Counter()
        latencies: list[float] = []
        acked: set[str] = set()
        counter = iter(range(10**9))
        stop_at = time.monotonic() + SECONDS
        limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=server.base, timeout=60, limits=limits) as http:

            async def one_client(seed: int) -> None:
                rng = random.Random(seed)
                while time.monotonic() < stop_at:
                    user = rng.choice(users)
                    headers = {"authorization": f"Token {user['token']}"}
                    roll = rng.random()
                    name = ""
                    if roll < 0.35:
                        name = f"bench-{next(counter)}"
                        command, params = "create-project", {"teamId": user["team"], "name": name}
                    elif roll < 0.65:
                        command, params = "get-profile", {}
                    elif roll < 0.85:
                        command, params = "get-projects", {"teamId": user["team"]}
                    else:
                        command, params = "get-webhook-deliveries", {"webhookId": user["hook"]}
                    began = time.perf_counter()
                    response = await http.post(
                        f"/api/rpc/command/{command}", json=params, headers=headers
                    )
                    latencies.append(time.perf_counter() - began)
                    statuses[response.status_code] += 1
                    if name and response.status_code == 200:
                        acked.add(name)

            await asyncio.gather(*(one_client(n) for n in range(CLIENTS)))
            # Wrong and revoked tokens are refused and rate limited, never a 5xx.
            for _ in range(8):
                bad = await http.post(
                    "/api/rpc/command/get-profile",
                    headers={"authorization": f"Token {secrets[1]}"},
                )
                statuses[bad.status_code] += 1

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and acked - set(receiver.names()):
            await asyncio.sleep(0.2)
        missing = acked - set(receiver.names())
        assert not missing, f"{len(missing)} acknowledged events never arrived"
        assert not [s for s in statuses if s >= 500], statuses
        assert 429 in statuses or 401 in statuses
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"load: {CLIENTS} clients for {SECONDS:.0f}s, {len(latencies)} requests"
            f" ({len(latencies) / SECONDS:.0f}/s), {len(acked)} events delivered;"
            f" p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms,"
            f" p99 {cuts[98] * 1000:.0f} ms; answers {dict(statuses)}"
        )
    finally:
        server.stop()

    log = server.log_path.read_text(errors="replace")
    assert "request" in log and len(log) > 10_000  # the log really was captured
    leaked = [s for s in secrets if s and s in log]
    assert not leaked, f"{len(leaked)} secrets appear in the log"
