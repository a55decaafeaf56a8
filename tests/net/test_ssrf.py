from __future__ import annotations

import pytest

from hookline.net.ssrf import BlockedRequest, resolve
from hookline.settings import parse_allowlist

NOTHING_ALLOWED = parse_allowlist("")

BLOCKED = {
    "http://127.0.0.1/": "loopback-address",
    "http://127.1/": "loopback-address",
    "http://2130706433/": "loopback-address",
    "http://0x7f.0.0.1/": "loopback-address",
    "http://0177.0.0.1/": "loopback-address",
    "http://[::1]/": "loopback-address",
    "http://[::ffff:127.0.0.1]/": "loopback-address",
    "http://169.254.169.254/latest/meta-data": "link-local-address",
    "http://0.0.0.0/": "unspecified-address",
    "http://[::]/": "unspecified-address",
    "http://10.1.2.3/": "private-address",
    "http://172.16.0.1/": "private-address",
    "http://192.168.1.1/": "private-address",
    "http://100.64.0.1/": "shared-address",
    "http://[fd00::1]/": "private-address",
    "http://[fe80::1]/": "link-local-address",
    "http://224.0.0.1/": "multicast-address",
    "http://localhost:8080/": "loopback-address",
    "ftp://example.com/": "invalid-url",
    "http://user:pw@example.com/": "credentials-in-url",
    "http:///nohost": "invalid-url",
}


@pytest.mark.parametrize(("url", "reason"), sorted(BLOCKED.items()))
async def test_blocked_by_default(url: str, reason: str) -> None:
    with pytest.raises(BlockedRequest) as caught:
        await resolve(url, NOTHING_ALLOWED)
    assert caught.value.code == f"blocked-request:{reason}"


async def test_public_address_passes_and_is_the_one_to_connect_to() -> None:
    target = await resolve("https://93.184.216.34:8443/hook", NOTHING_ALLOWED)
    assert (target.scheme, target.host, target.port) == ("https", "93.184.216.34", 8443)
    assert [str(a) for a in target.addresses] == ["93.184.216.34"]


async def test_allowlist_opens_a_range_or_a_host() -> None:
    target = await resolve("http://127.0.0.1:9/", parse_allowlist("127.0.0.0/8"))
    assert [str(a) for a in target.addresses] == ["127.0.0.1"]
    by_name = await resolve("http://localhost:9/", parse_allowlist("localhost"))
    assert by_name.addresses
    with pytest.raises(BlockedRequest):
        await resolve("http://10.0.0.1/", parse_allowlist("127.0.0.0/8"))


async def test_name_resolving_to_loopback_is_blocked() -> None:
    # localhost. resolves through the system resolver (not the name shortcut).
    with pytest.raises(BlockedRequest) as caught:
        await resolve("http://localhost./", NOTHING_ALLOWED)
    assert caught.value.reason == "loopback-address"
