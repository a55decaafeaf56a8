"""Webhook requests over HTTP/1.1: one POST at a time per connection, kept
alive and reused, with httptools (llhttp) reading the answers.

The worker needs little of an HTTP client: a POST of bytes it already holds,
to addresses the SSRF guard has checked, no redirects, no cookies, no proxy,
no decompression, the status, the headers and the first bytes of the body.
A general client does far more per request (a profile of the worker put
about a third of its time in aiohttp's); this one does only that.

Errors: ``TimeoutError`` when a deadline passes, ``ssl.SSLError`` for TLS,
``OSError`` for the network, ``ProtocolError`` when the answer is not
HTTP/1.x or the connection closes in the middle of it, ``ValueError`` for a
URL or header that cannot be sent."""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote, urlsplit

import httptools

# How long a connection may wait unused before it is closed rather than
# reused (a receiver usually closes idle ones after 5 to 75 seconds).
IDLE_S = 15.0

# A pool of kept connections per scheme, host, port and TLS verification.
_Key = tuple[str, str, int, bool]

_PATH_SAFE = "/%:@!$&'()*+,;=~"
_QUERY_SAFE = _PATH_SAFE + "?"


class ProtocolError(Exception):
    """The answer was not HTTP/1.x, or the connection closed mid-answer."""


class _Unanswered(ProtocolError):
    """The connection closed before a byte of the answer came."""


@dataclass(frozen=True)
class Endpoint:
    """Where a URL's requests go, and the first lines of each."""

    scheme: str
    host: str  # as sent: IDNA for a name, without brackets for IPv6
    port: int
    head: bytes  # request line and Host header

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


