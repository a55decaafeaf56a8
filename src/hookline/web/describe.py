"""Words for what the data holds as codes: delivery errors, token expiry,
webhook states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_ERRORS = {
    "timeout": "the request timed out",
    "connection-error": "could not connect to the receiver",
    "ssl-validation-error": "the receiver's TLS certificate could not be verified",
    "invalid-uri": "the URL is not valid",
}

_BLOCKED = {
    "invalid-url": "the URL is not valid",
    "credentials-in-url": "the URL holds a user name or password",
    "unresolvable-host": "the host name does not resolve",
    "loopback-address": "the address is a loopback address",
}

_STATES = {
    "active": "Active",
    "inactive": "Inactive",
    "disabled-by-errors": "Disabled by errors",
}


# One word per delivery status, used by badges, filters and the legend alike,
# with what it means.
STATUSES: tuple[tuple[str, str, str], ...] = (
    ("succeeded", "Succeeded", "the receiver answered 2xx"),
    ("retrying", "Retrying", "an attempt failed; another is scheduled"),
    ("pending", "Waiting", "queued, not sent yet"),
    ("paused", "Held", "kept while the webhook is disabled; sent once it is re-enabled"),
    ("failed", "Failed", "gave up after every retry; editors can send it again"),
)
_STATUS_WORDS = {code: word for code, word, _ in STATUSES}


def status_word(status: str) -> str:
    return _STATUS_WORDS.get(status, status.capitalize())


# Areas of the product events belong to, in the order the form lists them;
# an event joins the first area one of whose words is a word of its name.
EVENT_AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Projects", ("project",)),
    ("Files", ("file",)),
    ("Comments", ("comment",)),
    ("Team", ("team", "invitation", "member")),
    ("Fonts", ("font",)),
    ("Profile", ("profile",)),
)
OTHER_AREA = "Other"


def event_area(name: str) -> str:
    parts = {part.removesuffix("s") for part in name.split("-")}
    for area, words in EVENT_AREAS:
        if parts.intersection(words):
            return area
    return OTHER_AREA


def grouped_events(event_types: list[Any]) -> list[tuple[str, list[Any]]]:
    """Event types by area, areas in the listed order, names sorted within."""
    order = [area for area, _ in EVENT_AREAS] + [OTHER_AREA]
    groups: dict[str, list[Any]] = {}
    for event in sorted(event_types, key=lambda e: e.name):
        groups.setdefault(event_area(event.name), []).append(event)
    return [(area, groups[area]) for area in order if area in groups]


def first_sentence(text: str) -> str:
    """The description's opening sentence, for a line beside a checkbox."""
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end == -1 else text[: end + 1]


def error_words(code: str | None) -> str:
    """``unexpected-status:500`` -> ``unexpected status 500`` and so on."""
    if not code:
        return ""
    if code in _ERRORS:
        return _ERRORS[code]
    kind, _, detail = code.partition(":")
    if kind == "unexpected-status" and detail:
        return f"unexpected status {detail}"
    if kind == "blocked-request":
        reason = _BLOCKED.get(detail, detail.replace("-", " ") or "not allowed")
        return f"the request was blocked: {reason}"
    return code.replace("-", " ").replace(":", ": ")


def last_error_sentence(code: str | None) -> str:
    words = error_words(code)
    return f"Last delivery was not successful: {words}" if words else ""


def state_words(state: str) -> str:
    return _STATES.get(state, state.replace("-", " ").capitalize())


def moment(value: datetime | None) -> str:
    """A date and time people read the same wherever they are: ISO 8601 in
    UTC, to the second, since deliveries come seconds apart."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: datetime | None, now: datetime) -> str:
    """How long ago (or how soon), roughly: ``3 min ago``, ``in 2 h``."""
    if value is None:
        return ""
    seconds = int((now - value).total_seconds())
    later, seconds = seconds < 0, abs(seconds)
    if seconds < 5:
        return "just now"
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            return f"in {amount}" if later else f"{amount} ago"
    return "just now"


def day(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d")


def expiry_words(expires_at: datetime | None, now: datetime) -> str:
    """``No expiration``, ``Expires on <date>`` or ``Expired on <date>``."""
    if expires_at is None:
        return "No expiration"
    if expires_at <= now:
        return f"Expired on {day(expires_at)}"
    return f"Expires on {day(expires_at)}"
