"""Shared fixtures. Every test that names ``services`` or ``api`` runs once on
SQLite (a copy of a migrated template file) and once on PostgreSQL (a database
cloned from a migrated template), each starting clean."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from hookline.auth.passwords import Passwords
from hookline.services import Services
from hookline.settings import Settings, normalize_database_url, parse_allowlist
from hookline.storage import migrate
from hookline.storage.database import Database
from tests.helpers import Api, ApiFactory
from tests.reliability.harness import Receiver

PG_ADMIN_URL = os.environ.get("HOOKLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

FAST_PASSWORDS = Passwords(time_cost=1, memory_kib=1024)


def pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(normalize_database_url(PG_ADMIN_URL).replace("+asyncpg", ""))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"hookline_template_{os.getpid()}"
    try:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name}"))
        asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    asyncio.run(_migrate(pg_url(name)))
    yield name
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name}"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "hookline.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def postgres_url(pg_template: str) -> AsyncIterator[str]:
    name = f"hookline_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield pg_url(name)
    await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": normalize_database_url(database_url),
        "secret_key": b"test-secret-key-0123456789abcdef-0123456789",
        "data_dir": data_dir,
        "ssrf_allowlist": parse_allowlist("127.0.0.0/8"),
        # Tests sign many people up from one address.
        "signups_per_hour": 100_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    started = await Services.start(settings, passwords=FAST_PASSWORDS, apply_migrations=False)
    yield started
    await started.close()


@pytest.fixture
async def api_factory(services: Services) -> AsyncIterator[ApiFactory]:
    factory = ApiFactory(services)
    await factory.start()
    yield factory
    await factory.close()


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """An anonymous client of the API."""
    return await api_factory.anonymous()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on 127.0.0.1 whose paths behave well or badly."""
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
