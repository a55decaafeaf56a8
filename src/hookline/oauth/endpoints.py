"""The OAuth endpoints programs call: token (RFC 6749 §3.2), revocation
(RFC 7009), introspection (RFC 7662) and the server's metadata (RFC 8414).
Their bodies are forms and their errors RFC 6749 §5.2 JSON, not the RPC
API's ``{type, code, hint}``: OAuth client libraries read these."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hookline.auth.cache import identity_changed
from hookline.auth.hashing import same
from hookline.errors import HooklineError, RateLimited
from hookline.oauth import clients, scopes, secrets, store
from hookline.oauth.protocol import (
    NO_STORE,
    VERIFIER,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnsupportedGrantTypeError,
    error_response,
    invalid_client,
    printable,
    s256,
)
from hookline.rpc.transport import client_ip, read_body
from hookline.services import Services
from hookline.storage.database import is_database_outage

log = logging.getLogger("hookline.oauth")

FORM = "application/x-www-form-urlencoded"


async def _form(request: Request, services: Services) -> dict[str, str]:
    """The request's form; a parameter sent twice is refused (RFC 6749 §3.1)."""
    if request.method != "POST":
        raise InvalidRequestError(description="send this request with POST")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise InvalidRequestError(description=f"send the parameters as {FORM}")
    body = await read_body(request, services.settings.max_body_bytes)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError(description="the form cannot be read") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequestError(description=f"{printable(name[:40])} is sent more than once")
        if value:
            form[name] = value
    return form


@dataclass
class Outcome:
    """What the transaction settled: tokens, or an error to answer once the
    revocation it caused has committed."""

    issued: store.Issued | None = None
    refused: Any = None
    revoked: bool = False


async def _exchange_code(
    services: Services, conn: AsyncConnection, application: store.Application, form: dict[str, str]
) -> Outcome:
    code, verifier = form.get("code"), form.get("code_verifier")
    if not code:
        raise InvalidRequestError(description="code is required")
    if not verifier:
        raise InvalidRequestError(description="code_verifier is required: every client uses PKCE")
    if not VERIFIER.fullmatch(verifier):
        raise InvalidRequestError(description="code_verifier must be 43 to 128 characters")
    secret = services.settings.secret_key
    now = services.clock.now()
    record = await store.find_code(conn, secrets.code_hash(secret, code))
    if record is None or record.application_id != application.id:
        raise InvalidGrantError(description="unknown code, or issued to another client")
    if record.used_at is not None:
        # RFC 6749 §4.1.2: a code sent twice may have been stolen; what it
        # produced is revoked.
        revoked = record.grant_id is not None and await store.revoke_grant(
            conn, record.grant_id, now, "code-reused"
        )
        return Outcome(
            refused=InvalidGrantError(
                description="this code was used before; the tokens it produced are revoked"
            ),
            revoked=revoked,
        )
    if record.expires_at <= now:
        raise InvalidGrantError(description="the code has expired")
    if form.get("redirect_uri") != record.redirect_uri:
        raise InvalidGrantError(description="redirect_uri differs from the authorization request")
    if not same(s256(verifier), record.code_challenge):
        raise InvalidGrantError(description="code_verifier does not match the code_challenge")
    if not await store.claim_code(conn, record.id, now):
        raise InvalidGrantError(description="this code was used before")
    return Outcome(issued=await store.open_grant(conn, secret, code=record, now=now))


async def _refresh(
    services: Services, conn: AsyncConnection, application: store.Application, form: dict[str, str]
) -> Outcome:
    value = form.get("refresh_token")
    if not value:
        raise InvalidRequestError(description="refresh_token is required")
    if not secrets.well_formed(value, secrets.REFRESH_PREFIX):
        raise InvalidGrantError(description="this is not a Hookline refresh token")
    secret = services.settings.secret_key
    now = services.clock.now()
    digest = secrets.value_hash(secret, value, secrets.REFRESH_PREFIX)
    row = await store.find_token(conn, digest)
    if row is None or row.kind != "refresh" or row.application_id != application.id:
        raise InvalidGrantError(description="unknown or revoked refresh token")
    # A rotated token sent again means two parties hold it: the grant ends.
    if row.rotated_at is not None or not await store.rotate_refresh_token(conn, row.id, now):
        revoked = await store.revoke_grant(conn, row.grant_id, now, "refresh-reused")
        return Outcome(
            refused=InvalidGrantError(
                description="this refresh token was used before; the grant is revoked"
            ),
            revoked=revoked,
        )
    if row.expires_at <= now:
        raise InvalidGrantError(description="the refresh token has expired")
    granted = frozenset(row.scope.split())
    try:
        asked = scopes.parse(form["scope"]) if "scope" in form else granted
    except scopes.ScopeError as error:
        raise InvalidScopeError(description=printable(str(error))) from None
    if not asked <= granted:
        raise InvalidScopeError(description="a refresh cannot add scopes to the grant")
    await store.drop_expired_tokens(conn, row.grant_id, now)
    issued = await store.issue(conn, secret, row.grant_id, scopes.render(asked), row.scope, now)
    return Outcome(issued=issued)


Grant = Callable[[Services, AsyncConnection, store.Application, dict[str, str]], Awaitable[Outcome]]
GRANTS: dict[str, Grant] = {
    "authorization_code": _exchange_code,
    "refresh_token": _refresh,
}


