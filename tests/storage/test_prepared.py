"""Prepared statements answer exactly what SQLAlchemy answers, on the
driver's fast path and off it, and take part in the transaction they run in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import bindparam, exc, func, insert, select, update

from hookline.ids import new_id
from hookline.services import Services
from hookline.storage import prepared
from hookline.storage.prepared import Prepared
from hookline.storage.tables import events, teams

NOW = datetime(2026, 12, 1, 3, 4, 5, 678901, tzinfo=UTC)

INSERT_TEAM = Prepared(insert(teams))
INSERT_EVENT = Prepared(insert(events))
EVENTS_OF = Prepared(
    select(events.c.id, events.c.name, events.c.props, events.c.created_at, events.c.profile_id)
    .where(events.c.team_id == bindparam("team_id"))
    .order_by(events.c.name)
)
RENAME = Prepared(
    update(events).where(events.c.team_id == bindparam("t")).values(name=bindparam("n"))
)


def team_row() -> dict[str, Any]:
    return {"id": new_id(), "name": "Team", "created_at": NOW, "updated_at": NOW}


def event_row(team_id: UUID, name: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id(),
        "name": name,
        "team_id": team_id,
        "profile_id": None,
        "props": props,
        "coalesce_key": None,
        "created_at": NOW,
        "tracked_at": NOW,
    }


async def test_rows_round_trip_like_sqlalchemy(services: Services) -> None:
    team = team_row()
    props = {"name": "Ünïcode ✓", "nested": {"list": [1, 2.5, None]}, "big": 2**53}
    async with services.db.write() as conn:
        if services.db.is_sqlite:
            # The fast path is the one under test here.
            assert await prepared._inline(conn) is not None
        else:
            await conn.begun()  # type: ignore[attr-defined]  # begun at a first statement
            assert prepared._postgres(conn) is not None
        await INSERT_TEAM.run(conn, team)
        await INSERT_EVENT.run_many(
            conn, [event_row(team["id"], "b", props), event_row(team["id"], "a", {})]
        )
        touched = await RENAME.run(conn, {"t": new_id(), "n": "none"})
        assert touched == 0
    async with services.db.read() as conn:
        fast = await EVENTS_OF.all(conn, {"team_id": team["id"]})
        slow = (await conn.execute(EVENTS_OF.statement, {"team_id": team["id"]})).all()
    assert [tuple(row) for row in fast] == [tuple(row) for row in slow]
    assert [row.name for row in fast] == ["a", "b"]
    assert fast[1].props == props
    assert fast[1].created_at == NOW and fast[1].created_at.tzinfo is not None
    assert isinstance(fast[1].id, UUID) and fast[1].profile_id is None


async def test_a_failure_rolls_back_what_both_paths_wrote(services: Services) -> None:
    team = team_row()
    with pytest.raises(RuntimeError):
        async with services.db.write() as conn:
            await INSERT_TEAM.run(conn, team)
            # One statement through SQLAlchemy, in the same transaction.
            await conn.execute(insert(events), event_row(team["id"], "x", {}))
            raise RuntimeError("the command failed")
    async with services.db.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(teams)) == 0
        assert await conn.scalar(select(func.count()).select_from(events)) == 0
    # The next transaction starts clean, and commits both paths' writes.
    async with services.db.write() as conn:
        await INSERT_TEAM.run(conn, team)
        await conn.execute(insert(events), event_row(team["id"], "x", {}))
        await INSERT_EVENT.run(conn, event_row(team["id"], "y", {}))
    async with services.db.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(events)) == 2


async def test_driver_errors_are_sqlalchemy_errors(services: Services) -> None:
    team = team_row()
    async with services.db.write() as conn:
        await INSERT_TEAM.run(conn, team)
    with pytest.raises(exc.IntegrityError):
        async with services.db.write() as conn:
            await INSERT_TEAM.run(conn, team)  # the same primary key again
    with pytest.raises(exc.IntegrityError):
        async with services.db.write() as conn:
            # No such team: the foreign key refuses it.
            await INSERT_EVENT.run(conn, event_row(new_id(), "orphan", {}))
    async with services.db.write() as conn:
        await INSERT_EVENT.run(conn, event_row(team["id"], "kept", {}))
    async with services.db.read() as conn:
        names = [row.name for row in await EVENTS_OF.all(conn, {"team_id": team["id"]})]
    assert names == ["kept"]


async def test_a_read_that_runs_nothing_else_begins_at_its_prepared_statement(
    services: Services,
) -> None:
    async with services.db.read() as conn:
        assert await EVENTS_OF.all(conn, {"team_id": new_id()}) == []


def test_expanding_parameters_are_refused_at_compile() -> None:
    statement = Prepared(select(teams.c.id).where(teams.c.id.in_(bindparam("ids", expanding=True))))
    from sqlalchemy.dialects import sqlite

    with pytest.raises(TypeError):
        statement._compile(sqlite.dialect(), frozenset({"ids"}))
