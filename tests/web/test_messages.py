"""Errors next to fields speak plainly, not in the validation library's words."""

from __future__ import annotations

import re

import pytest

from hookline.web.forms import human
from tests.web.client import WebFactory, text
from tests.web.test_webhooks import form

RAW = ("String should", "Value error", "Input should", "Field required")


def _field_error(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert found, (field, text(page)[:1500])
    return found.group(1)


async def test_webhook_form_messages(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    path = f"/teams/{team['id']}/webhooks"
    cases = [
        (form(uri=""), "uri", "Give the URL events are sent to."),
        (form(maxEventsPerRequest="0"), "maxEventsPerRequest", "from 1 to 100"),
        (form(maxEventsPerRequest="many"), "maxEventsPerRequest", "from 1 to 100"),
        (form(name="n" * 251), "name", "Use at most 250 characters."),
        (form(mtype="text/plain"), "mtype", "Choose JSON or Transit."),
        (
            form(uri="http://user:secret@127.0.0.1:9/hook"),
            "uri",
            "Credentials in URLs are not allowed",
        ),
    ]
    for data, field, words in cases:
        page = (await person.submit(path, data)).text
        message = _field_error(page, field)
        assert words in message, (field, message)
        assert not any(raw in message for raw in RAW), message


async def test_sign_up_and_invitation_messages(web: WebFactory) -> None:
    visitor = await web.anonymous()
    page = (
        await visitor.submit("/signup", {"fullname": "", "email": "nobody", "password": "x"})
    ).text
    assert _field_error(page, "fullname") == "Give your full name."
    assert _field_error(page, "email") == "Enter an e-mail address like name@example.com."
    assert re.fullmatch(r"Use at least \d+ characters\.", _field_error(page, "password"))


@pytest.mark.parametrize(
    ("field", "message", "words"),
    [
        ("name", "String should have at least 1 character", "Give a name."),
        ("email", "Value error, not a valid e-mail address", "Enter an e-mail address"),
        ("maxEventsPerRequest", "Input should be greater than or equal to 1", "from 1 to 100"),
        ("other", "Value error, something odd", "Something odd"),
    ],
)
def test_phrases(field: str, message: str, words: str) -> None:
    assert words in human(field, message)
