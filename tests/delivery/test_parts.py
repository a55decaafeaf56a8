"""The worker's parts without sockets: a fake sender and a frozen clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from hookline.clock import FrozenClock
from hookline.delivery.metrics import Metrics
from hookline.delivery.retry import Verdict, classify
from hookline.delivery.sender import Outcome
from hookline.delivery.tasks import Supervisor
from hookline.delivery.worker import Worker
from hookline.services import Services
from tests.delivery.conftest import eventually, team_hook
from tests.delivery.test_failures import settled
from tests.helpers import ApiFactory


class FakeSender:
    """Answers every request as told, and keeps what it was sent."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.fail_with = fail_with

    async def send(
        self, url: str, body: bytes, headers: dict[str, str], verify_ssl: bool
    ) -> Outcome:
        self.sent.append((url, body, headers))
        if self.fail_with is not None:
            raise self.fail_with
        return Outcome(ok=True, status=204, duration_ms=1)

    async def close(self) -> None:
        pass


MOMENT = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


async def test_signs_with_the_injected_clock(api_factory: ApiFactory, fast: Services) -> None:
    fast.clock = FrozenClock(MOMENT)
    sender = FakeSender()
    worker = Worker(fast, sender=sender)
    await worker.start()
    try:
        owner, _team, hook = await team_hook(api_factory, "http://127.0.0.1:9/hook")
        await eventually(lambda: sender.sent)
        detail = await settled(owner, hook, "succeeded")
    finally:
        await worker.stop()
    _url, _body, headers = sender.sent[0]
    assert headers["webhook-timestamp"] == str(int(MOMENT.timestamp()))
    assert detail["attemptsDetail"][0]["sentAt"].startswith("2026-11-30T12:00:00")


async def test_a_sender_that_raises_is_logged_counted_and_retried(
    api_factory: ApiFactory, fast: Services, caplog: pytest.LogCaptureFixture
) -> None:
    sender = FakeSender(fail_with=RuntimeError("bug in the sender"))
    worker = Worker(fast, sender=sender)
    await worker.start()
    try:
        owner, _team, hook = await team_hook(api_factory, "http://127.0.0.1:9/hook")
        await eventually(lambda: len(sender.sent) >= 2)  # retried on the schedule
        detail = await settled(owner, hook, "retrying")
        sender.fail_with = None
        await settled(owner, hook, "succeeded")
    finally:
        await worker.stop()
    assert detail["lastError"] == "internal-error"
    assert worker.metrics.task_failures["send"] >= 1
    assert "bug in the sender" in caplog.text
    assert worker.metrics.in_flight == 0
    assert "hookline_worker_task_failures_total" in worker.metrics.render({})


async def test_a_loop_that_raises_is_logged_counted_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    supervisor = Supervisor(metrics)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise ValueError(f"run {runs} failed")

    with caplog.at_level(logging.ERROR, logger="hookline.worker"):
        await supervisor.keep_running(flaky, "flaky")
    assert runs == 3
    assert metrics.task_failures["flaky"] == 2
    assert "run 1 failed" in caplog.text and "run 2 failed" in caplog.text


async def test_a_spawned_task_that_raises_is_never_lost(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    supervisor = Supervisor(metrics)

    async def broken() -> None:
        raise KeyError("lost")

    task = supervisor.spawn(broken(), "pump:x")
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0)
    assert metrics.task_failures["pump"] == 1
    assert "lost" in caplog.text
    assert not supervisor.tasks


@pytest.mark.parametrize(
    ("ok", "status", "error", "verdict"),
    [
        (True, 200, None, Verdict.SENT),
        (False, 410, "unexpected-status:410", Verdict.GONE),
        (False, 400, "unexpected-status:400", Verdict.PERMANENT),
        (False, 404, "unexpected-status:404", Verdict.PERMANENT),
        (False, 408, "unexpected-status:408", Verdict.RETRY),
        (False, 409, "unexpected-status:409", Verdict.RETRY),
        (False, 425, "unexpected-status:425", Verdict.RETRY),
        (False, 429, "unexpected-status:429", Verdict.RETRY),
        (False, 500, "unexpected-status:500", Verdict.RETRY),
        (False, 503, "unexpected-status:503", Verdict.RETRY),
        (False, None, "timeout", Verdict.RETRY),
        (False, None, "connection-error", Verdict.RETRY),
        (False, None, "blocked-request:private-address", Verdict.PERMANENT),
        (False, None, "secret-unavailable", Verdict.RETRY),
    ],
)
def test_outcomes_are_classified_in_one_place(
    ok: bool, status: int | None, error: str | None, verdict: Verdict
) -> None:
    assert classify(ok, status, error) == verdict


def test_outcomes_are_written_once_half_the_room_waits_for_them(fast: Services) -> None:
    """Room frees only when outcomes are written: a write due only once the
    whole room waited would leave nothing in flight during it and the claim
    after it."""
    from dataclasses import replace

    from hookline.delivery.outcomes import FLUSH_SIZE
    from hookline.delivery.queue import Result

    fast.settings = replace(fast.settings, delivery_concurrency=64)
    worker = Worker(fast, sender=FakeSender())
    assert worker.room.max_held == 200
    assert worker.outcomes.flush_size == 100 < FLUSH_SIZE
    result = Result([], "m", MOMENT, "u", {}, [], True, 204, None, None, 1, None, None)
    for _ in range(99):
        worker.outcomes.add(result)
    assert not worker.outcomes.ready.is_set()
    worker.outcomes.add(result)
    assert worker.outcomes.ready.is_set()
