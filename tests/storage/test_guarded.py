"""Inserts that check their own permission (storage.guarded): refused, they
write nothing, the command's event included; on PostgreSQL, a command's
last insert and its event's rows go as one statement, outside a
transaction block, and stay atomic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, exc, func, select

from hookline.errors import NotFound
from hookline.ids import new_id
from hookline.services import Services
from hookline.storage import prepared
from hookline.storage.database import LazyConnection
from hookline.storage.guarded import InsertWhere, Pending
from hookline.storage.statements import StatementPool
from hookline.storage.tables import deliveries, events, teams
from hookline.storage.transaction import Transaction
from tests.helpers import ApiFactory, team_with_members

NOW = datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC)

# A team, inserted only where the given flag says so.
TEAM_IF = InsertWhere(
    teams,
    ("id", "name", "created_at", "updated_at"),
    bindparam("allowed", type_=teams.c.name.type) == "yes",
)


def team_row() -> dict[str, Any]:
    return {"id": new_id(), "name": "Team", "created_at": NOW, "updated_at": NOW}


async def refused() -> None:
    raise NotFound("refused", "the condition did not hold")


async def count(services: Services, table: Any) -> int:
    async with services.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


class Control:
    """The transaction control (BEGIN, COMMIT, ROLLBACK) the PostgreSQL
    connection under ``conn`` sends from now until ``stop``: asyncpg logs
    its simple queries, which is how these go."""

    def __init__(self, conn: Any) -> None:
        self.adapted = prepared._postgres(conn)
        assert self.adapted is not None
        self.sent: list[str] = []
        self.adapted._connection.add_query_logger(self._log)

    def _log(self, record: Any) -> None:
        self.sent.append(record.query.strip().rstrip(";").upper())

    async def stop(self) -> list[str]:
        await asyncio.sleep(0)  # asyncpg calls its loggers soon, not at once
        self.adapted._connection.remove_query_logger(self._log)  # type: ignore[union-attr]
        return self.sent


async def test_an_insert_where_writes_only_where_its_condition_holds(services: Services) -> None:
    kept, refused_row = team_row(), team_row()
    async with services.db.write() as conn:
        tx = Transaction(conn, NOW, postgres=not services.db.is_sqlite)
        tx.pending = Pending(TEAM_IF, TEAM_IF.params(kept, allowed="yes"), refused)
        await tx.send_pending(last=True)
    with pytest.raises(NotFound):
        async with services.db.write() as conn:
            tx = Transaction(conn, NOW, postgres=not services.db.is_sqlite)
            tx.pending = Pending(TEAM_IF, TEAM_IF.params(refused_row, allowed="no"), refused)
            await tx.send_pending(last=True)
    async with services.db.read() as conn:
        ids = set(await conn.scalars(select(teams.c.id)))
    assert ids == {kept["id"]}


@pytest.fixture
async def pg(services: Services) -> AsyncIterator[Services]:
    if services.db.is_sqlite:
        pytest.skip("one statement without BEGIN and COMMIT is PostgreSQL's path")
    yield services


async def test_a_last_statement_alone_goes_without_begin_and_commit(
    pg: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = log_statements(pg, monkeypatch)
    row = team_row()
    async with pg.db.write() as conn:
        tx = Transaction(conn, NOW, postgres=True)
        tx.pending = Pending(TEAM_IF, TEAM_IF.params(row, allowed="yes"), refused)
        await tx.send_pending(last=True)
        assert isinstance(conn, LazyConnection) and conn.idle
        assert conn.sync_connection is None  # none taken from the engine
    # The insert alone: no BEGIN, no COMMIT.
    assert [s.split()[0] for s in sent] == ["INSERT"]
    assert await count(pg, teams) == 1


def log_statements(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the connections kept for statements alone send from now on."""
    assert services.db.statements is not None
    sent: list[str] = []
    run = StatementPool.run

    async def logged(self: StatementPool, sql: str, values: Any) -> int:
        sent.append(sql.strip())
        return await run(self, sql, values)

    monkeypatch.setattr(StatementPool, "run", logged)
    return sent


async def test_a_statement_after_others_joins_their_transaction(pg: Services) -> None:
    first, second = team_row(), team_row()
    with pytest.raises(RuntimeError):
        async with pg.db.write() as conn:
            tx = Transaction(conn, NOW, postgres=True)
            await TEAM_IF.alone.run(conn, TEAM_IF.params(first, allowed="yes"))
            control = Control(conn)  # begun by that first statement
            tx.pending = Pending(TEAM_IF, TEAM_IF.params(second, allowed="yes"), refused)
            await tx.send_pending(last=True)
            raise RuntimeError("the command failed after both")
    assert await control.stop() == ["ROLLBACK"]
    assert await count(pg, teams) == 0  # both rolled back


