"""Sending one request: a shared aiohttp session whose resolver checks every
address with the SSRF guard and hands aiohttp exactly the checked addresses,
so a DNS answer that changes between check and connect cannot get through."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from hookline.net import ssrf
from hookline.settings import Settings

RESPONSE_BODY_LIMIT = 20 * 1024
RESOLVE_TTL_S = 30.0


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    duration_ms: int = 0
    error_code: str | None = None
    retry_after_s: float | None = None


class GuardedResolver(AbstractResolver):
    """Resolves, refuses blocked addresses, and caches the checked answer."""

    def __init__(self, settings: Settings) -> None:
        self.allowlist = settings.ssrf_allowlist
        self._cache: dict[tuple[str, int], tuple[float, ssrf.Target]] = {}

    async def target(self, url: str) -> ssrf.Target:
        _scheme, host, port = ssrf.split_url(url)
        key = (host, port)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < RESOLVE_TTL_S:
            return cached[1]
        checked = await ssrf.resolve(url, self.allowlist)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now, checked)
        return checked

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        checked = await self.target(f"http://{host}:{port}/")
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in checked.addresses
        ]

    async def close(self) -> None:
        self._cache.clear()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, moment.timestamp() - time.time())


async def _read_up_to(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """The body up to ``limit`` bytes or its end, whichever comes first, within
    the request's total timeout (a receiver dripping bytes times out)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await stream.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class Sender(Protocol):
    """Sends one request; never raises for what the network or the receiver
    does: every failure is an Outcome."""

    async def send(
        self, url: str, body: bytes, headers: dict[str, str], verify_ssl: bool
    ) -> Outcome: ...

    async def close(self) -> None: ...


class HttpSender:
    """The sender over aiohttp, behind the SSRF guard, following no redirects."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.resolver = GuardedResolver(settings)
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=self.resolver,
                use_dns_cache=False,
                limit=self.settings.delivery_concurrency,
                limit_per_host=0,
                enable_cleanup_closed=True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=self.settings.request_timeout_s,
                    sock_connect=self.settings.connect_timeout_s,
                ),
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, url: str, body: bytes, headers: dict[str, str], verify_ssl: bool
    ) -> Outcome:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            # Literal addresses never reach the resolver: check them here.
            await self.resolver.target(url)
            async with self.session().post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                ssl=verify_ssl,
            ) as response:
                content = await _read_up_to(response.content, RESPONSE_BODY_LIMIT)
                status = response.status
                response_headers = {k.lower(): v for k, v in response.headers.items()}
            ok = 200 <= status < 300
            return Outcome(
                ok=ok,
                status=status,
                headers=response_headers,
                body=content.decode("utf-8", "replace"),
                duration_ms=elapsed(),
                error_code=None if ok else f"unexpected-status:{status}",
                retry_after_s=_retry_after(response_headers.get("retry-after"))
                if status in (429, 503)
                else None,
            )
        except ssrf.BlockedRequest as blocked:
            return Outcome(ok=False, duration_ms=elapsed(), error_code=blocked.code)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return Outcome(ok=False, duration_ms=elapsed(), error_code="timeout")
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError):
            return Outcome(ok=False, duration_ms=elapsed(), error_code="ssl-validation-error")
        except aiohttp.ClientConnectorError as error:
            cause: Any = error.os_error
            if isinstance(cause, ssrf.BlockedRequest):
                return Outcome(ok=False, duration_ms=elapsed(), error_code=cause.code)
            return Outcome(ok=False, duration_ms=elapsed(), error_code="connection-error")
        except (aiohttp.ClientError, OSError, ValueError):
            return Outcome(ok=False, duration_ms=elapsed(), error_code="connection-error")
