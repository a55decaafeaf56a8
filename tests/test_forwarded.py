"""Whose address a request is: X-Forwarded-For counts only from the proxies in
HOOKLINE_TRUSTED_PROXIES, over real HTTP through the server ``serve`` runs."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from hookline.app import create_app
from hookline.cli import server_config
from hookline.services import Services
from tests.test_cli import free_port

SPOOFED = "203.0.113.9"


@asynccontextmanager
async def serving(services: Services) -> AsyncIterator[str]:
    port = free_port()
    settings = services.settings
    server = uvicorn.Server(
        server_config(create_app(settings, services=services), settings, "127.0.0.1", port)
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _last_used_from(base: str, forwarded_for: str) -> str:
    """The address a token's use is recorded from, sent with X-Forwarded-For."""
    async with httpx.AsyncClient(base_url=f"{base}/api/rpc/command/") as http:
        creds = {"email": "fwd@example.com", "password": "correct horse"}
        (await http.post("register-profile", json={**creds, "fullname": "F"})).raise_for_status()
        (await http.post("login-with-password", json=creds)).raise_for_status()
        created = await http.post("create-access-token", json={"name": "program"})
        token = created.json()["token"]
        used = await http.get(
            "get-profile",
            headers={"authorization": f"Token {token}", "x-forwarded-for": forwarded_for},
        )
        used.raise_for_status()
        [listed] = (await http.post("get-access-tokens", json={})).json()
        address: str = listed["lastUsedIp"]
        return address


async def test_forwarded_for_is_ignored_by_default(services: Services) -> None:
    async with serving(services) as base:
        assert await _last_used_from(base, SPOOFED) == "127.0.0.1"


async def test_forwarded_for_is_believed_from_a_trusted_proxy(services: Services) -> None:
    services.settings = dataclasses.replace(
        services.settings, trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),)
    )
    async with serving(services) as base:
        # The proxy appends the peer it saw; the address left of it is the client's claim.
        assert await _last_used_from(base, f"198.51.100.1, {SPOOFED}") == SPOOFED
