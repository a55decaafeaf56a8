"""Base model and shared field types for command params and results."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel


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
