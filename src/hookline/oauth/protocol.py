"""The protocol's errors and parameters, as Authlib models them (untyped
there, so wrapped here once)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import errors
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.responses import JSONResponse, RedirectResponse, Response

OAuth2Error = errors.OAuth2Error
InvalidRequestError = errors.InvalidRequestError
InvalidClientError = errors.InvalidClientError
InvalidGrantError = errors.InvalidGrantError
UnauthorizedClientError = errors.UnauthorizedClientError
UnsupportedGrantTypeError = errors.UnsupportedGrantTypeError
UnsupportedResponseTypeError = errors.UnsupportedResponseTypeError
InvalidScopeError = errors.InvalidScopeError
AccessDeniedError = errors.AccessDeniedError

# RFC 7636 §4.1: 43 to 128 unreserved characters (the challenge, S256 of it,
# is 43 base64url characters).
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def printable(text: str) -> str:
    """``text`` with what an ``error_description`` may not hold (RFC 6749
    §5.2: no quote, backslash or non-ASCII) replaced, for descriptions that
    echo the request."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    challenge: str = create_s256_code_challenge(verifier)
    return challenge


def invalid_client(description: str) -> Any:
    """401 with ``WWW-Authenticate: Basic``: RFC 6749 §5.2 requires it when
    the client sent Basic credentials, and it tells others which scheme works."""
    return InvalidClientError(description=description, status_code=401)


def error_response(error: Any) -> Response:
    """An RFC 6749 §5.2 error: JSON ``{error, error_description}``."""
    status, body, headers = error()
    response = JSONResponse(body, status_code=status)
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def redirect_with(uri: str, params: Sequence[tuple[str, str]]) -> Response:
    """Back to the client with ``params`` added to its query (RFC 6749 §4.1.2)."""
    return RedirectResponse(add_params_to_uri(uri, list(params)), status_code=303)


def redirect_error(error: Any, uri: str, state: str | None) -> Response:
    params = [(name, str(value)) for name, value in error.get_body()]
    if state is not None:
        params.append(("state", state))
    return redirect_with(uri, params)
