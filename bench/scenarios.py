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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil

from bench import backlog, cpu, floor, wrk
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
# wrk's connections for request rates (the figures of issue 18 were taken so).
API_CONNECTIONS = 32
# Turns each request-rate load takes (see Context.api_rates).
API_SLICES = 4
# Accounts the mixed load's clients share, each with a team and a webhook.
MIXED_USERS = 10


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
        # Figure key -> process -> share of one CPU, from the figure's last run.
        self.cpu: dict[str, dict[str, float]] = {}

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

    def watch(self, key: str, instance: Instance | None = None, **more: Proc) -> Any:
        """Record, under ``key``, the CPU share of the benchmark's own process
        (the client), the receiver and the instance's server and workers."""
        assert self.receiver is not None
        processes = {"bench client": psutil.Process(), "receiver": self.receiver.ps}
        if instance is not None:
            processes["hookline serve"] = instance.procs[0].ps
            for n, worker in enumerate(instance.workers):
                processes[f"hookline worker {n + 1}" if n else "hookline worker"] = worker.ps
        processes.update({name: proc.ps for name, proc in more.items()})
        self.cpu[key] = {}
        return cpu.shares(processes, self.cpu[key])

    async def _pg(self, sql: str, database: str = "postgres") -> None:
        conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + database)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    @asynccontextmanager
    async def hookline(
        self, db: str, *, workers: int = 1, separate_worker: bool = False, **settings: str
    ) -> AsyncIterator[Instance]:
        """Hookline on SQLite (``serve`` with its in-process worker), on PostgreSQL
        (``serve --no-worker`` plus ``workers`` standalone worker processes) or
        on PostgreSQL as ``serve`` runs by default (``postgresql_serve``: with its
        in-process worker, like SQLite). ``separate_worker`` runs SQLite the way
        ``postgresql`` runs, for measuring a worker on its own."""
        own_worker = db != "postgresql" and not separate_worker
        db = "postgresql" if db.startswith("postgresql") else db
        port = free_port()
        data = self.work / f"hookline-{port}-{time.monotonic_ns()}"
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

    async def ceiling(self, events: int, key: str = "ceiling_eps") -> float:
        await receiver_reset(self.http, self.receiver_base)
        bodies = [json.dumps(sample_event(n)).encode() for n in range(events)]
        with self.watch(key):
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
            with self.watch("relay_eps", relay=proc):
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
            with self.watch(f"hookline_{db}_batch{batch}_eps", instance):
                return await self._sequenced_rate(client, team, events)

    async def hookline_beside_a_dead_endpoint(self, db: str, events: int) -> float:
        """Throughput of a healthy webhook while a second webhook of the same
        team points at an endpoint that never answers."""
        async with self.hookline(db) as instance:
            client, team = await self._client(instance)
            await client.add_webhook(team, f"{self.receiver_base}/hook", 1)
            await client.add_webhook(team, f"{self.receiver_base}/never", 1)
            await self._quiet(1)
            with self.watch(f"hookline_{db}_beside_dead_eps", instance):
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
            with self.watch(f"fanout_hookline_{db}_s", inst):
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
                with self.watch(f"latency_{who}", instance):
                    answered = await client.raise_at_rate(team, rate, seconds)
                    await wait_for(self.http, self.receiver_base, "sequenced", total, 600)
        arrivals = await receiver_arrivals(self.http, self.receiver_base)
        return percentiles([(arrivals[s] - answered[s]) * 1000 for s in answered])

    # -- the API (wrk) -------------------------------------------------------

    async def api_rates(self, db: str, seconds: float) -> dict[str, float]:
        """Requests/s of ``/healthz``, anonymous and token ``get-profile`` and
        ``create-file``, taking turns on one server, all with wrk and the same
        settings (``API_CONNECTIONS`` connections)."""
        async with self.hookline(db) as instance:
            client, team = await self._client(instance)
            project = await client.call("create-project", {"teamId": team, "name": "api"})
            path = "/api/rpc/command/"
            json_ct = {"Content-Type": "application/json"}
            token = {**json_ct, "Authorization": f"Token {client.token}"}
            file_body = json.dumps({"projectId": project["id"], "name": "f-SEQ"})
            before, after = file_body.split("SEQ")
            healthz = wrk.one_request("GET", {}, None)
            anonymous = wrk.one_request("POST", json_ct, "{}")
            with_token = wrk.one_request("POST", token, "{}")
            # Each load's path, and its script for a turn (files are named
            # f-<turn>-<n>: a name new in every turn).
            loads: dict[str, tuple[str, Callable[[int], str]]] = {
                "healthz": ("/healthz", lambda turn: healthz),
                "get_profile_anonymous": (path + "get-profile", lambda turn: anonymous),
                "get_profile_token": (path + "get-profile", lambda turn: with_token),
                "create_file": (
                    path + "create-file",
                    lambda turn: wrk.numbered_request(
                        path + "create-file", token, f"{before}{turn}-", after
                    ),
                ),
            }
            # The loads take turns in slices (``API_SLICES`` of each): this
            # machine's speed drifts by a tenth within seconds, and one load
            # run after another would measure that drift in their ratios.
            slices = API_SLICES if seconds >= API_SLICES else 1
            served = dict.fromkeys(loads, 0.0)
            spent = dict.fromkeys(loads, 0.0)
            for turn in range(slices):
                for key, (url_path, script) in loads.items():
                    figure = f"api_{db}_{key}_rps"
                    with self.watch(figure, instance):
                        result = await wrk.run(
                            instance.base + url_path,
                            script(turn),
                            API_CONNECTIONS,
                            seconds / slices,
                            self.work,
                        )
                    self.cpu[figure]["wrk"] = round(result["wrk_cpu"], 2)
                    if result["http_errors"] or result["socket_errors"]:
                        raise RuntimeError(f"{figure}: {result}")
                    served[key] += result["requests"]
                    spent[key] += result["requests"] / result["rps"]
            return {key: served[key] / spent[key] for key in loads}

    async def mixed(self, db: str, seconds: float, clients: int) -> dict[str, float]:
        """``clients`` connections for ``seconds``, each request drawn at random:
        35% ``create-project`` (an event to the team's webhook), 30%
        ``get-profile``, 20% ``get-projects``, 15% ``get-webhook-deliveries``,
        with the tokens of ``MIXED_USERS`` accounts, each with its own team and
        webhook. Answers wrk's requests/s, latency percentiles and errors."""
        async with self.hookline(db) as instance:
            choices: list[tuple[float, str, dict[str, str], str]] = []
            share = 1 / MIXED_USERS
            path = "/api/rpc/command/"
            for _ in range(MIXED_USERS):
                client, team = await self._client(instance)
                hook = await client.add_webhook(team, f"{self.receiver_base}/hook")
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Token {client.token}",
                }
                project = json.dumps({"teamId": team, "name": "bench-SEQ"})
                choices += [
                    (0.35 * share, path + "create-project", headers, project),
                    (0.30 * share, path + "get-profile", headers, "{}"),
                    (0.20 * share, path + "get-projects", headers, json.dumps({"teamId": team})),
                    (
                        0.15 * share,
                        path + "get-webhook-deliveries",
                        headers,
                        json.dumps({"webhookId": hook}),
                    ),
                ]
            await self._quiet(MIXED_USERS)
            figure = f"mixed_{db}"
            with self.watch(figure, instance):
                result = await wrk.run(
                    instance.base + "/", wrk.mix(choices, "SEQ"), clients, seconds, self.work
                )
            self.cpu[figure]["wrk"] = round(result.pop("wrk_cpu"), 2)
            return result

    # -- delivery alone --------------------------------------------------------

    async def delivery_alone(self, db: str, count: int) -> float:
        """Deliveries/s of one ``hookline worker`` draining a recorded backlog of
        ``count`` events (one event per request, one webhook, as many in flight
        as the ceiling's sender), from the first arrival to the last."""
        in_flight = str(self.concurrency)
        async with self.hookline(
            db,
            workers=0,
            separate_worker=True,
            HOOKLINE_DELIVERY_CONCURRENCY=in_flight,
            HOOKLINE_DELIVERY_CONCURRENCY_PER_WEBHOOK=in_flight,
        ) as instance:
            client, team = await self._client(instance)
            hook = await client.add_webhook(team, f"{self.receiver_base}/hook", 1)
            await backlog.seed(_async_url(instance), team, hook, count)
            await receiver_reset(self.http, self.receiver_base)
            instance.start_worker()
            # The worker's start-up (imports, migrate) is not delivery.
            await wait_for(self.http, self.receiver_base, "sequenced", 1, 120)
            with self.watch(f"delivery_{db}_eps", instance):
                stats = await wait_for(self.http, self.receiver_base, "sequenced", count, 1800, 0.1)
            return count / (stats["last_sequenced"] - stats["first_sequenced"])

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

    async def backlog_memory(self, size: int) -> tuple[float, float]:
        async with self.hookline("postgresql", workers=0) as instance:
            client, team = await self._client(instance)
            hook = await client.add_webhook(team, f"{self.receiver_base}/hook", 100)
            assert instance.database is not None
            await self._pg(backlog.bulk_sql(team, hook, size), instance.database)
            await receiver_reset(self.http, self.receiver_base)
            worker = instance.start_worker()
            started = time.monotonic()
            peak = 0.0
            with self.watch("memory_peak_rss_mb", instance):
                while True:
                    peak = max(peak, worker.rss_mb())
                    stats = await receiver_stats(self.http, self.receiver_base)
                    if stats["sequenced"] >= size:
                        break
                    if worker.popen.poll() is not None:
                        raise RuntimeError("the worker died while draining the backlog")
                    if time.monotonic() - started > 3600:
                        raise TimeoutError("the backlog did not drain within an hour")
                    await asyncio.sleep(0.25)
            return peak, time.monotonic() - started


def _async_url(instance: Instance) -> str:
    """The instance's database as a SQLAlchemy async URL."""
    if instance.database is None:
        return f"sqlite+aiosqlite:///{instance.work / 'hookline.db'}"
    return instance.env["HOOKLINE_DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://")
