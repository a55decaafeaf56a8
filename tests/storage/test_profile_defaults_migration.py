"""Migration 0008 gives existing profiles null defaults, language and theme,
keeps every row that refers to them, and a deleted default team or project
leaves null behind, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from hookline.storage import migrate
from hookline.storage.database import Database
from hookline.storage.tables import profiles, projects, sessions, team_members, teams

BEFORE = "0007"


def _move(revision: str, downgrade: bool) -> object:
    def run(connection: Connection) -> None:
        step = command.downgrade if downgrade else command.upgrade
        step(migrate.alembic_config(connection), revision)

    return run


async def _migrate(db: Database, revision: str, *, downgrade: bool = False) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_move(revision, downgrade))  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_or_migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new SQLite file, or a copy of the migrated PostgreSQL template."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'before.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_existing_profiles_answer_null_and_lose_nothing(empty_or_migrated_url: str) -> None:
    db = Database(empty_or_migrated_url)
    # PostgreSQL comes back to the revision before (its downgrade works);
    # SQLite, which cannot drop the new references, is built up to it.
    now = datetime(2026, 1, 1, tzinfo=UTC)
    profile_id, team_id, project_id = uuid4(), uuid4(), uuid4()
    try:
        await _migrate(db, BEFORE, downgrade=not db.is_sqlite)
        async with db.engine.begin() as conn:
            await conn.execute(
                insert(profiles).values(
                    id=profile_id,
                    email="old@example.com",
                    fullname="Old",
                    password_hash="x",
                    created_at=now,
                    updated_at=now,
                )
            )
            await conn.execute(
                insert(teams).values(id=team_id, name="T", created_at=now, updated_at=now)
            )
            await conn.execute(
                insert(team_members).values(
                    team_id=team_id, profile_id=profile_id, role="owner", created_at=now
                )
            )
            await conn.execute(
                insert(projects).values(
                    id=project_id,
                    team_id=team_id,
                    name="P",
                    is_pinned=False,
                    created_at=now,
                    modified_at=now,
                )
            )
            await conn.execute(
                insert(sessions).values(
                    id=uuid4(),
                    key_hash="k" * 64,
                    profile_id=profile_id,
                    created_at=now,
                    expires_at=now,
                )
            )
        await _migrate(db, "head")
        async with db.engine.begin() as conn:
            row = (await conn.execute(select(profiles).where(profiles.c.id == profile_id))).one()
            assert (row.lang, row.theme, row.default_team_id, row.default_project_id) == (
                None,
                None,
                None,
                None,
            )
            assert await conn.scalar(select(sessions.c.profile_id)) == profile_id
            assert await conn.scalar(select(team_members.c.profile_id)) == profile_id
            await conn.execute(
                update(profiles).values(default_team_id=team_id, default_project_id=project_id)
            )
        async with db.engine.begin() as conn:
            await conn.execute(delete(projects))
            assert (await conn.execute(select(profiles))).one().default_project_id is None
            await conn.execute(delete(teams))
            row = (await conn.execute(select(profiles))).one()
            assert (row.default_team_id, row.email) == (None, "old@example.com")
    finally:
        await db.dispose()
