"""What an OAuth access token may call: its scopes, then the person's roles."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import ApiFactory, team_with_members
from tests.oauth.flow import call, register, tokens_for
from tests.web.client import WebFactory


async def _token(
    web: WebFactory, api_factory: ApiFactory, scope: str
) -> tuple[Any, httpx.AsyncClient, str]:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    http = (await api_factory.anonymous()).client
    tokens = await tokens_for(person, http, app, scope)
    return person, http, tokens["access_token"]


async def test_a_read_token_is_refused_on_a_write(web: WebFactory, api_factory: ApiFactory) -> None:
    _, http, token = await _token(web, api_factory, "read")
    assert (await call(http, token, "get-teams")).status_code == 200
    refused = await call(http, token, "create-team", {"name": "No"})
    assert refused.status_code == 403
    body = refused.json()
    assert body["type"] == "authorization" and body["code"] == "insufficient-scope"
    assert "create-team" in body["hint"] and "write" in body["hint"]
    assert refused.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'


async def test_no_scope_reaches_credentials_or_the_account(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    _, http, token = await _token(web, api_factory, "read write webhooks")
    assert (await call(http, token, "create-team", {"name": "Yes"})).status_code == 200
    for command, params in (
        ("create-access-token", {"name": "x"}),
        ("get-access-tokens", {}),
        ("create-oauth-application", {"name": "x", "redirectUris": ["https://a.example/cb"]}),
        ("get-oauth-grants", {}),
        ("update-profile-password", {"oldPassword": "correct horse", "password": "new horse!"}),
        ("delete-profile", {}),
    ):
        answer = await call(http, token, command, params)
        assert answer.status_code == 403, command
        assert answer.json()["code"] == "insufficient-scope"


async def test_a_webhooks_token_reaches_webhooks_only(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, token = await _token(web, api_factory, "webhooks")
    team = await person.api.call("create-team", {"name": "Hooks"})
    assert (await call(http, token, "get-teams")).status_code == 403
    created = await call(
        http,
        token,
        "create-webhook",
        {"teamId": team["id"], "uri": "http://127.0.0.1:9/in"},
    )
    assert created.status_code == 200, created.text
    listed = await call(http, token, "get-webhooks", {"teamId": team["id"]})
    assert [w["id"] for w in listed.json()] == [created.json()["id"]]


async def test_the_persons_roles_still_apply_and_removal_loses_the_team(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    team, members = await team_with_members(api_factory, ("viewer",))
    viewer = await web.of(members["viewer"])
    app = await register(members["owner"])
    http = (await api_factory.anonymous()).client
    token = (await tokens_for(viewer, http, app, "read write webhooks"))["access_token"]
    assert (await call(http, token, "get-team", {"id": team["id"]})).status_code == 200
    hook = await call(
        http, token, "create-webhook", {"teamId": team["id"], "uri": "http://127.0.0.1:9/in"}
    )
    assert hook.status_code == 403  # a viewer may not, whatever the scope
    await members["owner"].call(
        "delete-team-member", {"teamId": team["id"], "memberId": members["viewer"].id}
    )
    gone = await call(http, token, "get-team", {"id": team["id"]})
    assert gone.status_code == 404
    teams = await call(http, token, "get-teams")
    assert team["id"] not in [t["id"] for t in teams.json()]


async def test_the_mapping_is_documented(api_factory: ApiFactory) -> None:
    http = (await api_factory.anonymous()).client
    page = (await http.get("/api/_doc")).text
    assert 'id="oauth-scopes"' in page and "insufficient-scope" in page
    document = (await http.get("/api/openapi.json")).json()
    paths = document["paths"]
    assert paths["/api/rpc/command/get-teams"]["post"]["x-oauth-scopes"] == ["read", "write"]
    assert paths["/api/rpc/command/create-webhook"]["post"]["x-oauth-scopes"] == [
        "write",
        "webhooks",
    ]
    assert paths["/api/rpc/command/create-access-token"]["post"]["x-oauth-scopes"] == []
