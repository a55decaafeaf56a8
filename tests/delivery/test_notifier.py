"""The notifier (PostgreSQL): what commits made due reaches listening
workers, told by the command's own statement when notifications are few,
otherwise after the commit, the commits of a moment in one statement; a
failed send is logged, never raised, the next one reconnecting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import func, select

from hookline.delivery import notifier as notifier_module
from hookline.delivery import queue
from hookline.delivery.notifier import Notifier
from hookline.ids import new_id
from hookline.storage.database import Database, asyncpg_dsn
from hookline.storage.tables import deliveries, events
from tests.delivery.conftest import eventually, team_hook
from tests.helpers import ApiFactory, team_with_members
from tests.reliability.harness import Receiver

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


async def test_a_commands_statement_tells_only_when_notifications_are_few(db: Database) -> None:
    notifier = Notifier(db)
    assert notifier.in_commit()
    assert not notifier.in_commit(), "one was told just now"
    notifier._last -= notifier_module.QUIET_S
    assert notifier.in_commit()
    notifier._last -= notifier_module.QUIET_S
    notifier.tell(None)  # one waits to be sent after its commit
    assert not notifier.in_commit()
    assert notifier.in_commits == 2
    await notifier.close()


async def test_a_command_tells_workers_in_its_own_statement_or_after_its_commit(
    api_factory: ApiFactory,
    receiver: Receiver,
    heard: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When notifications are few, the statement writing a command's event
    and deliveries notifies as it commits; when many, the notifier does
    after the commit. Either way listeners hear of exactly the deliveries
    written."""
    services = api_factory.services
    if services.db.is_sqlite:
        pytest.skip("notifications are PostgreSQL's; on SQLite one process serves")
    owner, team, _hook = await team_hook(api_factory, f"{receiver.base}/ok")
    await eventually(lambda: len(heard) >= 1)  # the ping's
    heard.clear()
    notifier = services.notifier
    assert notifier is not None
    told, sent = notifier.in_commits, notifier.sent

    monkeypatch.setattr(notifier_module, "QUIET_S", 0.0)  # always few
    for n in range(3):
        await owner.call("create-project", {"teamId": team["id"], "name": f"few-{n}"})
    await eventually(lambda: len(heard) == 3)
    assert (notifier.in_commits, notifier.sent) == (told + 3, sent)

    monkeypatch.setattr(notifier_module, "QUIET_S", 3600.0)  # always many
    await owner.call("create-project", {"teamId": team["id"], "name": "many"})
    await eventually(lambda: len(heard) == 4)
    assert (notifier.in_commits, notifier.sent) == (told + 3, sent + 1)

    named = [pair for payload in heard for pair in queue.named_deliveries(payload) or []]
    async with services.db.read() as conn:
        written = (
            await conn.execute(
                select(deliveries.c.webhook_id, deliveries.c.id)
                .join(events, events.c.id == deliveries.c.event_id)
                .where(events.c.name == "create-project")
            )
        ).all()
    assert sorted(named) == sorted((row.webhook_id, row.id) for row in written)
    assert len(named) == 4


async def test_a_refused_command_that_would_have_told_writes_nothing(
    api_factory: ApiFactory, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    if api_factory.services.db.is_sqlite:
        pytest.skip("notifications are PostgreSQL's")
    monkeypatch.setattr(notifier_module, "QUIET_S", 0.0)
    team, members = await team_with_members(api_factory, ("viewer",))
    await members["owner"].call(
        "create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/ok", "name": "w"}
    )
    status, body = await members["viewer"].error(
        "create-project", {"teamId": team["id"], "name": "No"}
    )
    assert (status, body["code"]) == (403, "insufficient-permissions")
    async with api_factory.services.db.read() as conn:
        raised = await conn.scalar(
            select(func.count()).select_from(events).where(events.c.name == "create-project")
        )
    assert raised == 0
