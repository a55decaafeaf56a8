"""PostgreSQL LISTEN, kept up: reconnects after any failure until cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from hookline.storage.database import asyncpg_dsn

log = logging.getLogger(__name__)


async def listen_forever(
    url: str,
    channel: str,
    *,
    on_notify: Callable[[str], None],
    on_up: Callable[[], None],
    on_down: Callable[[], None],
    failure: str,
) -> None:
    """LISTEN on ``channel`` and call ``on_notify`` with each notification's
    payload; ``on_up`` once listening, ``on_down`` whenever that stops
    (``failure`` is logged when it stops on an error). Runs until cancelled."""
    import asyncpg

    dsn = asyncpg_dsn(url)
    while True:
        conn = None
        try:
            conn = await asyncpg.connect(dsn)
            await conn.add_listener(channel, lambda *args: on_notify(args[-1]))
            on_up()
            while not conn.is_closed():
                await asyncio.sleep(1)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning(failure)
            await asyncio.sleep(2)
        finally:
            on_down()
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close()
