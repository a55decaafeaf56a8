from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import event

from hookline.auth import tokens
from hookline.auth.cache import IdentityCache
from hookline.auth.tokens import TokenRecord
from hookline.services import Services
from tests.conftest import FAST_PASSWORDS, make_settings
from tests.helpers import Api, ApiFactory


def record() -> TokenRecord:
    return TokenRecord(uuid4(), uuid4(), "full", None)


def test_a_fill_that_raced_an_invalidation_is_not_kept() -> None:
    cache = IdentityCache(enabled=True)
    before = cache.generation
    cache.forget()  # a revocation committed while the lookup read the database
    cache.keep_token("digest", record(), before)
    cache.keep_profile(uuid4(), {"fullname": "x"}, before)
    assert cache.token("digest") is None
    kept = record()
    cache.keep_token("digest", kept, cache.generation)
    assert cache.token("digest") is kept


def test_a_disabled_cache_keeps_and_answers_nothing() -> None:
    cache = IdentityCache(enabled=False)
    cache.keep_token("digest", record(), cache.generation)
    assert cache.token("digest") is None
    cache.enabled = True
    assert cache.token("digest") is None


def test_the_cache_is_bounded() -> None:
    cache = IdentityCache(enabled=True)
    for n in range(20_001):
        cache.keep_token(f"d{n}", record(), cache.generation)
    assert len(cache._tokens) <= 20_000


def test_only_a_kept_profile_keeps_its_answer_and_only_until_forgotten() -> None:
    cache = IdentityCache(enabled=True)
    encoder, other = object(), object()
    kept, passing = {"fullname": "kept"}, {"fullname": "passing"}
    cache.keep_profile(uuid4(), kept, cache.generation)
    cache.keep_json_answer(passing, encoder, b"passing")
    assert cache.json_answer(passing, encoder) is None
    assert cache.json_answer(kept, encoder) is None
    cache.keep_json_answer(kept, encoder, b"kept")
    assert cache.json_answer(kept, encoder) == b"kept"
    # Another command's result type encodes it its own way.
    assert cache.json_answer(kept, other) is None
    cache.forget()
    assert cache.json_answer(kept, encoder) is None
    cache.keep_json_answer(kept, encoder, b"kept")
    assert cache.json_answer(kept, encoder) is None


async def with_token(factory: ApiFactory, token: str) -> Api:
    client = await factory.anonymous()
    client.client.headers["authorization"] = f"Token {token}"
    return client


def digest(services: Services, token: str) -> str:
    return tokens.token_hash(services.settings.secret_key, token)


async def test_a_cached_token_costs_no_query_and_changes_apply_at_once(
    api_factory: ApiFactory,
) -> None:
    services = api_factory.services
    user = await api_factory.user()
    created = await user.call("create-access-token", {"name": "cached"})
    program = await with_token(api_factory, created["token"])
    assert (await program.call("get-profile"))["id"] == user.id
    assert services.identity_cache.token(digest(services, created["token"])) is not None

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert (await program.call("get-profile"))["id"] == user.id
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not [s for s in statements if "access_tokens" in s or "profiles" in s]
    # The kept profile's answer is the one a fresh encoding makes.
    kept = services.identity_cache.profile(UUID(user.id))
    encoder = api_factory.app.state.registry.get("get-profile").result_adapter
    answer = services.identity_cache.json_answer(kept, encoder)
    assert answer is not None
    assert answer == encoder.dump_json(kept, by_alias=True)
    assert json.loads(answer) == await program.call("get-profile")

    await program.call("update-profile", {"fullname": "Renamed"})
    assert (await program.call("get-profile"))["fullname"] == "Renamed"

    rotated = await user.call("rotate-access-token", {"id": created["id"]})
    status, body = await program.error("get-profile")
    assert (status, body["code"]) == (401, "invalid-token")
    fresh = await with_token(api_factory, rotated["token"])
    assert (await fresh.call("get-profile"))["fullname"] == "Renamed"

    await user.call("delete-access-token", {"id": created["id"]})
    status, body = await fresh.error("get-profile")
    assert (status, body["code"]) == (401, "invalid-token")


async def test_deleting_the_profile_ends_its_cached_tokens(api_factory: ApiFactory) -> None:
    user = await api_factory.user(password="correct horse")
    created = await user.call("create-access-token", {"name": "doomed"})
    program = await with_token(api_factory, created["token"])
    await program.call("get-profile")
    await user.call("delete-profile", {"password": "correct horse"})
    status, body = await program.error("get-profile")
    assert (status, body["code"]) == (401, "invalid-token")


@contextlib.asynccontextmanager
async def another_process(postgres_url: str, data_dir: Path) -> AsyncIterator[ApiFactory]:
    """A Hookline process of its own on the same PostgreSQL database,
    listening for changes as a started server does."""
    settings = make_settings(postgres_url, data_dir)
    services = await Services.start(settings, passwords=FAST_PASSWORDS, apply_migrations=False)
    factory = ApiFactory(services)
    await factory.start()
    try:
        yield factory
    finally:
        await factory.close()
        await services.close()


@pytest.fixture
async def first_process(postgres_url: str, tmp_path: Path) -> AsyncIterator[ApiFactory]:
    async with another_process(postgres_url, tmp_path / "first") as factory:
        yield factory


@pytest.fixture
async def second_process(postgres_url: str, tmp_path: Path) -> AsyncIterator[ApiFactory]:
    async with another_process(postgres_url, tmp_path / "second") as factory:
        yield factory


@pytest.mark.postgres
async def test_a_revocation_reaches_the_other_processes_cache(
    first_process: ApiFactory, second_process: ApiFactory
) -> None:
    user = await first_process.user()
    created = await user.call("create-access-token", {"name": "shared"})
    elsewhere = await with_token(second_process, created["token"])
    assert (await elsewhere.call("get-profile"))["id"] == user.id
    cache = second_process.services.identity_cache
    assert cache.token(digest(second_process.services, created["token"])) is not None

    await user.call("delete-access-token", {"id": created["id"]})
    async with asyncio.timeout(5):
        while cache.token(digest(second_process.services, created["token"])) is not None:
            await asyncio.sleep(0.005)
    status, body = await elsewhere.error("get-profile")
    assert (status, body["code"]) == (401, "invalid-token")


@pytest.mark.postgres
async def test_without_its_listener_a_process_reads_the_database(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = make_settings(postgres_url, tmp_path)
    services = await Services.start(settings, passwords=FAST_PASSWORDS, apply_migrations=False)
    factory = ApiFactory(services)  # never started: nobody listens
    try:
        user = await factory.user()
        created = await user.call("create-access-token", {"name": "uncached"})
        program = await with_token(factory, created["token"])
        assert (await program.call("get-profile"))["id"] == user.id
        assert services.identity_cache.token(digest(services, created["token"])) is None
    finally:
        await factory.close()
        await services.close()
