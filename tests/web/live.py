"""A real ``hookline serve`` and a webhook receiver for browser tests and the
screenshot script. Playwright's sync API runs outside any event loop, so the
async harness pieces run in loops of their own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.harness import Receiver, Server, free_port, hookline_env

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse"


class ThreadedReceiver:
    """harness.Receiver in a background thread with its own event loop."""

    def __init__(self) -> None:
        self.receiver = Receiver()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def base(self) -> str:
        return self.receiver.base

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self._loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def running_receiver() -> Iterator[ThreadedReceiver]:
    receiver = ThreadedReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@contextmanager
def running_server(work: Path, **env: str) -> Iterator[Server]:
    """``hookline serve`` on a free port of 127.0.0.1, on a fresh SQLite file
    in ``work``, with webhooks allowed to reach 127.0.0.0/8."""
    port = free_port()
    server = Server(
        work,
        hookline_env(
            work,
            HOOKLINE_PUBLIC_URL=f"http://127.0.0.1:{port}",
            HOOKLINE_DATABASE_URL=f"sqlite:///{work / 'hookline.db'}",
            **env,
        ),
        port=port,
    )
    try:
        # Playwright's sync API may already run a loop in this thread.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(lambda: asyncio.run(server.start())).result()
        yield server
    finally:
        server.stop()


class ApiCaller:
    """Calls commands over real HTTP, with a session cookie or a token."""

    def __init__(self, base: str, *, session: str = "", token: str = "") -> None:
        headers = {"authorization": f"Token {token}"} if token else {}
        cookies = {"hookline_session": session} if session else {}
        self.http = httpx.Client(base_url=base, headers=headers, cookies=cookies, timeout=10)

    def post(self, name: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"/api/rpc/command/{name}", json=params or {})

    def call(self, name: str, params: dict[str, Any] | None = None) -> Any:
        response = self.post(name, params)
        if response.status_code >= 400:
            raise AssertionError(f"{name}: {response.status_code} {response.text}")
        return None if response.status_code == 204 else response.json()

    def close(self) -> None:
        self.http.close()


def register(base: str, email: str, fullname: str) -> str:
    """A new account, logged in; answers its session key."""
    with httpx.Client(base_url=base, timeout=10) as http:
        creds = {"email": email, "password": PASSWORD}
        http.post("/api/rpc/command/register-profile", json={**creds, "fullname": fullname})
        response = http.post("/api/rpc/command/login-with-password", json=creds)
        response.raise_for_status()
        return response.cookies["hookline_session"]
