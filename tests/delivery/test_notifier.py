"""The notifier (PostgreSQL): what commits made due reaches listening
workers after the commit, the commits of a moment in one statement, and a
failed send is logged, never raised, the next one reconnecting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
import pytest

from hookline.delivery import queue
from hookline.delivery.notifier import Notifier
from hookline.ids import new_id
from hookline.storage.database import Database, asyncpg_dsn
from tests.delivery.conftest import eventually

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url)
    yield database
    await database.dispose()


@pytest.fixture
async def heard(db: Database) -> AsyncIterator[list[str]]:
    """The payloads a listener on the deliveries' channel receives."""
    payloads: list[str] = []
    conn = await asyncpg.connect(asyncpg_dsn(db.url))
    await conn.add_listener(queue.NOTIFY_CHANNEL, lambda *args: payloads.append(args[-1]))
    yield payloads
    await conn.close()


async def test_commits_of_a_moment_are_told_in_one_statement(
    db: Database, heard: list[str]
) -> None:
    notifier = Notifier(db)
    commits = [[(new_id(), new_id()) for _ in range(3)] for _ in range(50)]
    for pairs in commits:
        notifier.tell(pairs)
    try:
        await eventually(lambda: len(heard) == 2)
        assert notifier.sent == 1
        named = [pair for payload in heard for pair in queue.named_deliveries(payload) or []]
        assert named == [pair for pairs in commits for pair in pairs]
        # A search says it all, in one payload.
        notifier.tell([(new_id(), new_id())])
        notifier.tell(None)
        await eventually(lambda: len(heard) == 3)
        assert heard[-1] == "" and queue.named_deliveries(heard[-1]) is None
    finally:
        await notifier.close()


async def test_a_failed_send_is_logged_and_the_next_one_reconnects(
    db: Database, heard: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(db)
    notifier.tell([(new_id(), new_id())])
    try:
        await eventually(lambda: len(heard) == 1)
        # The database drops the notifier's connection.
        await notifier._conn.close()
        with caplog.at_level(logging.WARNING, logger="hookline.queue"):
            notifier.tell([(new_id(), new_id())])
            await eventually(lambda: "next poll" in caplog.text)
        assert notifier._task is not None and not notifier._task.done()
        notifier.tell(None)
        await eventually(lambda: len(heard) == 2)
    finally:
        await notifier.close()


async def test_close_sends_what_waits(db: Database, heard: list[str]) -> None:
    notifier = Notifier(db)
    notifier.tell(None)
    await notifier.close()
    await asyncio.sleep(0.1)
    assert heard == [""]
