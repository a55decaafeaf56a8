"""HTTP transport for commands: ``/api/rpc/command/<name>``, and the same at
``/api/main/methods/<name>``, the path older Penpot clients call."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookline import codec
from hookline.auth import tokens
from hookline.auth.cache import IdentityCache
from hookline.auth.identity import Credentials
from hookline.auth.sessions import COOKIE_NAME
from hookline.errors import (
    AuthenticationError,
    HooklineError,
    InternalError,
    NotFound,
    RestrictionError,
    Unavailable,
    ValidationError,
)
from hookline.oauth import secrets as oauth_secrets
from hookline.rpc import forgery, multipart
from hookline.rpc.context import CallInfo
from hookline.rpc.execute import execute
from hookline.rpc.models import Download
from hookline.rpc.registry import Registry
from hookline.services import Services
from hookline.storage.database import is_database_outage

log = logging.getLogger("hookline.rpc")

# ``?_fmt=`` chooses the answer's format; it is no param of any command.
FORMAT_PARAM = forgery.FORMAT_PARAM
ANSWER_FORMATS = {"json": False, "transit": True}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> RestrictionError:
    return RestrictionError("payload-too-large", f"the body is larger than {limit} bytes")


def encode_result(spec_result: Any, adapter: Any, transit: bool, cache: IdentityCache) -> Response:
    """The answer to a command. A kept profile (``cache``) is encoded as
    JSON once, not on every request that answers it."""
    if transit:
        data = adapter.dump_python(spec_result, mode="python")
        return Response(codec.encode_transit(data), media_type=codec.TRANSIT)
    body = cache.json_answer(spec_result, adapter)
    if body is None:
        body = adapter.dump_json(spec_result, by_alias=True)
        cache.keep_json_answer(spec_result, adapter, body)
    return Response(body, media_type=codec.JSON)


def unexpected_error() -> InternalError:
    """What a caller is told of a failure of ours (the details are logged)."""
    return InternalError("unexpected-error", "something went wrong on our side; it is logged")


def error_response(error: HooklineError, transit: bool) -> Response:
    body = error.to_dict()
    content = codec.encode_transit(body) if transit else codec.encode_json(body)
    return Response(
        content,
        status_code=error.status,
        media_type=codec.TRANSIT if transit else codec.JSON,
        headers=error.headers(),
    )


def apply_cookies(response: Response, call: CallInfo, secure: bool) -> None:
    for change in call.cookies:
        if change.value is None:
            response.delete_cookie(change.name, httponly=True, samesite="lax", secure=secure)
        else:
            response.set_cookie(
                change.name,
                change.value,
                max_age=change.max_age,
                httponly=True,
                samesite="lax",
                secure=secure,
            )


def bearer_challenge(authorization: str | None, error: HooklineError) -> str | None:
    """RFC 6750 §3: a request with a Bearer token that is refused for it
    says why in ``WWW-Authenticate``, as OAuth client libraries expect."""
    if authorization is None or not authorization.strip().lower().startswith("bearer "):
        return None
    if error.type == "authentication":
        hint = error.hint.replace('"', "'")
        return f'Bearer error="invalid_token", error_description="{hint}"'
    if error.code == "insufficient-scope":
        return 'Bearer error="insufficient_scope"'
    return None


def answer_format(request: Request) -> bool:
    """Whether the answer is Transit: ``?_fmt=transit`` or ``?_fmt=json``
    decides, whatever ``Accept`` says (a link or a client that cannot set
    headers); without it, ``Accept``."""
    given = request.query_params.getlist(FORMAT_PARAM)
    if not given:
        return codec.wants_transit(request.headers.get("accept"))
    if len(given) > 1 or given[0] not in ANSWER_FORMATS:
        raise ValidationError(
            "bad-answer-format",
            f"{FORMAT_PARAM} chooses the answer's format: json or transit, given once",
            field=FORMAT_PARAM,
        )
    return ANSWER_FORMATS[given[0]]


_TOKEN_QUERY_KEYS = frozenset({"access_token", "auth_token", "authorization", "api_key"})


def _refuse_tokens_in_query(request: Request) -> None:
    """URLs end up in logs, histories and referrers: a token there is refused."""
    for key, value in request.query_params.multi_items():
        if key.lower().replace("-", "_") in _TOKEN_QUERY_KEYS or value.startswith(
            (tokens.PREFIX, *oauth_secrets.PREFIXES)
        ):
            raise AuthenticationError(
                "token-in-query",
                "send tokens in the Authorization header, never in the URL",
            )


async def rpc_endpoint(request: Request) -> Response:
    services: Services = request.app.state.services
    registry: Registry = request.app.state.registry
    name = request.path_params["name"]
    transit = codec.wants_transit(request.headers.get("accept"))
    request.state.command = name
    # Most calls carry no query string: its parsing is then skipped.
    has_query = bool(request.scope.get("query_string"))
    try:
        if has_query:
            transit = answer_format(request)
        spec = registry.get(name)
        if spec is None:
            raise NotFound("command-not-found", f"there is no command named {name!r}")
        if request.method in ("GET", "HEAD"):
            if not spec.is_query:
                raise RestrictionError(
                    "method-not-allowed", f"{name} changes data: send it with POST"
                )
        elif request.method != "POST":
            raise RestrictionError("method-not-allowed", "commands take GET or POST")
        params: dict[str, Any] = {}
        if has_query:
            query = {k: v for k, v in request.query_params.items() if k != FORMAT_PARAM}
            params = codec.normalize_keys(query)
            _refuse_tokens_in_query(request)
        if request.method == "POST":
            if forgery.is_cookie_write(request, spec):
                forgery.check_cookie_write(request, services.settings.public_url)
            body = await read_body(request, services.settings.max_body_bytes)
            if body.strip():
                content_type = request.headers.get("content-type", codec.JSON)
                if multipart.is_form(content_type):
                    params.update(await multipart.decode_form(body, request.headers))
                else:
                    params.update(codec.decode_body(body, content_type))
        call = CallInfo(client_ip=client_ip(request), session_key=request.cookies.get(COOKIE_NAME))
        credentials = Credentials(
            request.headers.get("authorization"), call.session_key, call.client_ip
        )
        result = await execute(
            services, registry, spec, params, None, call, credentials=credentials
        )
        if result is None:
            response = Response(status_code=204)
        elif isinstance(result, Download):
            response = Response(
                result.content,
                media_type=result.media_type,
                headers={"content-disposition": f'attachment; filename="{result.filename}"'},
            )
        else:
            response = encode_result(result, spec.result_adapter, transit, services.identity_cache)
        apply_cookies(response, call, services.settings.public_url.startswith("https://"))
        return response
    except HooklineError as error:
        request.state.error_code = error.code
        response = error_response(error, transit)
        challenge = bearer_challenge(request.headers.get("authorization"), error)
        if challenge is not None:
            response.headers["WWW-Authenticate"] = challenge
        return response
    except Exception as error:
        if is_database_outage(error):
            log.warning("database unavailable", extra={"command": name})
            request.state.error_code = "database-unavailable"
            return error_response(Unavailable(), transit)
        log.exception("command failed", extra={"command": name})
        request.state.error_code = "unexpected-error"
        return error_response(
            unexpected_error(),
            transit,
        )
