"""Run one command: check auth and scope, validate params, run the handler in
one transaction, and answer its result."""

from __future__ import annotations

from typing import Any

import pydantic

from hookline.auth.identity import (
    Credentials,
    Identity,
    check_credentials,
    identify_in,
    note_usage,
)
from hookline.errors import AuthenticationError, AuthorizationError, ValidationError
from hookline.events import outbox
from hookline.rpc.context import CallInfo, Context
from hookline.rpc.registry import CommandSpec
from hookline.services import Services


def _field_name(loc: tuple[int | str, ...]) -> str:
    from pydantic.alias_generators import to_camel

    return ".".join(to_camel(p) if isinstance(p, str) else str(p) for p in loc) or "params"


def _nul_fields(value: Any, loc: tuple[int | str, ...] = ()) -> list[str]:
    """Where a NUL character hides in the params: PostgreSQL text cannot hold
    one, so it must be refused as bad input rather than fail in the database."""
    if isinstance(value, str):
        return [_field_name(loc)] if "\x00" in value else []
    if isinstance(value, dict):
        return [f for key, item in value.items() for f in _nul_fields(item, (*loc, str(key)))]
    if isinstance(value, list):
        return [f for index, item in enumerate(value) for f in _nul_fields(item, (*loc, index))]
    return []


def validate_params(spec: CommandSpec, raw: dict[str, Any]) -> pydantic.BaseModel:
    nul = _nul_fields(raw)
    if nul:
        problems = [{"field": field, "message": "must not contain NUL characters"} for field in nul]
        hint = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise ValidationError("params-validation", hint, details=problems)
    try:
        return spec.params.model_validate(raw)
    except pydantic.ValidationError as exc:
        problems = [
            {"field": _field_name(err["loc"]), "message": err["msg"]} for err in exc.errors()
        ]
        hint = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise ValidationError("params-validation", hint, details=problems) from None


def _admit(spec: CommandSpec, identity: Identity | None) -> None:
    if spec.auth and identity is None:
        raise AuthenticationError("authentication-required", "log in or send a token")
    if identity is None:
        return
    if identity.via == "oauth":
        granted = identity.scope.split()
        if not spec.oauth_scopes.intersection(granted):
            needed = " or ".join(sorted(spec.oauth_scopes)) or "a personal token or a session"
            raise AuthorizationError(
                "insufficient-scope",
                f"this application's token ({' '.join(granted)}) may not call {spec.name}; "
                f"it needs {needed}",
            )
    elif identity.scope == "read" and not spec.is_query:
        raise AuthorizationError(
            "insufficient-scope", "this token is read-only: it may call get-* commands only"
        )


async def execute(
    services: Services,
    spec: CommandSpec,
    raw_params: dict[str, Any],
    identity: Identity | None,
    call: CallInfo | None = None,
    *,
    credentials: Credentials | None = None,
) -> Any:
    """Run a command in one transaction. Given ``credentials`` instead of an
    ``identity``, the caller is looked up inside that same transaction."""
    if credentials is None:
        _admit(spec, identity)
        params = validate_params(spec, raw_params)
    else:
        check_credentials(services, credentials)
    transaction = services.db.read() if spec.is_query else services.db.write(bulk=spec.bulk)
    async with transaction as conn:
        if credentials is not None:
            identity = await identify_in(services, conn, credentials)
            _admit(spec, identity)
            params = validate_params(spec, raw_params)
        ctx = Context(
            services,
            conn,
            identity,
            call or CallInfo(),
            services.clock.now(),
            read_only=spec.is_query,
        )
        result = await spec.handler(ctx, params)
        if spec.webhook and ctx.events:
            await outbox.record_command_events(ctx, spec.name, params)
    for callback in ctx.after_commit:
        callback()
    if credentials is not None:
        await note_usage(services, identity, credentials.client_ip)
    return result
