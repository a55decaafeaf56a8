"""Run one command: check auth and scope, validate params, run the handler in
one transaction, and answer its result."""

from __future__ import annotations

import math
from typing import Any

import pydantic

from hookline.auth.identity import (
    Credentials,
    Identity,
    check_credentials,
    identify_in,
    record_usage,
    usage_due,
)
from hookline.codec import MAX_DEPTH
from hookline.errors import AuthenticationError, AuthorizationError, ValidationError
from hookline.events import outbox
from hookline.rpc.context import CallInfo, Context
from hookline.rpc.registry import CommandSpec, Registry
from hookline.services import Services
from hookline.storage.transaction import Transaction


def _field_name(loc: tuple[int | str, ...]) -> str:
    from pydantic.alias_generators import to_camel

    return ".".join(to_camel(p) if isinstance(p, str) else str(p) for p in loc) or "params"


def _text_problem(text: str) -> str | None:
    """Why a string cannot be stored: PostgreSQL text holds no NUL character,
    and neither database (nor UTF-8) holds a lone surrogate."""
    if "\x00" in text:
        return "must not contain NUL characters"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "must not contain lone surrogates (\\ud800-\\udfff)"
    return None


def _unstorable(raw: dict[str, Any]) -> list[dict[str, str]]:
    """Strings (keys included) and numbers in the params, at any depth, that
    no column or JSON document can hold. Walked with a stack, not recursion,
    and no deeper than the decoders allow."""
    problems: list[dict[str, str]] = []
    stack: list[tuple[tuple[int | str, ...], Any]] = [((), raw)]
    while stack:
        loc, value = stack.pop()
        if len(loc) > MAX_DEPTH:
            problems.append({"field": _field_name(loc[:1]), "message": "is nested too deeply"})
        elif isinstance(value, str):
            message = _text_problem(value)
            if message:
                problems.append({"field": _field_name(loc), "message": message})
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append({"field": _field_name(loc), "message": "must be a finite number"})
        elif isinstance(value, dict):
            for key, item in value.items():
                message = _text_problem(key) if isinstance(key, str) else None
                if message:
                    problems.append({"field": _field_name(loc), "message": f"keys {message}"})
                else:
                    stack.append(((*loc, str(key)), item))
        elif isinstance(value, list | tuple):
            stack.extend(((*loc, index), item) for index, item in enumerate(value))
    return problems


def validate_params(spec: CommandSpec, raw: dict[str, Any]) -> pydantic.BaseModel:
    problems = _unstorable(raw)
    if problems:
        hint = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:10])
        raise ValidationError("params-validation", hint, details=problems[:10])
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
    registry: Registry,
    spec: CommandSpec,
    raw_params: dict[str, Any],
    identity: Identity | None,
    call: CallInfo | None = None,
    *,
    credentials: Credentials | None = None,
) -> Any:
    """Run a command in one transaction. Given ``credentials`` instead of an
    ``identity``, the caller is looked up inside that same transaction."""
    call = call or CallInfo()
    params: pydantic.BaseModel | None = None
    if credentials is None:
        _admit(spec, identity)
        params = validate_params(spec, raw_params)
    else:
        credentials = check_credentials(services, credentials)
    if spec.prepare is not None:
        if params is None:
            params = validate_params(spec, raw_params)
        await spec.prepare(services, call, params)
    transaction = (
        services.db.read(bulk=spec.bulk) if spec.is_query else services.db.write(bulk=spec.bulk)
    )
    async with transaction as conn:
        if credentials is not None:
            identity = await identify_in(services, conn, credentials)
            _admit(spec, identity)
        if params is None:
            params = validate_params(spec, raw_params)
        postgres = not services.db.is_sqlite
        tx = Transaction(
            conn,
            services.clock.now(),
            postgres=postgres,
            tell_in_commit=services.tell_in_commit if postgres else None,
        )
        ctx = Context(services, tx, identity, call, registry, read_only=spec.is_query)
        result = await spec.handler(ctx, params)
        if spec.webhook and ctx.events:
            profile_id = identity.profile_id if identity is not None else None
            await outbox.record_drafts(services, tx, spec.name, params, ctx.events, profile_id)
        await tx.send_pending(last=True)
    for callback in ctx.after_commit:
        callback()
    if tx.announce_search or tx.announced:
        services.tell_workers(None if tx.announce_search else tx.announced)
    if credentials is not None:
        due = usage_due(services, identity)
        if due is not None:
            await record_usage(services, due, credentials.client_ip)
    return result
