"""Request and response bodies: JSON (camelCase or kebab-case keys) and Transit."""

from __future__ import annotations

import io
import json
import math
import re
from array import array
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from itertools import accumulate
from typing import Any
from uuid import UUID

from transit.reader import Reader
from transit.transit_types import URI, Boolean, Keyword, Symbol, TaggedValue
from transit.writer import Writer

from hookline.errors import ValidationError

JSON = "application/json"
TRANSIT = "application/transit+json"

# Arrays and objects nested deeper than this are refused before any parser
# (each of them recursive) sees the body. Params are never this deep.
MAX_DEPTH = 64

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
# Brackets as steps of depth (+1, -1 as signed bytes); every other byte dropped.
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def to_snake(key: str) -> str:
    """``teamId``, ``team-id`` and ``team_id`` all name the same param."""
    return _CAMEL_BOUNDARY.sub("_", key).replace("-", "_").lower()


def to_kebab(key: str) -> str:
    return key.replace("_", "-")


def normalize_keys(params: dict[str, Any]) -> dict[str, Any]:
    return {to_snake(k): v for k, v in params.items()}


def check_nesting(body: bytes) -> None:
    """Refuse a JSON body whose arrays and objects nest deeper than
    ``MAX_DEPTH``, counting the brackets outside strings. It needs no recursion
    and runs in C (about 25 ms for 1 MiB of brackets), before the parsers."""
    steps = _JSON_STRING.sub(b"", body).translate(_DEPTH_STEPS, _NOT_BRACKETS)
    if max(accumulate(array("b", steps)), default=0) > MAX_DEPTH:
        raise ValidationError(
            "nesting-too-deep", f"arrays and objects may nest at most {MAX_DEPTH} levels deep"
        )


def _refuse_constant(name: str) -> Any:
    raise ValidationError("malformed-json", f"{name} is not a JSON number")


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise ValidationError("malformed-json", "numbers must be finite")
    return number


def _finite_float(text: str) -> float:
    return _finite(float(text))


# One decoder for every body: json.loads given options builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def _from_transit(value: Any) -> Any:
    """Transit values as the JSON-shaped data a JSON body gives: ids and
    instants become their JSON strings, so they may sit anywhere in a document
    that is stored as JSON; what JSON cannot hold is refused."""
    if isinstance(value, Boolean):
        return bool(value)
    if isinstance(value, Keyword | Symbol):
        return str(value)
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float | Decimal):
        return _finite(float(value))
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, URI):
        return str(value.rep)
    if isinstance(value, TaggedValue):
        return _from_tagged(value)
    if isinstance(value, Mapping):
        return {_key(k): _from_transit(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [_from_transit(v) for v in value]
    raise ValidationError(
        "malformed-transit", f"a value of type {type(value).__name__} has no JSON form"
    )


# Tags Penpot's clients write, each with the form of its value and what it
# becomes: the value a JSON body gives in that place.
_TAGGED: dict[str, tuple[type, str]] = {
    "b": (str, "base64 text"),  # binary, as a JSON body carries it
    "uri": (str, "the address as text"),  # a URL (Penpot's own tag beside ~r)
    "duration": (int, "whole milliseconds"),  # an expiration: its milliseconds
}


def _from_tagged(value: TaggedValue) -> Any:
    """``["~#uri", "https://..."]``, ``{"~#duration": 2592000000}`` and
    ``~b`` binary as their plain value; any other tag is refused."""
    known = _TAGGED.get(value.tag)
    if known is None:
        raise ValidationError(
            "malformed-transit",
            f"the Transit tag {value.tag!r} is not understood; tagged values read here: "
            "~#uri, ~#duration, ~b (with Transit's own ~#set, ~#list, ~m, ~u ...)",
        )
    kind, words = known
    rep = value.rep
    if not isinstance(rep, kind) or isinstance(rep, bool):
        raise ValidationError("malformed-transit", f"a Transit {value.tag!r} value is {words}")
    return rep


def _key(key: Any) -> str:
    if isinstance(key, Keyword | Symbol | str):
        return str(key)
    raise ValidationError("malformed-transit", "map keys must be keywords or strings")


def decode_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a request body into params with snake_case keys."""
    media = content_type.split(";", 1)[0].strip().lower()
    transit = media == TRANSIT
    if not transit and not (media in (JSON, "") or media.endswith("+json")):
        raise ValidationError(
            "unsupported-media-type",
            f"send {JSON} or {TRANSIT}, not {media}",
        )
    check_nesting(body)
    try:
        # Strict UTF-8: an encoded lone surrogate is not text.
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        code = "malformed-transit" if transit else "malformed-json"
        raise ValidationError(code, "the body is not UTF-8 text") from None
    if transit:
        try:
            data = _from_transit(Reader("json").read(io.StringIO(text)))
        except ValidationError:
            raise
        except Exception:  # transit-python raises many kinds on bad input
            raise ValidationError(
                "malformed-transit", "the body is not valid Transit JSON"
            ) from None
    else:
        try:
            data = _DECODER.decode(text)
        except ValueError:
            raise ValidationError("malformed-json", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValidationError("params-validation", "the body must be an object of params")
    return normalize_keys(data)


def wants_transit(accept: str | None) -> bool:
    return accept is not None and TRANSIT in accept.lower()


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode_json(data: Any) -> bytes:
    return _JSON.encode(data).encode()


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
