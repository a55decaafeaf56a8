"""The sender connects only to addresses the SSRF guard checked."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from hookline.delivery import sender as sender_module
from hookline.delivery.sender import GuardedResolver
from hookline.net.ssrf import BlockedRequest
from hookline.settings import Settings, parse_allowlist


class Rebinding:
    """A DNS that answers a public address first and loopback afterwards."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, host: str, port: int, **_: Any) -> list[Any]:
        self.calls += 1
        address = "93.184.216.34" if self.calls == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


async def test_dns_rebinding_cannot_reach_a_blocked_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dns = Rebinding()
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", dns)
    resolver = GuardedResolver(Settings(ssrf_allowlist=parse_allowlist("")))
    # The check answers the addresses the client connects to, and nothing else.
    checked = await resolver.target("http://hooks.example/x")
    assert [str(a) for a in checked.addresses] == ["93.184.216.34"]
    again = await resolver.target("http://hooks.example/y")
    assert again is checked
    assert dns.calls == 1
    # Once that answer is stale, a new one pointing at loopback is refused.
    monkeypatch.setattr(sender_module, "RESOLVE_TTL_S", 0.0)
    with pytest.raises(BlockedRequest) as caught:
        await resolver.target("http://hooks.example/x")
    assert caught.value.reason == "loopback-address"
