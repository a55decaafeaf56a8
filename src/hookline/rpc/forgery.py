"""Cookie-authenticated writes come from Hookline's own pages, or not at all.

A browser attaches the session cookie to every request for this host, whoever's
page sends it. A page of another origin (another site, or the same site on
another port or subdomain) may send "simple" requests without asking: form
posts, ``text/plain`` bodies, a query string. A JSON or Transit content type
makes the browser ask first (a CORS preflight, which Hookline never grants).

So a command that changes data, sent with the session cookie and no token,
takes its params only from a body of one of those content types, and its
``Sec-Fetch-Site`` (or, from browsers without it, ``Origin``) must name this
origin. Requests with neither header are not from a browser's page and pass;
token-authenticated calls and calls without the cookie are not concerned."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from starlette.requests import Request

from hookline import codec
from hookline.auth.sessions import COOKIE_NAME
from hookline.errors import AuthorizationError
from hookline.rpc.registry import CommandSpec

BODY_TYPES = (codec.JSON, codec.TRANSIT)
# File uploads (import-binfile): multipart, taken from a cookie-holding
# browser only when it names this origin.
UPLOAD = "multipart/form-data"
# "none": the person started the request (address bar, bookmark), not a page.
_TRUSTED_FETCH_SITES = ("same-origin", "none")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# ``?_fmt=json|transit`` only chooses the answer's format: it carries no
# param, so it may sit in the query of any request.
FORMAT_PARAM = "_fmt"


def is_cookie_write(request: Request, spec: CommandSpec) -> bool:
    """A command that changes data, sent by a browser holding a session."""
    return (
        not spec.is_query
        and bool(request.cookies.get(COOKIE_NAME))
        and "authorization" not in request.headers
    )


def check_cookie_write(request: Request, public_url: str) -> None:
    """Refuse (403) a cookie-authenticated write another origin could have sent."""
    if not _from_own_origin(request, public_url):
        raise AuthorizationError(
            "cross-origin-request",
            "a command that changes data, sent with a session cookie, must come from "
            "Hookline's own pages; programs send an access token instead",
        )
    if any(key != FORMAT_PARAM for key in request.query_params):
        raise AuthorizationError(
            "params-in-query",
            "with a session cookie, a command that changes data takes its params "
            "from the body only, never from the query string",
        )
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == UPLOAD and _says_own_origin(request, public_url):
        return  # a file upload from Hookline's own page (see _says_own_origin)
    if media not in BODY_TYPES:
        raise AuthorizationError(
            "json-body-required",
            "with a session cookie, send a command that changes data with "
            f"content-type {codec.JSON} or {codec.TRANSIT}",
        )


def _says_own_origin(request: Request, public_url: str) -> bool:
    """The browser said the request comes from this origin. A form a page
    of any origin may post (multipart, for file uploads) is taken only then,
    not from a client that sends neither header."""
    said = "sec-fetch-site" in request.headers or "origin" in request.headers
    return said and _from_own_origin(request, public_url)


def _from_own_origin(request: Request, public_url: str) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() in _TRUSTED_FETCH_SITES
    origin = request.headers.get("origin")
    if origin is None:
        return True
    given = _origin(origin)
    if given is None:
        return False
    # The public address, or the address this request was sent to (the same
    # unless a proxy changes it).
    own = {_origin(public_url)}
    host = request.headers.get("host")
    if host:
        own.add(_origin(f"{request.scope.get('scheme', 'http')}://{host}"))
    return given in own


@functools.lru_cache(maxsize=256)
def _origin(url: str) -> str | None:
    """``scheme://host:port`` with the default port spelt out, or None
    (``null``, a malformed value)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return f"{scheme}://{parts.hostname}:{port or _DEFAULT_PORTS[scheme]}"
