"""The authorization code flow and the token endpoint, on both databases:
codes, PKCE, refresh rotation, reuse detection, RFC 6749 §5.2 errors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from hookline.clock import FrozenClock
from hookline.oauth import secrets
from tests.helpers import ApiFactory
from tests.oauth.flow import (
    REDIRECT,
    call,
    code_for,
    exchange,
    register,
    token_request,
    tokens_for,
)
from tests.web.client import WebClient, WebFactory


async def _setup(
    web: WebFactory, api_factory: ApiFactory, *, confidential: bool = True
) -> tuple[WebClient, httpx.AsyncClient, dict[str, Any]]:
    person = await web.user("ada")
    assert person.api is not None
    app = await register(person.api, confidential=confidential)
    http = (await api_factory.anonymous()).client
    return person, http, app


@pytest.mark.parametrize("confidential", [True, False])
async def test_code_for_tokens_then_the_api_as_the_person(
    web: WebFactory, api_factory: ApiFactory, confidential: bool
) -> None:
    person, http, app = await _setup(web, api_factory, confidential=confidential)
    answer = await exchange(http, app, *(await code_for(person, app, "read write")))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "read write"
    assert secrets.well_formed(body["access_token"], secrets.ACCESS_PREFIX)
    assert secrets.well_formed(body["refresh_token"], secrets.REFRESH_PREFIX)
    for scheme in ("Bearer", "Token"):
        me = await call(http, body["access_token"], "get-profile", scheme=scheme)
        assert me.status_code == 200 and me.json()["id"] == person.api.id  # type: ignore[union-attr]
    team = await call(http, body["access_token"], "create-team", {"name": "From the app"})
    assert team.status_code == 200, team.text


async def test_client_secret_post_works_and_two_methods_at_once_do_not(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory)
    code, verifier = await code_for(person, app)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": app["clientId"],
        "client_secret": app["clientSecret"],
    }
    both = await http.post("/oauth/token", data=form, auth=(app["clientId"], app["clientSecret"]))
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    posted = await http.post("/oauth/token", data=form)
    assert posted.status_code == 200, posted.text


async def test_client_authentication_errors_are_401_with_www_authenticate(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory)
    code, verifier = await code_for(person, app)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    wrong_secret = secrets.new_value(secrets.SECRET_PREFIX)
    for auth in ((app["clientId"], wrong_secret), ("nobody", wrong_secret)):
        answer = await http.post("/oauth/token", data=form, auth=auth)
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        assert answer.headers["www-authenticate"].startswith("Basic ")
    missing = await http.post("/oauth/token", data=form)
    assert missing.status_code == 401 and missing.json()["error"] == "invalid_client"
    # The code survived the failed attempts.
    assert (await exchange(http, app, code, verifier)).status_code == 200


async def test_code_of_another_client_is_invalid_grant(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory)
    assert person.api is not None
    other = await register(person.api)
    code, verifier = await code_for(person, app)
    answer = await exchange(http, other, code, verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


async def test_wrong_verifier_wrong_redirect_and_missing_verifier(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory)
    code, verifier = await code_for(person, app)
    wrong = await exchange(http, app, code, "x" * 43)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    elsewhere = await exchange(http, app, code, verifier, redirect_uri="http://127.0.0.1:1/cb")
    assert elsewhere.status_code == 400 and elsewhere.json()["error"] == "invalid_grant"
    without = await token_request(
        http, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert without.status_code == 400 and without.json()["error"] == "invalid_request"
    assert (await exchange(http, app, code, verifier)).status_code == 200


async def test_expired_code(web: WebFactory, api_factory: ApiFactory) -> None:
    clock = FrozenClock()
    api_factory.services.clock = clock
    person, http, app = await _setup(web, api_factory)
    code, verifier = await code_for(person, app)
    clock.advance(seconds=61)
    answer = await exchange(http, app, code, verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert "expired" in answer.json()["error_description"]


async def test_a_reused_code_revokes_the_tokens_it_produced(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory)
    code, verifier = await code_for(person, app)
    first = await exchange(http, app, code, verifier)
    tokens = first.json()
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 200
    again = await exchange(http, app, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    refused = await call(http, tokens["access_token"], "get-profile")
    assert refused.status_code == 401 and refused.json()["code"] == "invalid-token"
    refresh = await token_request(
        http, app, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    grants = await person.api.call("get-oauth-grants")  # type: ignore[union-attr]
    assert [g["revokedReason"] for g in grants] == ["code-reused"]


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_grant(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory, confidential=False)
    first = await tokens_for(person, http, app, "read write")
    second = await token_request(
        http, app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["scope"] == "read write"
    assert (await call(http, rotated["access_token"], "get-teams")).status_code == 200
    stolen = await token_request(
        http, app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    for value in (first["access_token"], rotated["access_token"]):
        assert (await call(http, value, "get-teams")).status_code == 401
    after = await token_request(
        http, app, grant_type="refresh_token", refresh_token=rotated["refresh_token"]
    )
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


async def test_refresh_may_narrow_scope_but_never_widen_it(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory)
    first = await tokens_for(person, http, app, "read")
    wider = await token_request(
        http,
        app,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        scope="read write",
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    unknown = await token_request(
        http, app, grant_type="refresh_token", refresh_token=first["refresh_token"], scope="admin"
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_scope"
    # Refused requests did not use the refresh token up.
    same = await token_request(
        http, app, grant_type="refresh_token", refresh_token=first["refresh_token"], scope="read"
    )
    assert same.status_code == 200 and same.json()["scope"] == "read"


async def test_grant_type_and_body_errors(web: WebFactory, api_factory: ApiFactory) -> None:
    _, http, app = await _setup(web, api_factory)
    auth = (app["clientId"], app["clientSecret"])
    unsupported = await http.post("/oauth/token", data={"grant_type": "password"}, auth=auth)
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    missing = await http.post("/oauth/token", data={}, auth=auth)
    assert missing.json()["error"] == "invalid_request"
    as_json = await http.post("/oauth/token", json={"grant_type": "refresh_token"}, auth=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    twice = await http.post(
        "/oauth/token",
        content="grant_type=a&grant_type=b",
        auth=auth,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.json()["error"] == "invalid_request"
    got = await http.get("/oauth/token")
    assert got.status_code == 400 and got.json()["error"] == "invalid_request"


async def test_an_access_token_expires_after_an_hour(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    clock = FrozenClock()
    api_factory.services.clock = clock
    person, http, app = await _setup(web, api_factory)
    tokens = await tokens_for(person, http, app)
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 200
    clock.advance(seconds=3601)
    expired = await call(http, tokens["access_token"], "get-profile")
    assert expired.status_code == 401 and expired.json()["code"] == "token-expired"
    assert expired.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    refreshed = await token_request(
        http, app, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200


async def test_two_exchanges_of_one_code_at_once_give_one_pair(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, http, app = await _setup(web, api_factory)
    code, verifier = await code_for(person, app)
    answers = await asyncio.gather(*(exchange(http, app, code, verifier) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]


async def test_echoed_input_never_breaks_an_error(web: WebFactory, api_factory: ApiFactory) -> None:
    """error_description may hold no quote, backslash or non-ASCII: what the
    request said is echoed with those replaced, not a 500."""
    person, http, app = await _setup(web, api_factory)
    tokens = await tokens_for(person, http, app)
    for scope in ('read "x', "read \\x", "read é"):
        answer = await token_request(
            http,
            app,
            grant_type="refresh_token",
            refresh_token=tokens["refresh_token"],
            scope=scope,
        )
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope", scope
    twice = await http.post(
        "/oauth/token",
        content="%22%C3%A9=1&%22%C3%A9=2",
        auth=(app["clientId"], app["clientSecret"]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_request"


async def test_a_client_id_no_client_could_have_is_invalid_client(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    _, http, app = await _setup(web, api_factory)
    for client_id in ("ab\x00c", "é" * 24, app["clientId"] + "x"):
        answer = await http.post(
            "/oauth/token", data={"grant_type": "refresh_token", "client_id": client_id}
        )
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
