"""The server-side request forgery guard: which addresses a webhook may reach.

A URL's host is resolved once; every address must be public (or allow-listed),
and the sender connects to exactly the addresses that were checked, so a DNS
answer that changes between check and connect cannot redirect a request."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from hookline.settings import SsrfAllowlist

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that are never a public webhook receiver. Named for the error message.
_BLOCKED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b::/96", "nat64"),
    ("64:ff9b:1::/48", "nat64"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "reserved"),
    ("2002::/16", "6to4"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_NETWORKS = tuple((ipaddress.ip_network(cidr), why) for cidr, why in _BLOCKED)


class BlockedRequest(Exception):
    """The request must not be sent. ``reason`` is short and safe to show:
    it becomes the error code ``blocked-request:<reason>``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def code(self) -> str:
        return f"blocked-request:{self.reason}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in ipaddress.ip_network("::ffff:0:0:0/96"):  # IPv4-translated
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in ipaddress.ip_network("::/96") and int(address) > 1:  # IPv4-compatible
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(address: Address, allowlist: SsrfAllowlist) -> str | None:
    """Why ``address`` may not be reached, or None when it may."""
    if allowlist.allows_address(address):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return blocked_reason(inner, allowlist)
    for network, why in _NETWORKS:
        if address.version == network.version and address in network:
            return f"{why}-address"
    return None


def parse_ip_literal(host: str) -> Address | None:
    """An IP written in any form a resolver accepts (``127.1``, ``2130706433``,
    ``0x7f.0.0.1``, ``0177.0.0.1``, ``[::1]``), or None for a host name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        packed = socket.inet_aton(host)  # the permissive BSD forms
    except OSError:
        return None
    return ipaddress.IPv4Address(packed)


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to ``addresses`` and to nothing else."""

    scheme: str
    host: str
    port: int
    addresses: tuple[Address, ...]


@functools.lru_cache(maxsize=4096)
def split_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of a webhook URL, or BlockedRequest("invalid-url")."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BlockedRequest("invalid-url") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise BlockedRequest("invalid-url")
    if parts.username is not None or parts.password is not None:
        raise BlockedRequest("credentials-in-url")
    return scheme, host, port or (443 if scheme == "https" else 80)


async def resolve(url: str, allowlist: SsrfAllowlist) -> Target:
    """Resolve the URL's host and check every address it has.

    All addresses must pass: a name that resolves to one public and one private
    address is refused, since a client may pick either."""
    scheme, host, port = split_url(url)
    literal = parse_ip_literal(host)
    if literal is not None:
        addresses: tuple[Address, ...] = (literal,)
    else:
        if host == "localhost" or host.endswith(".localhost"):
            if not allowlist.allows_host(host):
                raise BlockedRequest("loopback-address")
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (OSError, UnicodeError):
            raise BlockedRequest("unresolvable-host") from None
        found = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
        addresses = tuple(sorted(found, key=lambda a: (a.version, int(a))))
        if not addresses:
            raise BlockedRequest("unresolvable-host")
    if not allowlist.allows_host(host):
        for address in addresses:
            reason = blocked_reason(address, allowlist)
            if reason is not None:
                raise BlockedRequest(reason)
    return Target(scheme, host, port, addresses)
