"""Fixtures shared by the reliability tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.reliability.harness import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
