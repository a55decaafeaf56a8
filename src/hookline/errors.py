"""The error tree. Every error the API answers is one of these:

- HooklineError (type, code, hint; HTTP status from ``STATUS_BY_TYPE``)
  - ValidationError        validation      400  bad params, malformed bodies
  - RestrictionError       restriction     400  quotas, forbidden states (405/413/415 by code)
  - AuthenticationError    authentication  401  missing or bad credentials
  - AuthorizationError     authorization   403  known caller, not allowed
  - NotFound               not-found       404  unknown object, or one the caller may not see
  - ConflictError          conflict        409  stale revision and the like
  - RateLimited            rate-limit      429  too many attempts; carries Retry-After
  - Unavailable            unavailable     503  the database cannot be reached; retry
  - InternalError          internal        500  a bug; details go to the log only
"""

from __future__ import annotations

from typing import Any, ClassVar

STATUS_BY_TYPE: dict[str, int] = {
    "validation": 400,
    "restriction": 400,
    "authentication": 401,
    "authorization": 403,
    "not-found": 404,
    "conflict": 409,
    "rate-limit": 429,
    "unavailable": 503,
    "internal": 500,
}

# A few restriction codes have a more precise HTTP status than 400.
STATUS_BY_CODE: dict[str, int] = {
    "method-not-allowed": 405,
    "payload-too-large": 413,
    "unsupported-media-type": 415,
}


class HooklineError(Exception):
    """An error with a type, a code and a hint for humans."""

    type: ClassVar[str] = "internal"

    def __init__(self, code: str, hint: str | None = None, **data: Any) -> None:
        self.code = code
        self.hint = hint or code.replace("-", " ")
        self.data = data
        super().__init__(f"{self.type}/{code}: {self.hint}")

    @property
    def status(self) -> int:
        return STATUS_BY_CODE.get(self.code, STATUS_BY_TYPE[self.type])

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "code": self.code, "hint": self.hint}
        body.update(self.data)
        return body

    def headers(self) -> dict[str, str]:
        return {}


class ValidationError(HooklineError):
    type = "validation"


class RestrictionError(HooklineError):
    type = "restriction"


class AuthenticationError(HooklineError):
    type = "authentication"


class AuthorizationError(HooklineError):
    type = "authorization"


class NotFound(HooklineError):
    type = "not-found"

    def __init__(self, code: str = "object-not-found", hint: str | None = None, **data: Any):
        super().__init__(code, hint or "no such object, or you may not see it", **data)


class ConflictError(HooklineError):
    type = "conflict"


class RateLimited(HooklineError):
    type = "rate-limit"

    def __init__(self, retry_after: int, hint: str | None = None) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            "too-many-attempts",
            hint or f"too many attempts; try again in {self.retry_after} s",
            retry_after=self.retry_after,
        )

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(HooklineError):
    """The database is out of reach (restarting, failing over); nothing was
    changed and the same request may be sent again."""

    type = "unavailable"

    def __init__(self, code: str = "database-unavailable", hint: str | None = None) -> None:
        super().__init__(code, hint or "the database cannot be reached; try again shortly")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class InternalError(HooklineError):
    type = "internal"
