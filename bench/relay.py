"""The relay: the least work a service that answers a command and then delivers
its event can do. It reads each command's JSON params, answers at once, and
POSTs an event object built from them to the receiver through one shared
aiohttp client, from a fixed number of sending tasks.

It has no database, no authentication, no signature and no history, so what it
reaches bounds what any API-then-deliver stack reaches on the same machine:
every event crosses two HTTP exchanges in one process (command in, webhook
out), where the ceiling's sender makes one. Run as its own process:
``python -m bench.relay --port P --target URL --concurrency C``."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web


def make_app(target: str, concurrency: int) -> web.Application:
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def command(request: web.Request) -> web.Response:
        params = await request.json()
        event = {"name": request.match_info["name"], "props": params}
        queue.put_nowait(json.dumps(event).encode())
        return web.json_response({"name": params.get("name")})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "queued": queue.qsize()})

    async def senders(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def send() -> None:
                while True:
                    body = await queue.get()
                    async with session.post(
                        target, data=body, headers={"content-type": "application/json"}
                    ) as response:
                        await response.read()

            tasks = [asyncio.create_task(send()) for _ in range(concurrency)]
            yield
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = web.Application()
    app.router.add_post("/api/rpc/command/{name}", command)
    app.router.add_get("/healthz", health)
    app.cleanup_ctx.append(senders)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    web.run_app(
        make_app(args.target, args.concurrency),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
