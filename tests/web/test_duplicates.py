"""Duplicates are allowed, after a warning: a second team with the same name,
a second webhook sending the same events to the same URL."""

from __future__ import annotations

import re

from tests.web.client import WebFactory, text
from tests.web.test_webhooks import HOOK, form


def _resend_fields(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)


async def test_a_second_team_with_the_same_name_asks_first(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    first = await person.submit("/teams", {"name": "Design"})
    asked = await person.submit("/teams", {"name": "design "})
    assert asked.status_code == 200 and "You already have a team named “Design”" in text(asked.text)
    assert [t["name"] for t in await person.api.call("get-teams")] == ["Default", "Design"]
    fields = dict(_resend_fields(asked.text))
    assert fields["name"] == "design " and fields["confirm"] == "yes"
    created = await person.submit("/teams", {"name": "design ", "confirm": "yes"})
    assert created.status_code == 303 and created.headers["location"] != first.headers["location"]
    menu = text((await person.get(created.headers["location"])).text)
    assert menu.count(", created ") == 2  # the menu tells the two apart


async def test_a_second_webhook_to_the_same_url_asks_first(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    path = f"/teams/{team['id']}/webhooks"
    assert (await person.submit(path, form())).status_code == 303
    asked = await person.submit(path, form(name="Again"))
    assert "each would arrive twice" in text(asked.text)
    assert len(await person.api.call("get-webhooks", {"teamId": team["id"]})) == 1
    again = dict(_resend_fields(asked.text))
    assert again["uri"] == HOOK and again["name"] == "Again"
    added = await person.submit(path, {**form(name="Again"), "confirm": "yes"})
    assert added.status_code == 303
    assert len(await person.api.call("get-webhooks", {"teamId": team["id"]})) == 2
    other = await person.submit(path, form(uri="http://127.0.0.1:9/other"))
    assert other.status_code == 303  # another URL needs no question
