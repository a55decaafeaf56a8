"""A form sent after the session ended: sign in, then back to the page with
what was typed (never a password), not a 403 that loses the work."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import delete

from hookline.storage.tables import sessions
from tests.helpers import ApiFactory
from tests.web.client import WebClient, WebFactory, csrf_token, text
from tests.web.test_webhooks import form

BASE = "http://testserver"


async def _typed_then_ended(
    web: WebFactory, api_factory: ApiFactory
) -> tuple[WebClient, dict[str, Any], str, str]:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    page_path = f"/teams/{team['id']}/webhooks/new"
    token = csrf_token((await person.get(page_path)).text)
    async with api_factory.services.db.write() as conn:
        await conn.execute(delete(sessions))
    return person, team, page_path, token


async def test_sign_in_returns_to_the_form_with_what_was_typed(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, team, page_path, token = await _typed_then_ended(web, api_factory)
    sent = await person.client.post(
        f"/teams/{team['id']}/webhooks",
        data={"csrf_token": token, **form(name="Typed before the end")},
        headers={"referer": BASE + page_path},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == (
        "/login?notice=session-ended&next=" + quote(page_path, safe="")
    )
    login = await person.get(sent.headers["location"])
    assert "Your session ended." in text(login.text)
    assert person.api is not None
    signed_in = await person.client.post(
        "/login",
        data={
            "csrf_token": csrf_token(login.text),
            "email": person.api.profile["email"],
            "password": "correct horse",
            "next": page_path,
        },
    )
    assert signed_in.headers["location"] == page_path
    again = await person.get(page_path)
    assert 'value="Typed before the end"' in again.text
    assert 'value="Typed before the end"' not in (await person.get(page_path)).text


async def test_another_site_cannot_pre_fill_a_form(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, team, page_path, _token = await _typed_then_ended(web, api_factory)
    person.client.cookies.clear()
    forged = await person.client.post(
        f"/teams/{team['id']}/webhooks",
        data={"csrf_token": "forged", **form(name="Evil")},
        headers={"origin": "https://evil.example", "referer": "https://evil.example/x"},
    )
    assert forged.status_code == 303 and forged.headers["location"].startswith("/login?")
    assert person.api is not None
    login = await person.get(forged.headers["location"])
    await person.client.post(
        "/login",
        data={
            "csrf_token": csrf_token(login.text),
            "email": person.api.profile["email"],
            "password": "correct horse",
        },
    )
    assert "Evil" not in (await person.get(page_path)).text
