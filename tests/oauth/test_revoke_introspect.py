"""RFC 7009 revocation by the client, revocation by the person, and RFC 7662
introspection; on PostgreSQL another process's identity cache learns of a
revocation too."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from hookline.services import Services
from tests.conftest import FAST_PASSWORDS, make_settings
from tests.helpers import ApiFactory
from tests.oauth.flow import call, client_auth, register, tokens_for
from tests.web.client import WebClient, WebFactory


async def _granted(
    web: WebFactory, api_factory: ApiFactory, *, confidential: bool = True
) -> tuple[WebClient, httpx.AsyncClient, dict[str, Any], dict[str, Any]]:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api, confidential=confidential)
    http = (await api_factory.anonymous()).client
    return person, http, app, await tokens_for(person, http, app, "read")


async def _revoke(http: httpx.AsyncClient, app: dict[str, Any], **form: str) -> httpx.Response:
    if not app["confidential"]:
        form.setdefault("client_id", app["clientId"])
    return await http.post("/oauth/revoke", data=form, **client_auth(app))


async def test_client_revokes_an_access_token_alone(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    _, http, app, tokens = await _granted(web, api_factory, confidential=False)
    answer = await _revoke(http, app, token=tokens["access_token"], token_type_hint="access_token")
    assert answer.status_code == 200
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 401
    refreshed = await http.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": app["clientId"],
        },
    )
    assert refreshed.status_code == 200


async def test_client_revokes_a_refresh_token_and_the_grant_ends(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app, tokens = await _granted(web, api_factory)
    assert (await _revoke(http, app, token=tokens["refresh_token"])).status_code == 200
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 401
    grants = await person.api.call("get-oauth-grants")  # type: ignore[union-attr]
    assert grants[0]["revokedReason"] == "client"


async def test_unknown_and_foreign_tokens_answer_200_and_stay(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app, tokens = await _granted(web, api_factory)
    other = await register(person.api)  # type: ignore[arg-type]
    assert (await _revoke(http, other, token=tokens["access_token"])).status_code == 200
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 200
    assert (await _revoke(http, app, token="not-a-token")).status_code == 200
    missing = await _revoke(http, app)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    unauthenticated = await http.post("/oauth/revoke", data={"token": tokens["access_token"]})
    assert unauthenticated.status_code == 401


async def test_the_person_revokes_a_grant(web: WebFactory, api_factory: ApiFactory) -> None:
    person, http, _, tokens = await _granted(web, api_factory)
    assert person.api is not None
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 200
    [grant] = await person.api.call("get-oauth-grants")
    assert grant["applicationName"] == "Board sync" and grant["scope"] == "read"
    assert grant["lastUsedAt"] is not None and grant["revokedAt"] is None
    stranger = await api_factory.user()
    status, _ = await stranger.error("revoke-oauth-grant", {"id": grant["id"]})
    assert status == 404
    await person.api.call("revoke-oauth-grant", {"id": grant["id"]})
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 401
    [ended] = await person.api.call("get-oauth-grants")
    assert ended["revokedReason"] == "person" and ended["revokedAt"] is not None


@pytest.mark.postgres
async def test_a_revocation_reaches_another_process(postgres_url: str, tmp_path: Path) -> None:
    """Two apps on their own services, as two ``hookline serve`` processes on
    one PostgreSQL: once the person revokes the grant through one, the other,
    which had the token in its identity cache, refuses it too."""
    settings = make_settings(postgres_url, tmp_path)
    started = [
        await Services.start(settings, passwords=FAST_PASSWORDS, apply_migrations=False)
        for _ in range(2)
    ]
    here, there = ApiFactory(started[0]), ApiFactory(started[1])
    try:
        for factory in (here, there):
            await factory.start()
        person, _http, _, tokens = await _granted(WebFactory(here), here)
        assert person.api is not None
        elsewhere = (await there.anonymous()).client
        assert (await call(elsewhere, tokens["access_token"], "get-profile")).status_code == 200
        assert started[1].identity_cache._tokens, "the other process caches the token"
        [grant] = await person.api.call("get-oauth-grants")
        await person.api.call("revoke-oauth-grant", {"id": grant["id"]})
        async with asyncio.timeout(5):
            while (await call(elsewhere, tokens["access_token"], "get-profile")).status_code != 401:
                await asyncio.sleep(0.02)
    finally:
        for factory in (here, there):
            await factory.close()
        for service in started:
            await service.close()


async def test_introspection_for_confidential_clients(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app, tokens = await _granted(web, api_factory)
    auth = (app["clientId"], app["clientSecret"])
    active = (
        await http.post("/oauth/introspect", data={"token": tokens["access_token"]}, auth=auth)
    ).json()
    assert active["active"] is True and active["scope"] == "read"
    assert active["client_id"] == app["clientId"] and active["token_type"] == "Bearer"
    assert active["sub"] == person.api.id  # type: ignore[union-attr]
    assert active["exp"] - active["iat"] == 3600
    refresh = (
        await http.post("/oauth/introspect", data={"token": tokens["refresh_token"]}, auth=auth)
    ).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    junk = (await http.post("/oauth/introspect", data={"token": "junk"}, auth=auth)).json()
    assert junk == {"active": False}
    other = await register(person.api)  # type: ignore[arg-type]
    foreign = await http.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"]},
        auth=(other["clientId"], other["clientSecret"]),
    )
    assert foreign.json() == {"active": False}
    public = await register(person.api, confidential=False)  # type: ignore[arg-type]
    refused = await http.post(
        "/oauth/introspect", data={"token": tokens["access_token"], "client_id": public["clientId"]}
    )
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
