"""/oauth/authorize: what is shown to the person, what goes back to the
client (RFC 6749 §4.1.2.1), and the consent page itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.helpers import ApiFactory
from tests.oauth.flow import REDIRECT, authorize_url, consent, pkce, query, register
from tests.web.client import WebFactory, text


async def test_consent_page_says_who_wants_what(web: WebFactory) -> None:
    person = await web.user("ada")
    assert person.api is not None
    app = await register(person.api)
    _, challenge = pkce()
    page = await person.get(authorize_url(app, challenge, scope="read webhooks"))
    assert page.status_code == 200
    words = text(page.text)
    assert "Board sync wants to:" in words
    assert "read your profile, teams" in words and "manage the webhooks" in words
    assert "Allow" in words and "Deny" in words
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:8765;" in policy
    assert page.headers["cache-control"] == "no-store"


async def test_signed_out_visitors_sign_in_first(web: WebFactory) -> None:
    owner = await web.user()
    assert owner.api is not None
    app = await register(owner.api)
    visitor = await web.anonymous()
    url = authorize_url(app, pkce()[1])
    answer = await visitor.get(url)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2Foauth%2Fauthorize%3F")


async def test_allow_sends_code_and_state_deny_sends_access_denied(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    answer, params = await consent(person, authorize_url(app, pkce()[1], state="s t&x"))
    assert answer.headers["location"].startswith(REDIRECT + "?")
    assert params["state"] == "s t&x" and len(params["code"]) >= 43
    assert params["iss"] == "http://127.0.0.1:6060"
    _, denied = await consent(person, authorize_url(app, pkce()[1]), decision="deny")
    assert denied["error"] == "access_denied" and denied["state"] == "st-123"


async def test_consent_without_csrf_token_is_refused(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    url = authorize_url(app, pkce()[1])
    form = {k: v for k, v in (p.split("=", 1) for p in urlsplit(url).query.split("&"))}
    answer = await person.post("/oauth/authorize", {**form, "decision": "allow"})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "read admin"}, "invalid_scope"),
    ],
)
async def test_errors_go_back_to_the_client_with_state(
    web: WebFactory, overrides: dict[str, str], error: str
) -> None:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    answer = await person.get(authorize_url(app, pkce()[1], **overrides))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(REDIRECT + "?")
    params = query(answer.headers["location"])
    assert params["error"] == error and params["state"] == "st-123"


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "http://127.0.0.1:8765/callback/other"},
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": ""},
        {"client_id": "unknown"},
    ],
)
async def test_an_untrusted_client_or_redirect_is_never_followed(
    web: WebFactory, overrides: dict[str, str]
) -> None:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    answer = await person.get(authorize_url(app, pkce()[1], **overrides))
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_the_metadata_document(api_factory: ApiFactory) -> None:
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

    http = (await api_factory.anonymous()).client
    answer = await http.get("/.well-known/oauth-authorization-server")
    document = answer.json()
    AuthorizationServerMetadata(document).validate()
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["token_endpoint"] == "http://127.0.0.1:6060/oauth/token"


async def test_an_odd_scope_goes_back_as_invalid_scope(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    answer = await person.get(authorize_url(app, pkce()[1], scope='read "é\\'))
    assert answer.status_code == 303
    assert query(answer.headers["location"])["error"] == "invalid_scope"


async def test_a_client_id_with_a_nul_is_an_unknown_application(web: WebFactory) -> None:
    person = await web.user()
    answer = await person.get("/oauth/authorize?client_id=ab%00c&redirect_uri=https%3A%2F%2Fa")
    assert answer.status_code == 400 and "not registered" in text(answer.text)
