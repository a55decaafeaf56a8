"""Registering applications: ownership, redirect URI rules, secrets shown once."""

from __future__ import annotations

import pytest

from hookline.oauth import secrets
from tests.helpers import ApiFactory
from tests.oauth.flow import REDIRECT, call, register, tokens_for
from tests.web.client import WebFactory


async def test_create_shows_the_secret_once_and_keeps_only_its_hash(
    api_factory: ApiFactory,
) -> None:
    owner = await api_factory.user()
    app = await register(owner)
    assert secrets.well_formed(app["clientSecret"], secrets.SECRET_PREFIX)
    assert app["secretLast4"] == app["clientSecret"][-4:]
    assert len(app["clientId"]) == secrets.CLIENT_ID_LENGTH
    listed = await owner.call("get-oauth-applications")
    assert [a["clientId"] for a in listed] == [app["clientId"]]
    assert "clientSecret" not in listed[0]
    one = await owner.call("get-oauth-application", {"id": app["id"]})
    assert one["redirectUris"] == [REDIRECT] and "clientSecret" not in one
    public = await register(owner, confidential=False)
    assert public["clientSecret"] is None and public["secretLast4"] is None


async def test_rotate_update_delete(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    app = await register(owner)
    rotated = await owner.call("rotate-oauth-application-secret", {"id": app["id"]})
    assert rotated["clientSecret"] != app["clientSecret"]
    updated = await owner.call(
        "update-oauth-application",
        {"id": app["id"], "name": "Renamed", "redirectUris": ["https://app.example/cb"]},
    )
    assert updated["name"] == "Renamed" and updated["redirectUris"] == ["https://app.example/cb"]
    public = await register(owner, confidential=False)
    status, body = await owner.error("rotate-oauth-application-secret", {"id": public["id"]})
    assert status == 400 and body["code"] == "public-client"
    await owner.call("delete-oauth-application", {"id": app["id"]})
    assert [a["id"] for a in await owner.call("get-oauth-applications")] == [public["id"]]


async def test_another_persons_application_is_not_found(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    stranger = await api_factory.user()
    app = await register(owner)
    for command in (
        "get-oauth-application",
        "rotate-oauth-application-secret",
        "delete-oauth-application",
    ):
        status, _body = await stranger.error(command, {"id": app["id"]})
        assert status == 404, command
    status, _ = await stranger.error("update-oauth-application", {"id": app["id"], "name": "x"})
    assert status == 404
    assert await stranger.call("get-oauth-applications") == []


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example/cb",  # plain http beyond loopback
        "https://app.example/cb#frag",
        "/relative",
        "ftp://app.example/cb",
        "https://user:pw@app.example/cb",
        "https://app.example/c b",
    ],
)
async def test_redirect_uris_that_cannot_be_registered(api_factory: ApiFactory, uri: str) -> None:
    owner = await api_factory.user()
    status, body = await owner.error(
        "create-oauth-application", {"name": "x", "redirectUris": [uri]}
    )
    assert status == 400 and body["code"] == "params-validation", body


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:9000/cb",
        "http://[::1]/cb",
        "http://localhost:3000/x",
        "https://a.example/cb?x=1",
    ],
)
async def test_redirect_uris_that_can(api_factory: ApiFactory, uri: str) -> None:
    owner = await api_factory.user()
    app = await register(owner, uris=[uri])
    assert app["redirectUris"] == [uri]


async def test_deleting_an_application_ends_its_tokens(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    http = (await api_factory.anonymous()).client
    tokens = await tokens_for(person, http, app)
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 200
    await person.api.call("delete-oauth-application", {"id": app["id"]})
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 401
