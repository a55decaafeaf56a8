"""The schema revision this code runs on, checked without loading Alembic.

Every process checks the schema at start; Alembic, with the template and
syntax-highlighting libraries it brings, is loaded only when a migration is
due. A delivery worker that never migrates stays about 9 MB smaller for its
whole life. ``HEAD`` is the newest revision under ``migrations/versions``
(tests/storage/test_schema.py holds it to Alembic's own answer)."""

from __future__ import annotations

from sqlalchemy import exc

from hookline.storage.database import Database

HEAD = "0008_profile_defaults"


async def is_current(db: Database) -> bool:
    """Whether the database is at ``HEAD`` (False when it has no schema yet)."""
    async with db.engine.connect() as conn:
        try:
            rows = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
        except exc.DBAPIError:
            return False
    return {row[0] for row in rows} == {HEAD}


async def upgrade(db: Database) -> None:
    """Bring the schema to ``HEAD``, loading Alembic only if it is behind."""
    if await is_current(db):
        return
    from hookline.storage import migrate

    await migrate.upgrade(db)
