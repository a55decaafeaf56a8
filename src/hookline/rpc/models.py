"""Base model and shared field types for command params and results."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from transit.transit_types import TaggedValue


class Model(BaseModel):
    """Fields are snake_case in Python, camelCase in JSON, kebab-case in Transit."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
        # NaN and Infinity are not JSON: no answer or webhook body may carry one.
        allow_inf_nan=False,
    )


class Empty(Model):
    """No params."""


# Integer columns are INTEGER: 32 bits on PostgreSQL (64 on SQLite). Every
# integer param bounds itself to the narrower range, below this.
INT_COLUMN_MAX = 2**31 - 1


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant must fall within the years 1 to 9999 in UTC") from None


# An instant: a time zone is required (a bare local time names no instant),
# and it must still be a valid date once moved to UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_to_utc)]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")


def _check_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid e-mail address")
    return value


# The documented schema says exactly what the validator accepts, so generated
# clients (and fuzzers) never send a "valid" address that is then refused.
Email = Annotated[
    str,
    AfterValidator(_check_email),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 254,
            "pattern": r"^\s*[^@\s]{1,64}@[^@\s]+\.[^@\s.]+\s*$",
            "description": "an e-mail address (compared case-insensitively)",
        }
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=500)]


def _binary(value: object) -> object:
    """Bytes as they come from a multipart part, base64 in JSON, or Transit's
    ``~b`` (base64 too)."""
    if isinstance(value, TaggedValue) and value.tag == "b":
        value = value.rep
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise ValueError("not valid base64") from None
    return value


# Binary content: base64 in a JSON body, raw in a multipart part or Transit.
Binary = Annotated[
    bytes,
    BeforeValidator(_binary),
    PlainSerializer(lambda value: base64.b64encode(value).decode(), when_used="json"),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]


@dataclass(frozen=True)
class Download:
    """A command's answer sent as a file to save rather than as JSON."""

    filename: str
    media_type: str
    content: bytes


def download_result(media_type: str) -> Any:
    """The result type of a command answering a ``Download``, documented as
    the binary body it is."""
    schema = {"type": "string", "format": "binary", "contentMediaType": media_type}
    return Annotated[Download, WithJsonSchema(schema)]
