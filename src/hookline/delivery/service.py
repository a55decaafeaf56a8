"""The standalone ``hookline worker`` process."""

from __future__ import annotations

import asyncio
import signal

from hookline.delivery.worker import Worker
from hookline.services import Services
from hookline.settings import Settings

__all__ = ["Worker", "run_worker_process"]


def install_stop_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def run_worker_process(settings: Settings) -> int:
    """Connect, deliver until SIGTERM or SIGINT, then stop cleanly; exit status 0."""
    services = await Services.start(settings, apply_migrations=False)
    stop = asyncio.Event()
    install_stop_handlers(stop)
    worker = Worker(services)
    try:
        await worker.start()
        await stop.wait()
        await worker.stop()
    finally:
        await services.close()
    return 0
