"""A page of another origin must not change data with a visitor's session
cookie: cookie-authenticated writes take JSON or Transit bodies only, from
this origin (see hookline.rpc.forgery)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api, ApiFactory

HOOK = "http://127.0.0.1:9/hook"
EVIL = "http://127.0.0.1:9/evil"
TRANSIT = "application/transit+json"


async def _owner_with_webhook(api_factory: ApiFactory) -> tuple[Api, dict[str, Any]]:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Forgery"})
    hook = await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    return owner, hook


async def _uri(owner: Api, hook: dict[str, Any]) -> str:
    uri: str = (await owner.call("get-webhook", {"id": hook["id"]}))["uri"]
    return uri


async def test_query_params_in_an_empty_text_post_change_nothing(
    api_factory: ApiFactory,
) -> None:
    owner, hook = await _owner_with_webhook(api_factory)
    response = await owner.client.post(
        "/api/rpc/command/update-webhook",
        params={"id": hook["id"], "uri": EVIL},
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "type": "authorization",
        "code": "params-in-query",
        "hint": "with a session cookie, a command that changes data takes its params "
        "from the body only, never from the query string",
    }
    assert await _uri(owner, hook) == HOOK


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"],
)
async def test_cookie_writes_need_a_json_or_transit_content_type(
    api_factory: ApiFactory, content_type: str | None
) -> None:
    owner, hook = await _owner_with_webhook(api_factory)
    headers = {"content-type": content_type} if content_type else {}
    response = await owner.client.post(
        "/api/rpc/command/update-webhook",
        content=f'{{"id":"{hook["id"]}","uri":"{EVIL}"}}'.encode(),
        headers=headers,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "json-body-required"
    assert await _uri(owner, hook) == HOOK


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "http://testserver:8080"},  # same site, another port
        {"origin": "https://testserver"},  # same host, another scheme
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},  # a sibling subdomain or another port
        {"sec-fetch-site": "same-site", "origin": "http://testserver"},
    ],
)
async def test_other_origins_are_refused(api_factory: ApiFactory, headers: dict[str, str]) -> None:
    owner, hook = await _owner_with_webhook(api_factory)
    status, body = await owner.error(
        "update-webhook", {"id": hook["id"], "uri": EVIL}, headers=headers
    )
    assert (status, body["type"], body["code"]) == (403, "authorization", "cross-origin-request")
    assert await _uri(owner, hook) == HOOK


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser's page: curl with a cookie jar
        {"sec-fetch-site": "same-origin", "origin": "http://testserver"},
        {"sec-fetch-site": "none"},
        {"origin": "http://testserver"},  # the address the request was sent to
        {"origin": "http://127.0.0.1:6060"},  # HOOKLINE_PUBLIC_URL
    ],
)
async def test_same_origin_writes_pass(api_factory: ApiFactory, headers: dict[str, str]) -> None:
    owner, hook = await _owner_with_webhook(api_factory)
    await owner.call("update-webhook", {"id": hook["id"], "name": "renamed"}, headers=headers)
    transit = await owner.client.post(
        "/api/rpc/command/update-webhook",
        content=f'["^ ","~:id","~u{hook["id"]}","~:name","by transit"]'.encode(),
        headers={"content-type": f"{TRANSIT}; charset=utf-8", **headers},
    )
    assert transit.status_code == 200, transit.text
    assert transit.json()["name"] == "by transit"


async def test_tokens_and_cookieless_calls_are_not_concerned(api_factory: ApiFactory) -> None:
    owner, hook = await _owner_with_webhook(api_factory)
    token = (await owner.call("create-access-token", {"name": "program"}))["token"]
    program = await api_factory.anonymous(headers={"authorization": f"Token {token}"})
    response = await program.client.post(
        "/api/rpc/command/update-webhook",
        params={"id": hook["id"], "name": "from the query"},
        headers={"content-type": "text/plain", "origin": "http://evil.example"},
    )
    assert response.status_code == 200, response.text
    # A token beside the cookie decides who calls: the browser could not add it.
    both = await owner.client.post(
        "/api/rpc/command/update-webhook",
        params={"id": hook["id"], "name": "token and cookie"},
        headers={"authorization": f"Token {token}", "sec-fetch-site": "cross-site"},
    )
    assert both.status_code == 200, both.text
    visitor = await api_factory.anonymous()
    signed_up = await visitor.post(
        "register-profile",
        {"email": "cookieless@example.com", "password": "long enough", "fullname": "C"},
        headers={"sec-fetch-site": "same-site"},
    )
    assert signed_up.status_code == 200


async def test_reads_keep_their_query_string(api_factory: ApiFactory) -> None:
    owner, hook = await _owner_with_webhook(api_factory)
    response = await owner.client.post(
        "/api/rpc/command/get-webhook",
        params={"id": hook["id"]},
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 200


async def test_the_rule_is_documented(api: Api) -> None:
    page = (await api.client.get("/api/_doc")).text
    for words in ("Sec-Fetch-Site", "json-body-required", "params-in-query", "cross-origin"):
        assert words in page
    openapi = (await api.client.get("/api/openapi.json")).json()
    assert "Sec-Fetch-Site" in openapi["info"]["description"]


async def test_a_cookie_upload_needs_the_browser_to_name_this_origin(
    api_factory: ApiFactory,
) -> None:
    """A multipart form is what a page of any origin may post: with the
    session cookie it is taken only from a request that says it comes from
    Hookline's own origin."""
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    form = {"data": {"name": "Imported", "project-id": project["id"]}}
    files = {"files": {"file": ("export.zip", b"not an archive", "application/zip")}}
    url = "/api/rpc/command/import-binfile"
    for headers in ({}, {"sec-fetch-site": "cross-site"}, {"origin": "http://evil.example"}):
        refused = await owner.client.post(url, **form, **files, headers=headers)
        assert refused.status_code == 403, headers
    taken = await owner.client.post(url, **form, **files, headers={"sec-fetch-site": "same-origin"})
    assert taken.status_code == 400 and taken.json()["code"] == "invalid-archive"