async def test_a_failing_last_statement_writes_none_of_its_parts(pg: Services) -> None:
    """The guarded row, the event and a delivery in one statement: the
    delivery names no webhook, the foreign key refuses it, and neither the
    row nor the event is kept."""
    from hookline.delivery.queue import _DELIVERY_COLUMNS, _EVENT_COLUMNS, _guarded_with_event

    row = team_row()
    event = {
        "id": new_id(),
        "name": "create-team",
        "team_id": row["id"],
        "profile_id": None,
        "props": {},
        "coalesce_key": None,
        "created_at": NOW,
        "tracked_at": NOW,
    }
    delivery = {
        "id": new_id(),
        "webhook_id": new_id(),  # no such webhook
        "event_id": event["id"],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "lease_owner": None,
        "lease_expires_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    pending = Pending(TEAM_IF, TEAM_IF.params(row, allowed="yes"), refused)
    pending.fused = _guarded_with_event(TEAM_IF, 1)
    pending.fused_params = {
        **{f"e_{c}": event[c] for c in _EVENT_COLUMNS},
        **{f"d0_{c}": delivery[c] for c in _DELIVERY_COLUMNS},
    }
    with pytest.raises(exc.IntegrityError):
        async with pg.db.write() as conn:
            tx = Transaction(conn, NOW, postgres=True)
            tx.pending = pending
            await tx.send_pending(last=True)
    assert isinstance(conn, LazyConnection) and conn.idle  # it went alone
    assert (await count(pg, teams), await count(pg, events), await count(pg, deliveries)) == (
        0,
        0,
        0,
    )
    # The connection it went on is still usable.
    async with pg.db.write() as conn:
        tx = Transaction(conn, NOW, postgres=True)
        tx.pending = Pending(TEAM_IF, TEAM_IF.params(team_row(), allowed="yes"), refused)
        await tx.send_pending(last=True)
    assert await count(pg, teams) == 1


async def test_create_project_refused_writes_nothing(
    services: Services, api_factory: ApiFactory, receiver: Any
) -> None:
    team, members = await team_with_members(api_factory, ("editor", "viewer"))
    owner = members["owner"]
    await owner.call(
        "create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/hook", "name": "w"}
    )
    projects_before = await owner.call("get-projects", {"teamId": team["id"]})
    events_before = await count(services, events)

    status, body = await members["viewer"].error(
        "create-project", {"teamId": team["id"], "name": "No"}
    )
    assert (status, body["code"]) == (403, "insufficient-permissions")
    stranger = await api_factory.user("stranger")
    status, body = await stranger.error("create-project", {"teamId": team["id"], "name": "No"})
    assert (status, body["type"]) == (404, "not-found")
    status, body = await owner.error("create-project", {"teamId": str(new_id()), "name": "No"})
    assert (status, body["type"]) == (404, "not-found")
    assert await owner.call("get-projects", {"teamId": team["id"]}) == projects_before
    assert await count(services, events) == events_before

    made = await members["editor"].call("create-project", {"teamId": team["id"], "name": "Yes"})
    assert made["name"] == "Yes" and made["teamId"] == team["id"]
    async with services.db.read() as conn:
        raised = (
            await conn.execute(
                select(events.c.id, events.c.props).where(events.c.name == "create-project")
            )
        ).all()
        sent = await conn.scalar(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.event_id.in_([r.id for r in raised]))
        )
    assert [r.props["id"] for r in raised] == [made["id"]]
    assert sent == 1


async def test_create_project_with_a_token_is_one_statement(
    pg: Services, api_factory: ApiFactory, receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The identity and the team's webhooks come from memory, the role check
    is part of the insert: no transaction block is opened at all."""
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as Adapter

    owner = await api_factory.user("owner")
    await api_factory.start()
    team = await owner.call("create-team", {"name": "T"})
    await owner.call(
        "create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/hook", "name": "w"}
    )
    token = (await owner.call("create-access-token", {"name": "t"}))["token"]
    program = await api_factory.anonymous(headers={"authorization": f"Token {token}"})
    await program.call("create-project", {"teamId": team["id"], "name": "warm"})

    begun: list[str] = []
    start = Adapter._start_transaction

    async def counted(self: Any) -> None:
        begun.append("BEGIN")
        await start(self)

    monkeypatch.setattr(Adapter, "_start_transaction", counted)
    sent = log_statements(pg, monkeypatch)
    made = await program.call("create-project", {"teamId": team["id"], "name": "one"})
    assert begun == []
    assert [s.split()[0] for s in sent] == ["WITH"]  # the project, its event and delivery
    async with pg.db.read() as conn:
        event = await conn.scalar(
            select(events.c.id).where(events.c.props["id"].as_string() == made["id"])
        )
        assert event is not None
        assert await conn.scalar(
            select(func.count()).select_from(deliveries).where(deliveries.c.event_id == event)
        )
