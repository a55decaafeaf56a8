"""A token may not give out a token that outlives it or reaches further: a
short-lived leaked token must not buy a permanent one."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api, ApiFactory


async def _as_token(
    api_factory: ApiFactory, owner: Api, **params: str
) -> tuple[Api, dict[str, Any]]:
    created = await owner.call("create-access-token", {"name": "caller", **params})
    program = await api_factory.anonymous(headers={"authorization": f"Token {created['token']}"})
    return program, created


async def test_an_expiring_token_gives_out_no_longer_lived_token(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    program, caller = await _as_token(api_factory, owner, expiration="1h")
    for params in ({"expiration": "720h"}, {}, {"expiration": "PT3601S"}):
        status, body = await program.error("create-access-token", {"name": "child", **params})
        assert (status, body["code"]) == (403, "expiry-beyond-caller")
        assert caller["expiresAt"][:19] in body["hint"]
    child = await program.call("create-access-token", {"name": "child", "expiration": "30m"})
    assert child["expiresAt"] <= caller["expiresAt"]
    names = {token["name"] for token in await owner.call("get-access-tokens")}
    assert names == {"caller", "child"}


async def test_a_lasting_token_and_a_session_choose_freely(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    program, _ = await _as_token(api_factory, owner)
    forever = await program.call("create-access-token", {"name": "forever"})
    assert forever["expiresAt"] is None
    assert (await owner.call("create-access-token", {"name": "mine"}))["expiresAt"] is None


async def test_a_read_token_gives_out_nothing(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    reader, _ = await _as_token(api_factory, owner, scope="read", expiration="1h")
    status, body = await reader.error("create-access-token", {"name": "wider", "scope": "full"})
    assert (status, body["code"]) == (403, "insufficient-scope")


async def test_rotating_a_longer_lived_token_is_refused(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    lasting = await owner.call("create-access-token", {"name": "lasting"})
    program, caller = await _as_token(api_factory, owner, expiration="1h")
    status, body = await program.error("rotate-access-token", {"id": lasting["id"]})
    assert (status, body["code"]) == (403, "expiry-beyond-caller")
    rotated = await program.call("rotate-access-token", {"id": caller["id"]})
    assert rotated["expiresAt"] == caller["expiresAt"]