@functools.lru_cache(maxsize=4096)
def endpoint(url: str) -> Endpoint:
    """The endpoint of an http(s) URL; ValueError if it cannot be requested."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    name = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not name:
        raise ValueError("not an http(s) URL")
    host = name.encode("idna").decode("ascii")
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    authority = f"[{host}]" if ":" in host else host
    if port != default:
        authority = f"{authority}:{port}"
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target = f"{target}?{quote(parts.query, safe=_QUERY_SAFE)}"
    head = f"POST {target} HTTP/1.1\r\nHost: {authority}\r\n".encode("ascii")
    return Endpoint(scheme, host, port, head)


def _header_block(headers: dict[str, str], length: int) -> bytes:
    lines = []
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r} cannot be sent")
        lines.append(f"{name}: {value}\r\n")
    lines.append(f"Content-Length: {length}\r\n\r\n")
    return "".join(lines).encode("utf-8")


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names in lower case; of a repeated one, the last
    body: bytes  # at most the client's body limit


class _Connection(asyncio.Protocol):
    """One connection, carrying one exchange at a time."""

    def __init__(self, body_limit: int, on_idle_close: Callable[[_Connection], None]) -> None:
        self.body_limit = body_limit
        self.on_idle_close = on_idle_close
        # While kept unused: the pool's key it is kept under.
        self.idle_key: _Key | None = None
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self.idle_since = 0.0
        self.reusable = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.received = False

    # -- one exchange ---------------------------------------------------------

    def exchange(self, data: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Response]:
        self._reset()
        self.reusable = False
        self.waiter = loop.create_future()
        if self.transport is None or self.closed:
            self._fail(_Unanswered("the connection is closed"))
        else:
            self.transport.write(data)
        return self.waiter

    def _answer(self, keep_alive: bool) -> None:
        waiter, self.waiter = self.waiter, None
        self.reusable = keep_alive and not self.closed
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self.status, self.headers, b"".join(self.chunks)))
        # Whatever follows belongs to no request (see data_received).
        self.headers, self.chunks = {}, []

    def _fail(self, error: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        self.reusable = False
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have a Transport's methods but not its class.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:
            # Bytes nobody asked for: this connection cannot be trusted.
            self.close()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ProtocolError("the receiver switched protocols"))
        except httptools.HttpParserError as error:
            self._fail(ProtocolError(f"not an HTTP/1.x answer: {error}"))

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self.waiter is None:
            if self.idle_key is not None:
                self.on_idle_close(self)
            return
        if self.status and not self._framed():
            # A body that ends with the connection: this is its end.
            self._answer(keep_alive=False)
        elif not self.received:
            self._fail(_Unanswered("the connection closed before an answer"))
        else:
            self._fail(ProtocolError("the connection closed in the middle of the answer"))

    def _framed(self) -> bool:
        return "content-length" in self.headers or "transfer-encoding" in self.headers

    # -- httptools callbacks ----------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("utf-8", "replace")

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if self.waiter is None:
            return
        room = self.body_limit - self.size
        if len(body) > room:
            # Enough: the rest is not read, and the connection not reused.
            self.chunks.append(body[:room])
            self.size = self.body_limit
            self._answer(keep_alive=False)
            self.close()
            return
        self.chunks.append(body)
        self.size += len(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            # An interim answer (100 Continue, 103 Early Hints): the final
            # one follows.
            self._reset()
            self.received = True
            return
        self._answer(keep_alive=self.parser.should_keep_alive())


def _contexts() -> dict[bool, ssl.SSLContext]:
    verified = ssl.create_default_context()
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    return {True: verified, False: unverified}


class Client:
    """POSTs over kept-alive connections, at most ``max_idle`` of them kept
    unused, each for up to IDLE_S."""

    def __init__(
        self,
        *,
        total_timeout_s: float,
        connect_timeout_s: float,
        body_limit: int,
        max_idle: int,
    ) -> None:
        self.total_timeout_s = total_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.body_limit = body_limit
        self.max_idle = max_idle
        self._idle: dict[_Key, list[_Connection]] = {}
        self._idle_count = 0
        self._swept = time.monotonic()
        self._closing = False
        self._tls = _contexts()

    async def post(
        self,
        url: str,
        addresses: Sequence[object],
        body: bytes,
        headers: dict[str, str],
        verify_ssl: bool,
    ) -> Response:
        """POST ``body`` to ``url``, connecting only to ``addresses``."""
        where = endpoint(url)
        data = b"".join((where.head, _header_block(headers, len(body)), body))
        key = (where.scheme, where.host, where.port, verify_ssl)
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.total_timeout_s):
            for fresh in (False, True):
                conn = None if fresh else self._take(key)
                reused = conn is not None
                if conn is None:
                    conn = await self._connect(where, addresses, verify_ssl, loop)
                try:
                    response = await conn.exchange(data, loop)
                except _Unanswered:
                    # A kept-alive connection the receiver closed as it was
                    # reused: once more on a new one.
                    if reused:
                        continue
                    raise
                except BaseException:
                    conn.close()
                    raise
                if conn.reusable:
                    self._keep(key, conn)
                else:
                    conn.close()
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(
        self,
        where: Endpoint,
        addresses: Sequence[object],
        verify_ssl: bool,
        loop: asyncio.AbstractEventLoop,
    ) -> _Connection:
        context = self._tls[verify_ssl] if where.tls else None
        error: OSError = OSError("no address to connect to")
        async with asyncio.timeout(self.connect_timeout_s):
            for address in addresses:
                try:
                    _transport, conn = await loop.create_connection(
                        lambda: _Connection(self.body_limit, self._forget),
                        str(address),
                        where.port,
                        ssl=context,
                        server_hostname=where.host if context is not None else None,
                    )
                except ssl.SSLError:
                    raise
                except OSError as failed:
                    error = failed
                    continue
                return conn
        raise error

    def _take(self, key: _Key) -> _Connection | None:
        kept = self._idle.get(key)
        now = time.monotonic()
        while kept:
            conn = kept.pop()
            conn.idle_key = None
            self._idle_count -= 1
            if not conn.closed and now - conn.idle_since < IDLE_S:
                return conn
            conn.close()
        return None

    def _keep(self, key: _Key, conn: _Connection) -> None:
        now = time.monotonic()
        if now - self._swept > IDLE_S:
            self._sweep(now)
        if self._closing or self._idle_count >= self.max_idle:
            conn.close()
            return
        conn.idle_since = now
        conn.idle_key = key
        self._idle.setdefault(key, []).append(conn)
        self._idle_count += 1

    def _forget(self, conn: _Connection) -> None:
        """An unused connection closed (by the receiver, mostly)."""
        key, conn.idle_key = conn.idle_key, None
        if key is None:
            return
        kept = self._idle.get(key)
        if kept is not None and conn in kept:
            kept.remove(conn)
            self._idle_count -= 1
            if not kept:
                del self._idle[key]

    def _sweep(self, now: float) -> None:
        self._swept = now
        for key in list(self._idle):
            kept = self._idle[key]
            for conn in [c for c in kept if now - c.idle_since >= IDLE_S]:
                kept.remove(conn)
                conn.idle_key = None
                self._idle_count -= 1
                conn.close()
            if not kept:
                del self._idle[key]

    async def close(self) -> None:
        self._closing = True
        for kept in list(self._idle.values()):
            for conn in list(kept):
                conn.idle_key = None
                conn.close()
        self._idle.clear()
        self._idle_count = 0
        await asyncio.sleep(0)  # let the transports finish closing
