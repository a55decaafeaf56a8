"""Reading an authorization request (RFC 6749 §4.1.1 with RFC 7636 §4.3).

Until the client and its redirect URI are known to be genuine nothing is
sent to that URI: those errors are shown to the person (§4.1.2.1), so the
server never redirects anywhere on an attacker's word. Every later error
goes back to the client, with its ``state``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.oauth import scopes
from hookline.oauth.protocol import (
    CHALLENGE,
    InvalidRequestError,
    InvalidScopeError,
    UnsupportedResponseTypeError,
    printable,
)
from hookline.oauth.store import Application, find_application

PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
MAX_STATE = 1000


class NotRedirectable(Exception):
    """The client or redirect URI cannot be trusted: tell the person."""


class ClientError(Exception):
    """An error for the client, sent to its redirect URI."""

    def __init__(self, error: object, redirect_uri: str, state: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True)
class AuthorizationRequest:
    application: Application
    redirect_uri: str
    scopes: frozenset[str]
    state: str | None
    code_challenge: str

    @property
    def scope(self) -> str:
        return scopes.render(self.scopes)

    @property
    def redirect_origin(self) -> str:
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"

    def fields(self) -> list[tuple[str, str]]:
        """The request again, as the consent form's hidden fields."""
        values = [
            ("response_type", "code"),
            ("client_id", self.application.client_id),
            ("redirect_uri", self.redirect_uri),
            ("scope", self.scope),
            ("code_challenge", self.code_challenge),
            ("code_challenge_method", "S256"),
        ]
        if self.state is not None:
            values.append(("state", self.state))
        return values


async def read_request(
    conn: AsyncConnection, pairs: Sequence[tuple[str, str]]
) -> AuthorizationRequest:
    params: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in pairs:
        if name in PARAMS:
            if name in params:
                repeated.append(name)
            params[name] = value
    client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
    if {"client_id", "redirect_uri"} & set(repeated):
        raise NotRedirectable("The request names its application or return address twice.")
    application = await find_application(conn, client_id) if client_id else None
    if application is None:
        raise NotRedirectable("The application that sent you here is not registered.")
    if not redirect_uri:
        raise NotRedirectable("The application did not say where to send you back.")
    if redirect_uri not in application.redirect_uris:
        raise NotRedirectable(
            "The application asked to send you back to an address it has not registered."
        )
    state = params.get("state")
    if state is not None and len(state) > MAX_STATE:
        state = None

    def fail(error: object) -> ClientError:
        return ClientError(error, redirect_uri, state)

    if repeated:
        raise fail(InvalidRequestError(description=f"{repeated[0]} is sent more than once"))
    if state is None and "state" in params:
        raise fail(InvalidRequestError(description=f"state is at most {MAX_STATE} characters"))
    response_type = params.get("response_type")
    if not response_type:
        raise fail(InvalidRequestError(description="response_type is required"))
    if response_type != "code":
        raise fail(
            UnsupportedResponseTypeError(response_type, description="response_type must be code")
        )
    challenge = params.get("code_challenge")
    if not challenge:
        raise fail(
            InvalidRequestError(description="code_challenge is required: every client uses PKCE")
        )
    if params.get("code_challenge_method") != "S256":
        raise fail(InvalidRequestError(description="code_challenge_method must be S256"))
    if not CHALLENGE.fullmatch(challenge):
        raise fail(InvalidRequestError(description="code_challenge is not an S256 challenge"))
    try:
        asked = scopes.parse(params.get("scope"))
    except scopes.ScopeError as error:
        raise fail(InvalidScopeError(description=printable(str(error)))) from None
    return AuthorizationRequest(application, redirect_uri, asked, state, challenge)
