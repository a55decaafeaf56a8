"""Apply the Alembic migrations under ``migrations/`` with the async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from hookline.storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _is_current(connection: Connection) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


async def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision; safe to run from several processes."""
    async with db.engine.connect() as conn:
        if await conn.run_sync(_is_current):
            return
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            # Two processes starting together must not both run the migrations.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7262401)")
        await conn.run_sync(_upgrade)
