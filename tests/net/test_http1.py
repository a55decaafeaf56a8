"""The HTTP/1.1 client against receivers on 127.0.0.1 that answer exactly the
bytes each test gives them: keep-alive and its limits, every way a body may
be framed, interim answers, and receivers that break the protocol."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import uvloop

from hookline.net import http1
from hookline.net.http1 import Client, ProtocolError, endpoint
from tests.reliability.harness import self_signed_context

LOCAL = (ipaddress.ip_address("127.0.0.1"),)

# Given the request's bytes and how many requests this connection carried
# before, the bytes to answer (None: close the connection without a word;
# b"": keep it open, silent).
Script = Callable[[bytes, int], bytes | None]


@dataclass
class Raw:
    """A receiver that reads one request at a time (head and Content-Length
    body) and answers what its script says."""

    script: Script
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    server: asyncio.Server | None = None
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        served = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.script(request, served)
                served += 1
                if answer is None:
                    return
                if not answer:  # say nothing, until the client gives up
                    await reader.read()
                    return
                writer.write(answer)
                await writer.drain()
                lowered = answer.lower()
                unframed = b"content-length" not in lowered and b"chunked" not in lowered
                if unframed or b"connection: close" in lowered:
                    return
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


Start = Callable[..., Awaitable[Raw]]


@pytest.fixture
async def raw() -> AsyncIterator[Start]:
    """Starts receivers (a script, and a TLS context for https); stops them
    after the test."""
    started: list[Raw] = []

    async def start(script: Script, tls: ssl.SSLContext | None = None) -> Raw:
        receiver = Raw(script)
        receiver.server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0, ssl=tls)
        receiver.port = receiver.server.sockets[0].getsockname()[1]
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        assert receiver.server is not None
        receiver.server.close()
        for writer in receiver.writers:
            writer.close()
    await asyncio.sleep(0.01)


def client(**overrides: float) -> Client:
    settings = {"total_timeout_s": 2.0, "connect_timeout_s": 1.0, "body_limit": 64, "max_idle": 8}
    settings.update(overrides)
    return Client(
        total_timeout_s=settings["total_timeout_s"],
        connect_timeout_s=settings["connect_timeout_s"],
        body_limit=int(settings["body_limit"]),
        max_idle=int(settings["max_idle"]),
    )


def answer(status: int = 200, body: bytes = b"ok", *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def post(c: Client, url: str, body: bytes = b"{}", **headers: str) -> http1.Response:
    return await c.post(url, LOCAL, body, {"content-type": "application/json", **headers}, True)


async def test_a_post_and_its_answer(raw: Start) -> None:
    receiver = await raw(lambda request, n: answer(201, b"made", "X-Thing: 1"))
    c = client()
    response = await post(c, receiver.url + "?a=1&b=two", b'{"x":1}', **{"webhook-id": "msg_1"})
    assert (response.status, response.body) == (201, b"made")
    assert response.headers["x-thing"] == "1"
    request = receiver.requests[0]
    assert request.startswith(b"POST /hook?a=1&b=two HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{receiver.port}\r\n".encode() in request
    assert b"webhook-id: msg_1\r\n" in request
    assert request.endswith(b'Content-Length: 7\r\n\r\n{"x":1}')
    await c.close()


async def test_connections_are_kept_alive_and_reused(raw: Start) -> None:
    receiver = await raw(lambda request, n: answer())
    c = client()
    for _ in range(5):
        assert (await post(c, receiver.url)).status == 200
    assert receiver.connections == 1
    # Several at once need as many connections, all kept for the next ones.
    await asyncio.gather(*(post(c, receiver.url) for _ in range(4)))
    await asyncio.gather(*(post(c, receiver.url) for _ in range(4)))
    assert receiver.connections == 4
    await c.close()


async def test_at_most_max_idle_connections_are_kept(raw: Start) -> None:
    receiver = await raw(lambda request, n: answer())
    c = client(max_idle=2)
    await asyncio.gather(*(post(c, receiver.url) for _ in range(5)))
    await asyncio.gather(*(post(c, receiver.url) for _ in range(5)))
    # Of the first five, two were kept; the second round opened three more.
    assert receiver.connections == 8
    await c.close()


async def test_connection_close_is_honoured(raw: Start) -> None:
    receiver = await raw(lambda request, n: answer(200, b"", "Connection: close"))
    c = client()
    for _ in range(3):
        assert (await post(c, receiver.url)).status == 200
    assert receiver.connections == 3
    await c.close()


async def test_a_kept_connection_the_receiver_closed_is_replaced(raw: Start) -> None:
    # The receiver answers one request per connection, then closes it
    # without saying so: the next request on it gets no answer at all.
    receiver = await raw(lambda request, n: answer() if n == 0 else None)
    c = client()
    for _ in range(3):
        assert (await post(c, receiver.url)).status == 200
    assert receiver.connections >= 3
    await c.close()


async def test_a_new_connection_that_closes_unanswered_is_an_error(raw: Start) -> None:
    receiver = await raw(lambda request, n: None)
    c = client()
    with pytest.raises(ProtocolError):
        await post(c, receiver.url)
    assert receiver.connections == 1  # not tried again: it was not a kept one
    await c.close()


@pytest.mark.parametrize(
    ("raw_answer", "body"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"abcde",
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", b"until the end"),
        (b"HTTP/1.0 200 OK\r\n\r\nold", b"old"),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", b"hi"),
    ],
    ids=["chunked", "no-content", "until-close", "http-1.0", "interim-100"],
)
async def test_each_way_a_body_is_framed(raw: Start, raw_answer: bytes, body: bytes) -> None:
    receiver = await raw(lambda request, n: raw_answer)
    c = client()
    response = await post(c, receiver.url)
    assert response.body == body
    assert response.status in (200, 204)
    await c.close()


async def test_the_body_is_read_up_to_the_limit_only(raw: Start) -> None:
    receiver = await raw(lambda request, n: answer(200, b"x" * 10_000))
    c = client(body_limit=64)
    response = await post(c, receiver.url)
    assert (response.status, response.body) == (200, b"x" * 64)
    # That connection is not reused: the rest of its answer was never read.
    await post(c, receiver.url)
    assert receiver.connections == 2
    await c.close()


@pytest.mark.parametrize(
    "raw_answer",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    ],
    ids=["not-http", "cut-short", "bad-length", "upgrade"],
)
async def test_broken_answers_are_protocol_errors(raw: Start, raw_answer: bytes) -> None:
    def script(request: bytes, n: int) -> bytes | None:
        return raw_answer if n == 0 else None

    receiver = await raw(script)
    c = client()
    with pytest.raises(ProtocolError):
        await post(c, receiver.url)
    await c.close()


async def test_a_silent_receiver_times_out(raw: Start) -> None:
    receiver = await raw(lambda request, n: b"")
    c = client(total_timeout_s=0.3)
    with pytest.raises(TimeoutError):
        await post(c, receiver.url)
    await c.close()


async def test_a_dripping_receiver_times_out(raw: Start) -> None:
    receiver = await raw(lambda request, n: b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nx")
    c = client(total_timeout_s=0.3)
    with pytest.raises(TimeoutError):
        await post(c, receiver.url)
    await c.close()


async def test_refused_and_unreachable(unused_tcp_port: int) -> None:
    c = client()
    with pytest.raises(OSError):
        await post(c, f"http://127.0.0.1:{unused_tcp_port}/")
    with pytest.raises(OSError):
        await c.post("http://127.0.0.1/", (), b"", {}, True)
    await c.close()


async def test_tls_is_verified_unless_told_not_to(raw: Start) -> None:
    receiver = await raw(lambda request, n: answer(), self_signed_context())
    url = f"https://127.0.0.1:{receiver.port}/hook"
    c = client()
    with pytest.raises(ssl.SSLError):
        await c.post(url, LOCAL, b"{}", {}, True)
    response = await c.post(url, LOCAL, b"{}", {}, False)
    assert response.status == 200
    await c.close()


def test_headers_that_would_split_the_request_are_refused() -> None:
    with pytest.raises(ValueError):
        http1._header_block({"x-evil": "a\r\nHost: elsewhere"}, 0)
    with pytest.raises(ValueError):
        http1._header_block({"x-evil\r\nHost": "a"}, 0)


def test_endpoints() -> None:
    assert endpoint("https://Hooks.Example/a b?q=ü#frag").head == (
        b"POST /a%20b?q=%C3%BC HTTP/1.1\r\nHost: hooks.example\r\n"
    )
    assert endpoint("http://[::1]:8080").head == b"POST / HTTP/1.1\r\nHost: [::1]:8080\r\n"
    assert endpoint("http://bücher.example/").host == "xn--bcher-kva.example"
    assert endpoint("https://example.com:443/x").head.endswith(b"Host: example.com\r\n")
    # Control characters never reach the request line.
    assert endpoint("http://example.com/%41\r\nX: y\t").head.startswith(b"POST /%41X:%20y ")
    for bad in ("ftp://example.com/", "http:///x", "http://example.com:99999/"):
        with pytest.raises(ValueError):
            endpoint(bad)


def test_on_uvloop() -> None:
    """``hookline`` runs on uvloop, whose transports are not asyncio's own
    classes: a request, a reuse and TLS there too."""

    async def scenario() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            receiver = Raw(lambda request, n: answer(200, b"uv"))
            await receiver.handle(reader, writer)

        plain = await asyncio.start_server(handle, "127.0.0.1", 0)
        tls = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=self_signed_context())
        c = client()
        try:
            for server, scheme in ((plain, "http"), (tls, "https")):
                port = server.sockets[0].getsockname()[1]
                for _ in range(2):
                    response = await c.post(f"{scheme}://127.0.0.1:{port}/", LOCAL, b"", {}, False)
                    assert (response.status, response.body) == (200, b"uv")
            assert sum(len(kept) for kept in c._idle.values()) == 2
        finally:
            await c.close()
            plain.close()
            tls.close()

    uvloop.run(scenario())
