"""Real processes and real receivers for the reliability suite.

``Receiver`` is an aiohttp server on 127.0.0.1 inside the test's event loop; each
path is a behaviour (answer 2xx, 400, 500, hang, reset, drip, a huge body, 429, 410,
a redirect). ``Server`` runs ``hookline serve`` / ``hookline worker`` as child
processes that the tests may SIGKILL and restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from aiohttp import web

HOOKLINE = [sys.executable, "-m", "hookline"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0
    in_flight_by_path: Counter[str] = field(default_factory=Counter)
    peak_by_path: Counter[str] = field(default_factory=Counter)
    tls: ssl.SSLContext | None = None
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def names(self) -> Counter[str]:
        """How many times each ``bench-<n>`` project name arrived on /ok."""
        seen: Counter[str] = Counter()
        for request in self.requests:
            if not request.path.startswith("/ok"):
                continue
            data: Any = json.loads(request.body)
            for item in data if isinstance(data, list) else [data]:
                name = item.get("props", {}).get("name")
                if name:
                    seen[name] += 1
        return seen

    def duplicate_messages(self) -> int:
        """Requests whose ``webhook-id`` was seen before: at-least-once repeats."""
        ids = Counter(r.headers.get("webhook-id", "") for r in self.requests)
        return sum(n - 1 for n in ids.values() if n > 1)

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self.tls).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Received(request.path, headers, body, time.time()))
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self.in_flight_by_path[request.path] += 1
        self.peak_by_path[request.path] = max(
            self.peak_by_path[request.path], self.in_flight_by_path[request.path]
        )
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1
            self.in_flight_by_path[request.path] -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._behave(request)
        except ConnectionResetError:  # the sender gave up on a slow or huge answer
            return web.Response(status=499)

    async def _behave(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/ok"):
            return web.Response(status=200, text="ok")
        if path.startswith("/500"):
            return web.Response(status=500, text="boom")
        if path.startswith("/hang"):
            await asyncio.sleep(3600)
        if path.startswith("/reset"):
            transport = request.transport
            if transport is not None:
                sock = transport.get_extra_info("socket")
                if sock is not None:  # RST instead of FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                transport.close()
            await asyncio.sleep(1)
        if path.startswith("/drip"):
            response = web.StreamResponse(status=200)
            response.content_length = 1000
            await response.prepare(request)
            for _ in range(1000):
                await response.write(b".")
                await asyncio.sleep(1)
            return response
        if path.startswith("/huge"):
            response = web.StreamResponse(status=200)
            response.content_length = 100 * 2**20
            await response.prepare(request)
            chunk = b"x" * 2**20
            for _ in range(100):
                await response.write(chunk)
            return response
        if path.startswith("/429"):
            return web.Response(status=429, headers={"Retry-After": "1"})
        if path.startswith("/400"):
            return web.Response(status=400, text="no such thing")
        if path.startswith("/410"):
            return web.Response(status=410)
        if path.startswith("/redirect"):
            raise web.HTTPFound(f"http://127.0.0.2:{self.port}/ok")
        return web.Response(status=404)


def self_signed_context() -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1,
    which no client trusts."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(cert_path, key_path)
    return context


@dataclass
class Server:
    """``hookline serve`` (and workers) as children of the test."""

    work: Path
    env: dict[str, str]
    port: int = 0
    serve_args: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.work / "hookline.log"

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.log_path.open("ab")
        self._logs.append(log)
        return subprocess.Popen(
            [*HOOKLINE, *args], cwd=self.work, env=self.env, stdout=log, stderr=log
        )

    async def start(self) -> None:
        self.port = self.port or free_port()
        self.proc = self._spawn("serve", "--port", str(self.port), *self.serve_args)
        await self.wait_healthy()

    async def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"serve exited: {self.log_path.read_text()[-2000:]}")
                try:
                    if (await client.get(f"{self.base}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("serve did not become healthy")

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn("worker")
        self.workers.append(worker)
        return worker

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        for proc in [*self.workers, self.proc]:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in self._logs:
            log.close()


def hookline_env(work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update(
        HOOKLINE_DATA_DIR=str(work),
        HOOKLINE_SSRF_ALLOWLIST="127.0.0.0/8",
        HOOKLINE_LOGIN_FAILURES_PER_MINUTE="1000",
        HOOKLINE_SIGNUPS_PER_HOUR="100000",
        HOOKLINE_RETRY_SCHEDULE="0.5,1,1,2,2,3,3,5",
        HOOKLINE_DELIVERY_LEASE_S="2",
        HOOKLINE_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


class Client:
    """A signed-in API client with a token, over real HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.AsyncClient(base_url=base, timeout=30)
        self.token = ""

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(self, name: str, params: dict[str, Any] | None = None) -> Any:
        headers = {"authorization": f"Token {self.token}"} if self.token else {}
        response = await self.http.post(
            f"/api/rpc/command/{name}", json=params or {}, headers=headers
        )
        if response.status_code >= 400:
            raise AssertionError(f"{name}: {response.status_code} {response.text}")
        return None if response.status_code == 204 else response.json()

    async def team_with_webhook(self, uri: str, name: str = "Reliability") -> str:
        """Create a team with one webhook to ``uri``; answer the team id."""
        team = await self.call("create-team", {"name": name})
        await self.call("create-webhook", {"teamId": team["id"], "uri": uri, "name": name})
        return str(team["id"])

    async def sign_up(self, email: str = "rel@example.com") -> None:
        creds = {"email": email, "password": "correct horse"}
        await self.call("register-profile", {**creds, "fullname": "Rel"})
        await self.call("login-with-password", creds)
        self.token = (await self.call("create-access-token", {"name": "rel"}))["token"]
        self.http.cookies.clear()
