from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import event

from hookline.auth import tokens
from hookline.clock import FrozenClock
from tests.helpers import Api, ApiFactory


def bearer(token: str, scheme: str = "Token") -> dict[str, str]:
    return {"authorization": f"{scheme} {token}"}


async def as_token(api_factory: ApiFactory, token: str) -> Api:
    client = await api_factory.anonymous()
    client.client.headers.update(bearer(token))
    return client


@pytest.mark.parametrize(
    ("expiration", "days"),
    [(None, None), ("720h", 30), ("1440h", 60), ("2160h", 90), ("4320h", 180)],
)
async def test_create_with_each_preset(
    api_factory: ApiFactory, expiration: str | None, days: int | None
) -> None:
    user = await api_factory.user()
    params: dict[str, Any] = {"name": "  CI deploy  "}
    if expiration:
        params["expiration"] = expiration
    created = await user.call("create-access-token", params)
    assert created["name"] == "CI deploy"
    assert created["scope"] == "full"
    assert tokens.well_formed(created["token"])
    if days is None:
        assert created["expiresAt"] is None
    else:
        assert created["expiresAt"] > created["createdAt"]
    me = await (await as_token(api_factory, created["token"])).call("get-profile")
    assert me["id"] == user.id


async def test_lifecycle_list_rename_rotate_revoke(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    created = await user.call("create-access-token", {"name": "laptop", "expiration": "P30D"})
    value = created["token"]
    program = await as_token(api_factory, value)
    assert (await program.call("get-profile"))["id"] == user.id
    current = await program.call("get-current-access-token")
    assert current["id"] == created["id"] and current["lastUsedAt"] is not None

    [listed] = await user.call("get-access-tokens")
    assert listed["last4"] == value[-4:]
    assert listed["lastUsedIp"] == "127.0.0.1" and listed["expired"] is False
    assert value not in str(listed) and "tokenHash" not in listed and "token" not in listed

    renamed = await user.call("rename-access-token", {"id": created["id"], "name": "desk"})
    assert renamed["name"] == "desk"

    rotated = await user.call("rotate-access-token", {"id": created["id"]})
    assert rotated["token"] != value and rotated["name"] == "desk"
    assert rotated["expiresAt"] == created["expiresAt"]
    status, body = await program.error("get-profile")
    assert (status, body["code"]) == (401, "invalid-token")
    fresh = await as_token(api_factory, rotated["token"])
    assert (await fresh.call("get-profile"))["id"] == user.id

    await user.call("delete-access-token", {"id": created["id"]})
    status, body = await fresh.error("get-profile")
    assert (status, body["code"]) == (401, "invalid-token")
    assert await user.call("get-access-tokens") == []


async def test_expired_token_is_refused(api_factory: ApiFactory) -> None:
    clock = FrozenClock()
    api_factory.services.clock = clock
    user = await api_factory.user()
    created = await user.call("create-access-token", {"name": "short", "expiration": "10s"})
    program = await as_token(api_factory, created["token"])
    await program.call("get-profile")
    clock.advance(seconds=11)
    status, body = await program.error("get-profile")
    assert (status, body["code"]) == (401, "token-expired")
    [listed] = await user.call("get-access-tokens")
    assert listed["expired"] is True


async def test_read_scope_reads_and_cannot_write(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    created = await user.call("create-access-token", {"name": "ro", "scope": "read"})
    program = await as_token(api_factory, created["token"])
    assert [t["id"] for t in await program.call("get-teams")] == [user.default_team_id]
    status, body = await program.error("create-team", {"name": "nope"})
    assert (status, body["code"]) == (403, "insufficient-scope")


async def test_another_users_token_is_not_found(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    other = await api_factory.user()
    created = await owner.call("create-access-token", {"name": "mine"})
    for command, extra in (
        ("rename-access-token", {"name": "x"}),
        ("rotate-access-token", {}),
        ("delete-access-token", {}),
    ):
        status, body = await other.error(command, {"id": created["id"], **extra})
        assert (status, body["type"]) == (404, "not-found"), command
    assert await other.call("get-access-tokens") == []
    assert len(await owner.call("get-access-tokens")) == 1


async def test_bad_checksum_is_refused_without_a_database_query(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    value = (await user.call("create-access-token", {"name": "t"}))["token"]
    tampered = value[:-1] + ("A" if value[-1] != "A" else "B")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = api_factory.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        program = await as_token(api_factory, tampered)
        status, body = await program.error("get-profile")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (status, body["code"]) == (401, "invalid-token")
    assert statements == []


@pytest.mark.parametrize("header", ["Token", "token", "Bearer", "BEARER"], ids=lambda h: h)
async def test_schemes(api_factory: ApiFactory, header: str) -> None:
    user = await api_factory.user()
    value = (await user.call("create-access-token", {"name": "t"}))["token"]
    program = await api_factory.anonymous()
    me = await program.call("get-profile", headers=bearer(value, header))
    assert me["id"] == user.id


async def test_malformed_credentials_and_anonymous(api_factory: ApiFactory) -> None:
    anonymous = await api_factory.anonymous()
    assert (await anonymous.call("get-profile"))["fullname"] == "Anonymous User"
    for header in ("Basic abc", "Token", "Token hlp_short", "Token " + "x" * 40):
        status, body = await anonymous.error("get-profile", headers={"authorization": header})
        assert (status, body["code"]) == (401, "invalid-token"), header


async def test_token_in_query_string_is_refused(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    value = (await user.call("create-access-token", {"name": "t"}))["token"]
    anonymous = await api_factory.anonymous()
    for query in ({"token": value}, {"access_token": "abc"}):
        response = await anonymous.client.get("/api/rpc/command/get-profile", params=query)
        assert response.status_code == 401
        assert response.json()["code"] == "token-in-query"


async def test_failures_are_rate_limited_per_address(api_factory: ApiFactory) -> None:
    attacker = await api_factory.anonymous(client=("10.9.8.7", 4000))
    for _ in range(10):
        status, _body = await attacker.error("get-profile", headers=bearer(tokens.new_token()))
        assert status == 401
    response = await attacker.post("get-profile", headers=bearer(tokens.new_token()))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    elsewhere = await api_factory.anonymous(client=("10.9.8.8", 4000))
    status, _body = await elsewhere.error("get-profile", headers=bearer(tokens.new_token()))
    assert status == 401


async def test_quota(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    limit = api_factory.services.settings.max_tokens_per_profile
    for n in range(limit):
        await user.call("create-access-token", {"name": f"t{n}"})
    status, body = await user.error("create-access-token", {"name": "one more"})
    assert (status, body["code"]) == (400, "max-quote-reached")


@pytest.mark.parametrize("expiration", ["0s", "-5h", "soon", "", "PT0S"])
async def test_bad_expiration_names_the_field(api_factory: ApiFactory, expiration: str) -> None:
    user = await api_factory.user()
    status, body = await user.error("create-access-token", {"name": "t", "expiration": expiration})
    assert status == 400 and body["code"] == "params-validation"
    assert body["details"][0]["field"] == "expiration"


async def test_deleting_the_profile_deletes_its_tokens(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    value = (await user.call("create-access-token", {"name": "t"}))["token"]
    await user.call("delete-profile", {"password": "correct horse"})
    program = await as_token(api_factory, value)
    status, body = await program.error("get-profile")
    assert (status, body["code"]) == (401, "invalid-token")


async def test_token_and_hash_never_reach_the_logs(
    api_factory: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Everything Hookline logs, at its most verbose (library debug output, such
    # as a driver echoing SQL parameters, is not emitted by the service).
    caplog.set_level(logging.DEBUG, logger="hookline")
    user = await api_factory.user()
    created = await user.call("create-access-token", {"name": "t"})
    program = await as_token(api_factory, created["token"])
    await program.call("get-profile")
    await program.error("create-team", {"name": ""})
    rotated = await user.call("rotate-access-token", {"id": created["id"]})
    await (await as_token(api_factory, created["token"])).error("get-profile")
    secret = api_factory.services.settings.secret_key
    needles = [created["token"], rotated["token"]]
    needles += [tokens.token_hash(secret, n) for n in needles]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records, "the requests were logged"
    for needle in needles:
        assert needle not in text
