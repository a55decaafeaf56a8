"""Reloading never repeats an action: every successful POST answers 303 to a
page, and one-time values (secrets, tokens, invitation links) travel in a
single-read server-side flash, never in the URL."""

from __future__ import annotations

import re

from hookline.web.flash import LIFETIME_S, FlashStore
from tests.web.client import WebFactory
from tests.web.test_webhooks import SECRET, form

TOKEN = re.compile(r'id="new-token" type="text" value="(hlp_[^"]+)"')
LINK = re.compile(r'id="invitation-link" type="text" value="([^"]+)"')


async def test_creating_a_webhook_leads_to_its_page_once(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    added = await person.submit(f"/teams/{team['id']}/webhooks", form())
    assert added.status_code == 303
    hooks = await person.api.call("get-webhooks", {"teamId": team["id"]})
    assert added.headers["location"] == f"/webhooks/{hooks[0]['id']}"
    first = await person.get(added.headers["location"])
    secret = SECRET.search(first.text)
    assert secret and secret.group(1) not in added.headers["location"]
    again = await person.get(added.headers["location"])
    assert SECRET.search(again.text) is None
    assert len(await person.api.call("get-webhooks", {"teamId": team["id"]})) == 1


async def test_rotating_asks_and_shows_the_secret_once(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    hook = await person.api.call("create-webhook", {"teamId": team["id"], "uri": form()["uri"]})
    path = f"/webhooks/{hook['id']}/rotate-secret"
    asked = await person.submit(path)
    assert asked.status_code == 200 and "Rotate the signing secret?" in asked.text
    assert SECRET.search(asked.text) is None
    rotated = await person.submit(path, {"confirm": "yes"})
    assert rotated.status_code == 303
    assert rotated.headers["location"] == f"/webhooks/{hook['id']}/secret"
    assert SECRET.search((await person.get(rotated.headers["location"])).text)
    assert SECRET.search((await person.get(rotated.headers["location"])).text) is None


async def test_a_token_and_an_invitation_are_shown_once(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    fields = {"name": "ci", "expiration": "", "scope": "full"}
    made = await person.submit("/settings/tokens", fields)
    assert made.status_code == 303 and made.headers["location"] == "/settings/tokens"
    assert TOKEN.search((await person.get("/settings/tokens")).text)
    assert TOKEN.search((await person.get("/settings/tokens")).text) is None
    assert len(await person.api.call("get-access-tokens")) == 1

    team = await person.api.call("create-team", {"name": "Team"})
    invited = await person.submit(
        f"/teams/{team['id']}/invitations", {"email": "x@example.com", "role": "viewer"}
    )
    assert invited.status_code == 303 and invited.headers["location"] == f"/teams/{team['id']}"
    assert LINK.search((await person.get(invited.headers["location"])).text)
    assert LINK.search((await person.get(invited.headers["location"])).text) is None


async def test_another_browser_cannot_take_the_flash(web: WebFactory) -> None:
    person, other = await web.user(), await web.user()
    await person.submit("/settings/tokens", {"name": "ci", "expiration": "", "scope": "full"})
    assert TOKEN.search((await other.get("/settings/tokens")).text) is None
    assert TOKEN.search((await person.get("/settings/tokens")).text)


def test_a_flash_nobody_reads_expires() -> None:
    now = [0.0]
    store = FlashStore(clock=lambda: now[0])
    store.put("browser", "slot", {"secret": "s"})
    now[0] += LIFETIME_S + 1
    assert store.take("browser", "slot") is None
    store.put("browser", "slot", {"secret": "s"})
    assert store.take("other", "slot") is None
    assert store.take("browser", "slot") == {"secret": "s"}
    assert store.take("browser", "slot") is None
