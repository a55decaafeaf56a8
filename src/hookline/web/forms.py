"""Reading submitted forms and placing command errors next to the fields they
concern."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from hookline.errors import HooklineError

# Plenty for the largest form (a webhook with one checkbox per event type).
MAX_FIELDS = 500

# Errors whose code says which field is wrong although the error names none.
FIELD_BY_CODE: Mapping[str, str] = {
    "email-already-exists": "email",
    "unknown-event-type": "events",
    "invalid-window": "until",
    "invalid-uri": "uri",
    "blocked-request": "uri",
}


# What an empty required field means, in each form's words.
REQUIRED: Mapping[str, str] = {
    "name": "Give a name.",
    "uri": "Give the URL events are sent to.",
    "email": "Enter an e-mail address.",
    "fullname": "Give your full name.",
    "password": "Enter a password.",
    "since": "Give a start date and time.",
}
# Numbers with a range the form states.
RANGES: Mapping[str, str] = {
    "maxEventsPerRequest": "Give a whole number from 1 to 100.",
}
BLOCKED_REASONS: Mapping[str, str] = {
    "credentials-in-url": "Credentials in URLs are not allowed: remove the user name and "
    "password. Receivers check a request by its signature instead.",
    "unresolvable-host": "The host name does not resolve: check the spelling of the URL.",
}


def _too_short(name: str, found: re.Match[str]) -> str:
    if name == "password":
        return f"Use at least {found.group(1)} characters."
    return REQUIRED.get(name, "This field cannot be empty.")


# Validation messages of the commands (pydantic's words), as people would
# say them; the first pattern that matches wins.
_PHRASES: tuple[tuple[re.Pattern[str], Callable[[str, re.Match[str]], str]], ...] = (
    (re.compile(r"String should have at least (\d+) char"), _too_short),
    (
        re.compile(r"String should have at most (\d+) char"),
        lambda name, m: f"Use at most {m.group(1)} characters.",
    ),
    (
        re.compile(r"Input should be (greater|less) than|Input should be a valid integer"),
        lambda name, m: RANGES.get(name, "Give a whole number."),
    ),
    (
        re.compile(r"not a valid e-?mail", re.IGNORECASE),
        lambda name, m: "Enter an e-mail address like name@example.com.",
    ),
    (
        re.compile(r"Input should be 'application/"),
        lambda name, m: "Choose JSON or Transit.",
    ),
    (
        re.compile(r"Field required"),
        lambda name, m: REQUIRED.get(name, "This field is required."),
    ),
    (re.compile(r"^Value error, (.*)$", re.DOTALL), lambda name, m: _sentence(m.group(1))),
)


def human(name: str, message: str) -> str:
    """A command's validation message for field ``name``, in plain words."""
    for pattern, words in _PHRASES:
        found = pattern.search(message)
        if found:
            return words(name, found)
    return _sentence(message)


class MalformedForm(ValueError):
    """The body is not a form this UI could have sent."""


@dataclass(frozen=True)
class FormData:
    """Submitted fields; a name may repeat (checkboxes)."""

    pairs: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)


def parse_form(body: bytes) -> FormData:
    """An ``application/x-www-form-urlencoded`` body. Undecodable bytes are
    replaced rather than refused: the commands validate the values anyway."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "replace"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:
        raise MalformedForm(str(exc)) from None
    return FormData(tuple(pairs))


@dataclass
class FormErrors:
    """Messages by field name (the command's param name), and one for the form."""

    fields: dict[str, str] = field(default_factory=dict)
    general: str = ""

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)


def errors_from(error: HooklineError, shown: Collection[str]) -> FormErrors:
    """Map a command's error to the fields of a form showing ``shown``:
    validation details name them, some errors carry ``field``, and a few codes
    imply one. What fits no shown field becomes the form's message."""
    found = FormErrors()
    problems: list[tuple[str, str]] = []
    details = error.data.get("details")
    if isinstance(details, list):
        for problem in details:
            if isinstance(problem, dict):
                name = str(problem.get("field", "")).split(".", 1)[0]
                problems.append((name, str(problem.get("message", ""))))
    else:
        named = error.data.get("field") or FIELD_BY_CODE.get(error.code)
        hint = BLOCKED_REASONS.get(str(error.data.get("reason")), error.hint)
        problems.append((named if isinstance(named, str) else "", hint))
    for name, message in problems:
        if name in shown:
            found.add(name, human(name, message))
        elif not found.general:
            found.general = _sentence(f"{name}: {message}" if name else message)
    return found


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text
