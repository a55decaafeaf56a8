"""The steps of the authorization code flow, as a third-party application
and the person's browser take them, over the in-memory app."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.helpers import Api
from tests.web.client import WebClient, csrf_token

REDIRECT = "http://127.0.0.1:8765/callback"


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register(
    owner: Api, *, confidential: bool = True, uris: list[str] | None = None
) -> dict[str, Any]:
    created: dict[str, Any] = await owner.call(
        "create-oauth-application",
        {"name": "Board sync", "redirectUris": uris or [REDIRECT], "confidential": confidential},
    )
    return created


def authorize_url(app: dict[str, Any], challenge: str, **overrides: str) -> str:
    params = {
        "response_type": "code",
        "client_id": app["clientId"],
        "redirect_uri": app["redirectUris"][0],
        "scope": "read",
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v != ""})


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def consent(
    person: WebClient, url: str, decision: str = "allow"
) -> tuple[httpx.Response, dict[str, str]]:
    """Open the consent page and press a button; the redirect and its params."""
    page = await person.get(url)
    assert page.status_code == 200, page.text
    fields = dict(parse_qs(urlsplit(url).query, keep_blank_values=True))
    form = {k: v[0] for k, v in fields.items()}
    form.update({"csrf_token": csrf_token(page.text), "decision": decision})
    answer = await person.client.post("/oauth/authorize", data=form)
    assert answer.status_code == 303, answer.text
    return answer, query(answer.headers["location"])


async def code_for(person: WebClient, app: dict[str, Any], scope: str = "read") -> tuple[str, str]:
    """An authorization code and the verifier it is bound to."""
    verifier, challenge = pkce()
    _, params = await consent(person, authorize_url(app, challenge, scope=scope))
    return params["code"], verifier


def client_auth(app: dict[str, Any]) -> dict[str, Any]:
    """client_secret_basic for confidential clients, client_id for public ones."""
    if app["confidential"]:
        return {"auth": (app["clientId"], app["clientSecret"])}
    return {}


async def token_request(
    http: httpx.AsyncClient, app: dict[str, Any], **form: str
) -> httpx.Response:
    if not app["confidential"]:
        form.setdefault("client_id", app["clientId"])
    return await http.post("/oauth/token", data=form, **client_auth(app))


async def exchange(
    http: httpx.AsyncClient, app: dict[str, Any], code: str, verifier: str, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": app["redirectUris"][0],
        "code_verifier": verifier,
        **extra,
    }
    return await token_request(http, app, **form)


async def tokens_for(
    person: WebClient, http: httpx.AsyncClient, app: dict[str, Any], scope: str = "read"
) -> dict[str, Any]:
    code, verifier = await code_for(person, app, scope)
    answer = await exchange(http, app, code, verifier)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def call(
    http: httpx.AsyncClient,
    token: str,
    command: str,
    params: dict[str, Any] | None = None,
    scheme: str = "Bearer",
) -> httpx.Response:
    return await http.post(
        f"/api/rpc/command/{command}",
        json=params or {},
        headers={"authorization": f"{scheme} {token}"},
    )
