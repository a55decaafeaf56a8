"""Request and response bodies: JSON (camelCase or kebab-case keys) and Transit."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from transit.reader import Reader
from transit.transit_types import Boolean, Keyword, Symbol
from transit.writer import Writer

from hookline.errors import ValidationError

JSON = "application/json"
TRANSIT = "application/transit+json"

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def to_snake(key: str) -> str:
    """``teamId``, ``team-id`` and ``team_id`` all name the same param."""
    return _CAMEL_BOUNDARY.sub("_", key).replace("-", "_").lower()


def to_kebab(key: str) -> str:
    return key.replace("_", "-")


def normalize_keys(params: dict[str, Any]) -> dict[str, Any]:
    return {to_snake(k): v for k, v in params.items()}


def _from_transit(value: Any) -> Any:
    if isinstance(value, Boolean):
        return bool(value)
    if isinstance(value, Keyword | Symbol):
        return str(value)
    if isinstance(value, Mapping):
        return {_key(k): _from_transit(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [_from_transit(v) for v in value]
    return value


def _key(key: Any) -> str:
    if isinstance(key, Keyword | Symbol | str):
        return str(key)
    raise ValidationError("malformed-transit", "map keys must be keywords or strings")


def decode_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a request body into params with snake_case keys."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == TRANSIT:
        try:
            data = _from_transit(Reader("json").read(io.StringIO(body.decode("utf-8"))))
        except ValidationError:
            raise
        except Exception:  # transit-python raises many kinds on bad input
            raise ValidationError(
                "malformed-transit", "the body is not valid Transit JSON"
            ) from None
    elif media in (JSON, "") or media.endswith("+json"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("malformed-json", "the body is not valid JSON") from None
    else:
        raise ValidationError(
            "unsupported-media-type",
            f"send {JSON} or {TRANSIT}, not {media}",
        )
    if not isinstance(data, dict):
        raise ValidationError("params-validation", "the body must be an object of params")
    return normalize_keys(data)


def wants_transit(accept: str | None) -> bool:
    return accept is not None and TRANSIT in accept.lower()


def encode_json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _to_transit(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            Keyword(to_kebab(k)) if isinstance(k, str) else k: _to_transit(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_to_transit(v) for v in value]
    if isinstance(value, set | frozenset):
        return frozenset(_to_transit(v) for v in value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID | datetime | str | int | float | bool) or value is None:
        return value
    return str(value)


def encode_transit(data: Any) -> bytes:
    """Python data with snake_case keys -> Transit with kebab-case keywords."""
    out = io.StringIO()
    Writer(out, "json").write(_to_transit(data))
    return out.getvalue().encode()
