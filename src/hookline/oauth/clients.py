"""Client authentication at the token, revocation and introspection
endpoints (RFC 6749 §2.3): ``client_secret_basic``, ``client_secret_post``,
or for a public client its ``client_id`` alone (``none``)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.auth.hashing import same
from hookline.oauth import secrets
from hookline.oauth.protocol import InvalidRequestError, invalid_client
from hookline.oauth.store import Application, find_application

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def _basic(authorization: str) -> tuple[str, str] | None:
    """The client id and secret of a Basic header, form-url-decoded
    (RFC 6749 §2.3.1); None when the header is not Basic."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client("the Basic credentials cannot be decoded") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise invalid_client("the Basic credentials hold no client secret")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def presented(authorization: str | None, form: Mapping[str, str]) -> tuple[str, str | None]:
    """The client id and secret the request carries, by exactly one method."""
    basic = _basic(authorization) if authorization else None
    if basic is not None:
        if "client_secret" in form:
            raise InvalidRequestError(
                description="send the client secret in one place: the Basic header or the body"
            )
        if "client_id" in form and form["client_id"] != basic[0]:
            raise InvalidRequestError(description="client_id differs from the Basic header")
        return basic
    client_id = form.get("client_id")
    if not client_id:
        raise invalid_client("authenticate the client: Basic header, or client_id in the body")
    return client_id, form.get("client_secret")


async def authenticate(
    conn: AsyncConnection,
    server_secret: bytes,
    authorization: str | None,
    form: Mapping[str, str],
) -> Application:
    """The registered client making the request, or ``invalid_client``."""
    client_id, secret = presented(authorization, form)
    application = await find_application(conn, client_id)
    if application is None:
        raise invalid_client("unknown client")
    if not application.confidential:
        if secret:
            raise invalid_client("a public client has no secret")
        return application
    if not secret or application.secret_hash is None:
        raise invalid_client("this client authenticates with its client secret")
    given = secrets.value_hash(server_secret, secret, secrets.SECRET_PREFIX)
    if not secrets.well_formed(secret, secrets.SECRET_PREFIX) or not same(
        given, application.secret_hash
    ):
        raise invalid_client("wrong client secret")
    return application
