"""Reading submitted forms and placing command errors next to the fields they
concern."""

from __future__ import annotations

from collections.abc import Collection, Mapping
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
        problems.append((named if isinstance(named, str) else "", error.hint))
    for name, message in problems:
        if name in shown:
            found.add(name, _sentence(message))
        elif not found.general:
            found.general = _sentence(f"{name}: {message}" if name else message)
    return found


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text
