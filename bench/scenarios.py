"""The measurements. Each starts the processes it needs and stops them again, so
runs do not leak state into each other."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench import floor
from bench.ceiling import send_all
from bench.hookline_side import (
    Hookline,
    receiver_arrivals,
    receiver_reset,
    receiver_stats,
    wait_for,
)
from bench.procs import Proc, base_env, free_port, start_receiver, wait_http

PG_ADMIN = os.environ.get("HOOKLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
HOOKLINE = [sys.executable, "-m", "hookline"]
# Sequence numbers of warm-up events, apart from the measured ones (0, 1, ...).
WARM_UP_SEQ = 10_000_000


def migrate(env: dict[str, str], cwd: Path) -> None:
    """``hookline migrate`` with these settings."""
    subprocess.run([*HOOKLINE, "migrate"], env=env, check=True, cwd=cwd, capture_output=True)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def sample_event(seq: int) -> dict[str, Any]:
    """A body shaped and sized like the event Hookline sends for create-project."""
    return {
        "id": str(uuid.uuid4()),
        "name": "create-project",
        "profileId": str(uuid.uuid4()),
        "teamId": str(uuid.uuid4()),
        "props": {"id": str(uuid.uuid4()), "teamId": str(uuid.uuid4()), "name": f"bench-{seq}"},
        "createdAt": "2026-01-01T00:00:00Z",
        "trackedAt": "2026-01-01T00:00:00Z",
        "seq": seq,
    }


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    cuts = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else [ordered[0]] * 99
    )
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


@dataclass
class Instance:
    base: str
    procs: list[Proc]
    database: str | None
    env: dict[str, str]
    work: Path
    workers: list[Proc] = field(default_factory=list)

    def start_worker(self) -> Proc:
        proc = Proc(
            f"worker-{len(self.workers)}-{time.monotonic_ns()}",
            [*HOOKLINE, "worker"],
            self.work,
            self.env,
        )
        self.workers.append(proc)
        return proc


class Context:
    def __init__(self, work: Path, concurrency: int) -> None:
        self.work = work
        self.concurrency = concurrency
        self.receiver: Proc | None = None
        self.receiver_base = ""
        self.session: aiohttp.ClientSession | None = None
        self.celery_worker: Proc | None = None

    # -- shared parts --------------------------------------------------------

    async def start_common(self) -> None:
        self.receiver, self.receiver_base = start_receiver(self.work)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            timeout=aiohttp.ClientTimeout(total=120),
            # The servers are on 127.0.0.1: aiohttp keeps cookies from IP hosts
            # only when told to.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.celery_worker is not None:
            self.celery_worker.stop()
        if self.receiver is not None:
            self.receiver.stop()

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self.session is not None
        return self.session

    async def _pg(self, sql: str, database: str = "postgres") -> None:
        conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + database)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    @asynccontextmanager
    async def hookline(
        self, db: str, *, workers: int = 1, **settings: str
    ) -> AsyncIterator[Instance]:
        """Hookline on SQLite (``serve`` with its in-process worker), on PostgreSQL
        (``serve --no-worker`` plus ``workers`` standalone worker processes) or
        on PostgreSQL as ``serve`` runs by default (``postgresql_serve``: with its
        in-process worker, like SQLite)."""
        own_worker = db != "postgresql"
        db = "postgresql" if db.startswith("postgresql") else db
        port = free_port()
        data = self.work / f"hookline-{port}"
        data.mkdir()
        database: str | None = None
        env = base_env(
            HOOKLINE_DATA_DIR=str(data),
            HOOKLINE_SSRF_ALLOWLIST="127.0.0.0/8",
            HOOKLINE_LOG_LEVEL="WARNING",
            HOOKLINE_LOGIN_FAILURES_PER_MINUTE="1000",
            HOOKLINE_SIGNUPS_PER_HOUR="100000",
            **settings,
        )
        if db == "postgresql":
            database = f"bench_{port}"
            await self._pg(f"CREATE DATABASE {database}")
            env["HOOKLINE_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + database
            migrate(env, data)
        argv = [*HOOKLINE, "serve", "--port", str(port)]
        if not own_worker:
            argv.append("--no-worker")
        server = Proc(f"serve-{db}-{port}", argv, data, env)
        instance = Instance(f"http://127.0.0.1:{port}", [server], database, env, data)
        try:
            wait_http(f"{instance.base}/healthz", server)
            # Count from zero, so _quiet waits for this instance's own ping
            # (proof that its worker runs), not for a previous run's traffic.
            await receiver_reset(self.http, self.receiver_base)
            if not own_worker:
                for _ in range(workers):
                    instance.start_worker()
            yield instance
        finally:
            for proc in [*instance.workers, *instance.procs]:
                proc.stop()
            if database is not None:
                await self._pg(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    async def _client(self, instance: Instance) -> tuple[Hookline, str]:
        client = Hookline(instance.base, self.http)
        team_id = await client.setup()
        return client, team_id

    async def _sequenced_rate(self, client: Hookline, team_id: str, events: int) -> float:
        """Raise ``events`` commands; events/s from the first command to the
        receiver's receipt of the last event."""
        started = time.time()
        await client.raise_events(team_id, events, concurrency=32)
        stats = await wait_for(self.http, self.receiver_base, "sequenced", events, 600)
        return events / (stats["last_sequenced"] - started)

    async def _quiet(self, expected_events: int) -> None:
        """Wait for set-up traffic (pings) to arrive, then zero the receiver."""
        if expected_events:
            await wait_for(self.http, self.receiver_base, "events", expected_events, 60)
        await receiver_reset(self.http, self.receiver_base)

    # -- throughput ----------------------------------------------------------

    async def ceiling(self, events: int) -> float:
        await receiver_reset(self.http, self.receiver_base)
        bodies = [json.dumps(sample_event(n)).encode() for n in range(events)]
        seconds = await send_all(f"{self.receiver_base}/hook", bodies, self.concurrency)
        return events / seconds

    async def relay(self, events: int) -> float:
        """The same commands through ``bench.relay``: what a stack that only
        answers each command and posts its event on reaches here."""
        port = free_port()
        proc = Proc(
            f"relay-{port}",
            [
                sys.executable,
                "-m",
                "bench.relay",
                "--port",
                str(port),
                "--target",
                f"{self.receiver_base}/hook",
                "--concurrency",
                str(self.concurrency),
            ],
            self.work,
            base_env(),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz", proc)
            await receiver_reset(self.http, self.receiver_base)
            return await self._sequenced_rate(Hookline(base, self.http), "relay", events)
        finally:
            proc.stop()

    def record_floor(self, events: int) -> float:
        """Microseconds raw sqlite3 takes to write one event's rows (see ``bench.floor``)."""
        data = self.work / f"floor-{time.monotonic_ns()}"
        data.mkdir()
        migrate(base_env(HOOKLINE_DATA_DIR=str(data), HOOKLINE_LOG_LEVEL="WARNING"), data)
        return floor.record_microseconds(data / "hookline.db", events)

    async def hookline_throughput(self, db: str, events: int, batch: int) -> float:
        async with self.hookline(db) as instance:
            client, team = await self._client(instance)
            await client.add_webhook(team, f"{self.receiver_base}/hook", batch)
            await self._quiet(1)
            return await self._sequenced_rate(client, team, events)

    async def hookline_beside_a_dead_endpoint(self, db: str, events: int) -> float:
        """Throughput of a healthy webhook while a second webhook of the same
        team points at an endpoint that never answers."""
        async with self.hookline(db) as instance:
            client, team = await self._client(instance)
            await client.add_webhook(team, f"{self.receiver_base}/hook", 1)
            await client.add_webhook(team, f"{self.receiver_base}/never", 1)
            await self._quiet(1)
            return await self._sequenced_rate(client, team, events)

    # -- the Celery peer -----------------------------------------------------

    def _celery(self) -> Any:
        from bench import celery_peer

        if self.celery_worker is None:
            self.celery_worker = Proc(
                "celery-worker",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "bench.celery_peer",
                    "worker",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                self.work,
                base_env(),
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if celery_peer.app.control.ping(timeout=0.5):
                    break
            else:
                raise RuntimeError("the Celery worker did not start")
        celery_peer.app.control.purge()
        return celery_peer.deliver

    async def _enqueue(self, items: list[tuple[str, str]]) -> float:
        deliver = self._celery()
        await receiver_reset(self.http, self.receiver_base)
        started = time.time()

        def feed() -> None:
            for url, body in items:
                deliver.delay(url, body)

        await asyncio.to_thread(feed)
        return started

    async def celery_throughput(self, events: int) -> float:
        url = f"{self.receiver_base}/hook"
        started = await self._enqueue([(url, json.dumps(sample_event(n))) for n in range(events)])
        stats = await wait_for(self.http, self.receiver_base, "sequenced", events, 1800, 0.2)
        return events / (stats["last_sequenced"] - started)

    # -- fan-out -------------------------------------------------------------

    async def celery_fanout(self, webhooks: int, events: int) -> float:
        items = [
            (f"{self.receiver_base}/hook/{w}", json.dumps(sample_event(n)))
            for n in range(events)
            for w in range(webhooks)
        ]
        started = await self._enqueue(items)
        stats = await wait_for(
            self.http, self.receiver_base, "events", webhooks * events, 3600, 0.2
        )
        return float(stats["last"] - started)

    async def hookline_fanout(self, db: str, webhooks: int, events: int) -> float:
        async with self.hookline(db, HOOKLINE_MAX_WEBHOOKS_PER_TEAM=str(webhooks + 10)) as inst:
            client, team = await self._client(inst)
            for w in range(webhooks):
                await client.add_webhook(team, f"{self.receiver_base}/hook/{w}")
            await self._quiet(webhooks)
            started = time.time()
            await client.raise_events(team, events, concurrency=4)
            stats = await wait_for(
                self.http, self.receiver_base, "events", webhooks * events, 1800, 0.2
            )
            return float(stats["last"] - started)

    # -- latency -------------------------------------------------------------

    async def latency(self, who: str, rate: float, seconds: float) -> dict[str, float]:
        """Milliseconds from a command's answer (Celery: ``.delay()`` returning)
        to the receiver's receipt, at a steady rate. One second at that rate
        goes first and is not counted, for every side alike: it opens
        connections and fills caches, which happens once in a process's life."""
        total = int(rate * seconds)
        warm_up = max(int(rate), 1)
        if who == "celery":
            deliver = self._celery()
            url = f"{self.receiver_base}/hook"

            def feed(count: int, start: int) -> dict[int, float]:
                answered: dict[int, float] = {}
                began = time.perf_counter()
                for n in range(count):
                    delay = began + n / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    deliver.delay(url, json.dumps(sample_event(start + n)))
                    answered[start + n] = time.time()
                return answered

            await receiver_reset(self.http, self.receiver_base)
            await asyncio.to_thread(feed, warm_up, WARM_UP_SEQ)
            await wait_for(self.http, self.receiver_base, "events", warm_up, 600, 0.2)
            await receiver_reset(self.http, self.receiver_base)
            answered = await asyncio.to_thread(feed, total, 0)
            await wait_for(self.http, self.receiver_base, "sequenced", total, 600, 0.2)
        else:
            db = who.removeprefix("hookline_")
            async with self.hookline(db) as instance:
                client, team = await self._client(instance)
                await client.add_webhook(team, f"{self.receiver_base}/hook")
                await self._quiet(1)
                await client.raise_at_rate(team, rate, warm_up / rate, start=WARM_UP_SEQ)
                await self._quiet(warm_up)
                answered = await client.raise_at_rate(team, rate, seconds)
                await wait_for(self.http, self.receiver_base, "sequenced", total, 600)
        arrivals = await receiver_arrivals(self.http, self.receiver_base)
        return percentiles([(arrivals[s] - answered[s]) * 1000 for s in answered])

    # -- the API -------------------------------------------------------------

    async def api_rates(self, seconds: float) -> dict[str, float]:
        async with self.hookline("sqlite") as instance:
            client, team = await self._client(instance)
            project = await client.call("create-project", {"teamId": team, "name": "api"})
            url = f"{instance.base}/api/rpc/command/"
            token = {"authorization": f"Token {client.token}"}
            json_ct = {"content-type": "application/json"}
            loads = {
                "get_profile_anonymous": ("get-profile", {}, json_ct),
                "get_profile_token": ("get-profile", {}, {**json_ct, **token}),
                "create_file": ("create-file", {"projectId": project["id"]}, {**json_ct, **token}),
            }
            rates: dict[str, float] = {}
            for key, (command, params, headers) in loads.items():
                rates[key] = await self._load(url + command, params, headers, seconds, key)
            return rates

    async def _load(
        self, url: str, params: dict[str, Any], headers: dict[str, str], seconds: float, key: str
    ) -> float:
        done = 0
        failures = 0
        stop_at = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            nonlocal done, failures
            i = 0
            while time.perf_counter() < stop_at:
                body = dict(params)
                if "projectId" in body:
                    body["name"] = f"f-{n}-{i}"
                i += 1
                async with self.http.post(url, json=body, headers=headers) as response:
                    await response.read()
                    if response.status < 300:
                        done += 1
                    else:
                        failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(32)))
        if failures:
            raise RuntimeError(f"{key}: {failures} requests failed")
        return done / (time.perf_counter() - started)

    # -- scale-out and memory (PostgreSQL) ------------------------------------

    async def scaleout(self, workers: int, events: int) -> float:
        async with self.hookline("postgresql", workers=0) as instance:
            client, team = await self._client(instance)
            await client.add_webhook(team, f"{self.receiver_base}/hook")
            await client.raise_events(team, events, concurrency=32)
            await receiver_reset(self.http, self.receiver_base)
            for _ in range(workers):
                instance.start_worker()
            stats = await wait_for(self.http, self.receiver_base, "sequenced", events, 1800, 0.2)
            return events / (stats["last_sequenced"] - stats["first"])

    async def backlog_memory(self, backlog: int) -> tuple[float, float]:
        async with self.hookline("postgresql", workers=0) as instance:
            client, team = await self._client(instance)
            hook = await client.add_webhook(team, f"{self.receiver_base}/hook", 100)
            assert instance.database is not None
            await self._pg(_backlog_sql(team, hook, backlog), instance.database)
            await receiver_reset(self.http, self.receiver_base)
            worker = instance.start_worker()
            started = time.monotonic()
            peak = 0.0
            while True:
                peak = max(peak, worker.rss_mb())
                stats = await receiver_stats(self.http, self.receiver_base)
                if stats["sequenced"] >= backlog:
                    break
                if worker.popen.poll() is not None:
                    raise RuntimeError("the worker died while draining the backlog")
                if time.monotonic() - started > 3600:
                    raise TimeoutError("the backlog did not drain within an hour")
                await asyncio.sleep(0.25)
            return peak, time.monotonic() - started


def _backlog_sql(team_id: str, webhook_id: str, count: int) -> str:
    """Events and due deliveries in event order, written straight into the
    database (an API would take longer to raise a million events than to drain
    them). Ids keep UUIDv7's ordering: a fixed past timestamp, then a counter.
    Then the statistics autovacuum would gather after such a bulk load."""
    eid = "('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid"
    did = "('01900000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid"
    return f"""
    INSERT INTO events (id, name, team_id, profile_id, props, created_at, tracked_at)
    SELECT {eid}, 'create-project', '{team_id}', NULL,
           jsonb_build_object('name', 'bench-' || i), now(), now()
    FROM generate_series(1, {count}) AS i;
    INSERT INTO deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at,
                            created_at, updated_at)
    SELECT {did}, '{webhook_id}', {eid}, 'pending', 0, now(), now(), now()
    FROM generate_series(1, {count}) AS i;
    ANALYZE events;
    ANALYZE deliveries;
    """
