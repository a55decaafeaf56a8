"""A minimal webhook receiver that counts and timestamps what it gets.

Run as its own process (``python -m bench.receiver --port P``) so that it does
not share an event loop or a core with the sender being measured. Bodies are a
JSON object (one event) or a JSON array (a batch); an event's sequence number is
read from ``props.name`` (``bench-<seq>``) or ``seq`` so latency can be matched
to the moment the event was raised."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from aiohttp import web


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.events = 0
        self.first = 0.0
        self.last = 0.0
        self.arrivals: dict[int, float] = {}
        self.first_sequenced = 0.0
        self.webhook_ids: dict[str, int] = {}

    def record(self, body: bytes, webhook_id: str | None) -> None:
        now = time.time()
        if not self.requests:
            self.first = now
        self.requests += 1
        self.last = now
        if webhook_id:
            self.webhook_ids[webhook_id] = self.webhook_ids.get(webhook_id, 0) + 1
        try:
            data: Any = json.loads(body)
        except ValueError:
            self.events += 1
            return
        items = data if isinstance(data, list) else [data]
        self.events += len(items)
        for item in items:
            seq = _seq(item)
            if seq is not None and seq not in self.arrivals:
                if not self.arrivals:
                    self.first_sequenced = now
                self.arrivals[seq] = now


def _seq(item: Any) -> int | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("seq"), int):
        return int(item["seq"])
    name = (item.get("props") or {}).get("name")
    if isinstance(name, str) and name.startswith("bench-"):
        try:
            return int(name.split("-", 1)[1])
        except ValueError:
            return None
    return None


def make_app() -> web.Application:
    stats = Stats()

    async def hook(request: web.Request) -> web.Response:
        stats.record(await request.read(), request.headers.get("webhook-id"))
        return web.Response(status=204)

    async def never(request: web.Request) -> web.Response:
        await request.read()
        # An endpoint that never answers: the sender's timeout ends the request.
        await __import__("asyncio").sleep(3600)
        return web.Response(status=204)

    async def get_stats(request: web.Request) -> web.Response:
        duplicates = sum(n - 1 for n in stats.webhook_ids.values() if n > 1)
        return web.json_response(
            {
                "requests": stats.requests,
                "events": stats.events,
                "first": stats.first,
                "last": stats.last,
                "distinct_webhook_ids": len(stats.webhook_ids),
                "duplicate_deliveries": duplicates,
                "sequenced": len(stats.arrivals),
                "first_sequenced": stats.first_sequenced,
                "last_sequenced": max(stats.arrivals.values(), default=0.0),
            }
        )

    async def get_arrivals(request: web.Request) -> web.Response:
        return web.json_response({str(k): v for k, v in stats.arrivals.items()})

    async def reset(request: web.Request) -> web.Response:
        stats.reset()
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/hook", hook)
    app.router.add_post("/hook/{name}", hook)
    app.router.add_post("/never", never)
    app.router.add_get("/stats", get_stats)
    app.router.add_get("/arrivals", get_arrivals)
    app.router.add_post("/reset", reset)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
