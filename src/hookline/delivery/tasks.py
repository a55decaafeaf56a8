"""Background tasks that never fail unseen: each one's exception is logged
and counted, and a loop that raised is started again after a pause."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from hookline.delivery.metrics import Metrics

log = logging.getLogger("hookline.worker")

RESTART_AFTER_S = (0.1, 0.5, 1.0, 5.0)


class Supervisor:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``work`` as a task whose exception is logged and counted."""
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.failed(task.get_name(), error)

    def failed(self, what: str, error: BaseException) -> None:
        self.metrics.task_failures[what.split(":")[0]] += 1
        log.error(
            "background task failed",
            extra={"task": what},
            exc_info=(type(error), error, error.__traceback__),
        )

    def keep_running(
        self, loop: Callable[[], Coroutine[Any, Any, None]], name: str
    ) -> asyncio.Task[Any]:
        """Run ``loop`` until cancelled; should it raise, log, count and
        start it again (after a pause that grows while it keeps failing)."""

        async def run() -> None:
            failures = 0
            while True:
                try:
                    await loop()
                    return
                except Exception as error:  # logged and counted
                    self.failed(name, error)
                    pause = RESTART_AFTER_S[min(failures, len(RESTART_AFTER_S) - 1)]
                    failures += 1
                    await asyncio.sleep(pause)

        return self.spawn(run(), name)
