"""Sending one request: the SSRF guard checks the URL's addresses (and
keeps the checked answer a while), and the HTTP/1.1 client connects to
exactly those addresses, so a DNS answer that changes between check and
connect cannot get through."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from typing import Protocol

from hookline.net import http1, ssrf
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


class GuardedResolver:
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


class Sender(Protocol):
    """Sends one request; never raises for what the network or the receiver
    does: every failure is an Outcome."""

    async def send(
        self, url: str, body: bytes, headers: dict[str, str], verify_ssl: bool
    ) -> Outcome: ...

    async def close(self) -> None: ...


class HttpSender:
    """The sender over the HTTP/1.1 client, behind the SSRF guard, following
    no redirects."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.resolver = GuardedResolver(settings)
        self.client = http1.Client(
            total_timeout_s=settings.request_timeout_s,
            connect_timeout_s=settings.connect_timeout_s,
            body_limit=RESPONSE_BODY_LIMIT,
            max_idle=settings.delivery_concurrency,
        )

    async def close(self) -> None:
        await self.client.close()
        await self.resolver.close()

    async def send(
        self, url: str, body: bytes, headers: dict[str, str], verify_ssl: bool
    ) -> Outcome:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            checked = await self.resolver.target(url)
            response = await self.client.post(url, checked.addresses, body, headers, verify_ssl)
        except ssrf.BlockedRequest as blocked:
            return Outcome(ok=False, duration_ms=elapsed(), error_code=blocked.code)
        except TimeoutError:
            return Outcome(ok=False, duration_ms=elapsed(), error_code="timeout")
        except ssl.SSLError:
            return Outcome(ok=False, duration_ms=elapsed(), error_code="ssl-validation-error")
        except (http1.ProtocolError, OSError, ValueError):
            return Outcome(ok=False, duration_ms=elapsed(), error_code="connection-error")
        status = response.status
        ok = 200 <= status < 300
        return Outcome(
            ok=ok,
            status=status,
            headers=response.headers,
            body=response.body.decode("utf-8", "replace"),
            duration_ms=elapsed(),
            error_code=None if ok else f"unexpected-status:{status}",
            retry_after_s=_retry_after(response.headers.get("retry-after"))
            if status in (429, 503)
            else None,
        )
