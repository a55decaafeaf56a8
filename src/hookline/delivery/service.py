"""The standalone ``hookline worker`` process."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from hookline.delivery.worker import Worker
from hookline.services import Services, freeze_startup_heap
from hookline.settings import Settings
from hookline.storage.database import when_reachable

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
        # The database may be restarting or still booting: wait for it, unless
        # told to stop meanwhile.
        starting = asyncio.create_task(
            when_reachable(worker.start, what="worker start", wait_s=settings.database_wait_s)
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            return 0
        stopping.cancel()
        starting.result()
        freeze_startup_heap()
        await stop.wait()
        await worker.stop()
    finally:
        await services.close()
    return 0
