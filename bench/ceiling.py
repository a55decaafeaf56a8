"""The ceiling: a bare aiohttp sender posting the same bodies to the same receiver
at the same concurrency, with none of the bookkeeping a durable sender does."""

from __future__ import annotations

import asyncio
import time

import aiohttp


async def send_all(url: str, bodies: list[bytes], concurrency: int) -> float:
    """POST every body; answer the seconds it took."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                async with session.post(
                    url, data=body, headers={"content-type": "application/json"}
                ) as response:
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        return time.perf_counter() - started