async def _guarded(request: Request, work: Callable[[Services], Awaitable[Response]]) -> Response:
    """Rate limit by address, answer OAuth errors as JSON, and never a
    traceback: a failure of ours is a 500 with ``server_error``."""
    services: Services = request.app.state.services
    address = f"ip:{client_ip(request)}"
    try:
        services.token_limiter.check(address)
        return await work(services)
    except OAuth2Error as error:
        if error.error in ("invalid_client", "invalid_grant"):
            services.token_limiter.record_failure(address)
        return error_response(error)
    except RateLimited as error:
        response = error_response(
            OAuth2Error(
                error="temporarily_unavailable",
                description=f"too many failed attempts; try again in {error.retry_after} s",
                status_code=429,
            )
        )
        response.headers.update(error.headers())
        return response
    except HooklineError as error:  # a body over the size limit
        return error_response(OAuth2Error(error="invalid_request", status_code=error.status))
    except Exception as error:
        if is_database_outage(error):
            response = error_response(
                OAuth2Error(
                    error="temporarily_unavailable",
                    description="the database cannot be reached; try again shortly",
                    status_code=503,
                )
            )
            response.headers["Retry-After"] = "1"
            return response
        log.exception("oauth endpoint failed", extra={"path": request.url.path})
        return error_response(
            OAuth2Error(error="server_error", description="something went wrong", status_code=500)
        )


async def token(request: Request) -> Response:
    """Codes and refresh tokens for access tokens (RFC 6749 §4.1.3, §6)."""

    async def work(services: Services) -> Response:
        form = await _form(request, services)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise InvalidRequestError(description="grant_type is required")
        grant = GRANTS.get(grant_type)
        if grant is None:
            error = UnsupportedGrantTypeError(grant_type)
            error.description = f"grant_type is one of: {', '.join(GRANTS)}"
            raise error
        after: list[Callable[[], None]] = []
        async with services.db.write() as conn:
            application = await clients.authenticate(
                conn, services.settings.secret_key, request.headers.get("authorization"), form
            )
            outcome = await grant(services, conn, application, form)
            if outcome.revoked:
                await identity_changed(services.identity_cache, conn, after)
        for callback in after:
            callback()
        issued = outcome.issued
        if issued is None:
            raise outcome.refused
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "refresh_token": issued.refresh_token,
                "scope": issued.scope,
            },
            headers=NO_STORE,
        )

    return await _guarded(request, work)


async def _presented_token(
    services: Services, conn: AsyncConnection, value: str
) -> store.TokenRow | None:
    for prefix in (secrets.ACCESS_PREFIX, secrets.REFRESH_PREFIX):
        if secrets.well_formed(value, prefix):
            digest = secrets.value_hash(services.settings.secret_key, value, prefix)
            return await store.find_token(conn, digest)
    return None


async def revoke(request: Request) -> Response:
    """RFC 7009: a client gives up a token. A refresh token ends its whole
    grant; an access token ends alone. Unknown tokens, and tokens of other
    clients, are answered 200 like the rest and left alone (§2.2)."""

    async def work(services: Services) -> Response:
        form = await _form(request, services)
        value = form.get("token")
        if not value:
            raise InvalidRequestError(description="token is required")
        after: list[Callable[[], None]] = []
        async with services.db.write() as conn:
            application = await clients.authenticate(
                conn, services.settings.secret_key, request.headers.get("authorization"), form
            )
            row = await _presented_token(services, conn, value)
            if row is not None and row.application_id == application.id:
                if row.kind == "refresh":
                    await store.revoke_grant(conn, row.grant_id, services.clock.now(), "client")
                else:
                    await store.delete_token(conn, row.id)
                await identity_changed(services.identity_cache, conn, after)
        for callback in after:
            callback()
        return Response(status_code=200, headers=NO_STORE)

    return await _guarded(request, work)


async def introspect(request: Request) -> Response:
    """RFC 7662, for confidential clients and their own tokens: anything
    else, expired or exchanged is ``{"active": false}``."""

    async def work(services: Services) -> Response:
        form = await _form(request, services)
        value = form.get("token")
        if not value:
            raise InvalidRequestError(description="token is required")
        async with services.db.read() as conn:
            application = await clients.authenticate(
                conn, services.settings.secret_key, request.headers.get("authorization"), form
            )
            if not application.confidential:
                raise invalid_client("introspection is for confidential clients")
            row = await _presented_token(services, conn, value)
        now = services.clock.now()
        if (
            row is None
            or row.application_id != application.id
            or row.expires_at <= now
            or row.rotated_at is not None
        ):
            return JSONResponse({"active": False}, headers=NO_STORE)
        return JSONResponse(
            {
                "active": True,
                "scope": row.scope,
                "client_id": row.client_id,
                "token_type": "Bearer" if row.kind == "access" else "refresh_token",
                "exp": int(row.expires_at.timestamp()),
                "iat": int(row.created_at.timestamp()),
                "sub": str(row.profile_id),
                "iss": services.settings.public_url,
            },
            headers=NO_STORE,
        )

    return await _guarded(request, work)


def metadata(public_url: str) -> dict[str, Any]:
    """RFC 8414 §2: what a client library needs to find everything else."""
    base = public_url.rstrip("/")
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "scopes_supported": list(scopes.SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANTS),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(clients.AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(clients.AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(clients.AUTH_METHODS[:2]),
        "service_documentation": f"{base}/api/_doc",
    }


async def metadata_endpoint(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONResponse(metadata(services.settings.public_url))
