"""The whole flow as a third-party application runs it: Authlib's
``OAuth2Session`` (requests) with PKCE against a real ``hookline serve``, the person's
consent given over HTTP with their session (the browser test clicks it)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from tests.reliability.harness import Server
from tests.web.client import csrf_token
from tests.web.live import ApiCaller, register, running_server

pytestmark = pytest.mark.integration

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("oauth")) as served:
        yield served


def _person(server: Server) -> str:
    email = f"ada-{time.monotonic_ns()}@example.com"
    return register(server.base, email, "Ada")


def _consent(server: Server, session: str, url: str) -> str:
    """What the person's browser does: open the page, press Allow. Answers
    the address the application is sent back to."""
    with httpx.Client(cookies={"hookline_session": session}, timeout=10) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        fields = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page.text))
        fields["csrf_token"] = csrf_token(page.text)
        fields["decision"] = "allow"
        answer = browser.post(f"{server.base}/oauth/authorize", data=fields)
        assert answer.status_code == 303, answer.text
        location: str = answer.headers["location"]
        return location


def _client(server: Server, app: dict[str, Any], **kw: Any) -> OAuth2Session:
    method = "client_secret_basic" if app["confidential"] else "none"
    return OAuth2Session(
        client_id=app["clientId"],
        client_secret=app["clientSecret"],
        redirect_uri=CALLBACK,
        scope="read write",
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
        **kw,
    )


def _authorize(server: Server, session: str, client: OAuth2Session) -> dict[str, Any]:
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        f"{server.base}/oauth/authorize", code_verifier=verifier
    )
    back = _consent(server, session, url)
    assert f"state={state}" in back
    token: dict[str, Any] = client.fetch_token(
        f"{server.base}/oauth/token", authorization_response=back, code_verifier=verifier
    )
    return token


@pytest.mark.parametrize("confidential", [True, False])
def test_register_authorize_call_refresh_revoke(server: Server, confidential: bool) -> None:
    session = _person(server)
    person = ApiCaller(server.base, session=session)
    app = person.call(
        "create-oauth-application",
        {"name": "Board sync", "redirectUris": [CALLBACK], "confidential": confidential},
    )
    client = _client(server, app)
    first = _authorize(server, session, client)
    assert first["token_type"] == "Bearer" and first["scope"] == "read write"
    me = client.post(f"{server.base}/api/rpc/command/get-profile", json={})
    assert me.status_code == 200 and me.json()["id"] == person.call("get-profile")["id"]
    team = client.post(f"{server.base}/api/rpc/command/create-team", json={"name": "Via app"})
    assert team.status_code == 200

    second = client.refresh_token(f"{server.base}/oauth/token")
    assert second["refresh_token"] != first["refresh_token"]
    assert client.post(f"{server.base}/api/rpc/command/get-teams", json={}).status_code == 200
    replay = _client(server, app, token=first)
    with pytest.raises(OAuthError) as reused:
        replay.refresh_token(f"{server.base}/oauth/token")
    assert reused.value.error == "invalid_grant"
    # The reuse ended the grant: the current tokens are dead too.
    assert client.post(f"{server.base}/api/rpc/command/get-teams", json={}).status_code == 401

    third = _authorize(server, session, client)
    assert client.post(f"{server.base}/api/rpc/command/get-teams", json={}).status_code == 200
    revoked = client.revoke_token(f"{server.base}/oauth/revoke", token=third["refresh_token"])
    assert revoked.status_code == 200
    assert client.post(f"{server.base}/api/rpc/command/get-teams", json={}).status_code == 401
    reasons = [g["revokedReason"] for g in person.call("get-oauth-grants")]
    assert reasons == ["client", "refresh-reused"]
    person.close()
    client.close()
    replay.close()


def test_metadata_names_what_the_client_needs(server: Server) -> None:
    document = httpx.get(f"{server.base}/.well-known/oauth-authorization-server").json()
    assert document["issuer"] == server.base
    assert document["authorization_endpoint"] == f"{server.base}/oauth/authorize"
    assert "none" in document["token_endpoint_auth_methods_supported"]


def test_consent_for_a_signed_out_person_goes_through_sign_in(server: Server) -> None:
    person = ApiCaller(server.base, session=_person(server))
    app = person.call("create-oauth-application", {"name": "Sync", "redirectUris": [CALLBACK]})
    person.close()
    with _client(server, app) as client:
        url, _ = client.create_authorization_url(
            f"{server.base}/oauth/authorize", code_verifier=generate_token(64)
        )
    answer = httpx.get(url)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
