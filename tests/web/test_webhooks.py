"""Team → Webhooks: the table, adding, editing, the secret shown once,
deleting with confirmation, and what viewers and outsiders get."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update

from hookline.storage.tables import deliveries, delivery_attempts, webhooks
from hookline.web.views.webhook_page import SECTIONS
from tests.helpers import Api, ApiFactory, team_with_members
from tests.web.client import WebClient, WebFactory, text

HOOK = "http://127.0.0.1:9/hook"
SECRET = re.compile(r'id="signing-secret" type="text" value="(whsec_[^"]+)" readonly')


def form(**changes: str | list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Orders",
        "uri": HOOK,
        "mtype": "application/json",
        "isActive": "on",
        "eventsMode": "all",
        "verifySsl": "on",
        "maxEventsPerRequest": "1",
    }
    values.update(changes)
    return values


async def _team(web: WebFactory) -> tuple[WebClient, Api, dict[str, Any]]:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    return person, person.api, team


async def test_add_shows_the_secret_once(web: WebFactory) -> None:
    person, api, team = await _team(web)
    assert (
        "This team has no webhooks yet" in (await person.get(f"/teams/{team['id']}/webhooks")).text
    )
    added = await person.submit(f"/teams/{team['id']}/webhooks", form())
    hooks = await api.call("get-webhooks", {"teamId": team["id"]})
    assert [h["name"] for h in hooks] == ["Orders"]
    assert added.status_code == 303 and added.headers["location"] == f"/webhooks/{hooks[0]['id']}"
    page = await person.get(added.headers["location"])
    assert page.headers["cache-control"] == "no-store"
    secret = SECRET.search(page.text)
    assert secret and "it will not be shown again" in page.text
    later = await person.get(f"/webhooks/{hooks[0]['id']}")
    assert secret.group(1) not in later.text and 'id="signing-secret"' not in later.text
    rotating = await person.submit(f"/webhooks/{hooks[0]['id']}/rotate-secret", {"confirm": "yes"})
    assert rotating.status_code == 303
    rotated = await person.get(rotating.headers["location"])
    new_secret = SECRET.search(rotated.text)
    assert new_secret and new_secret.group(1) != secret.group(1)
    assert rotated.headers["cache-control"] == "no-store"
    assert "requests carry signatures with both the old and the new secret" in rotated.text


async def test_errors_next_to_fields(web: WebFactory) -> None:
    person, _api, team = await _team(web)
    path = f"/teams/{team['id']}/webhooks"
    cases = [
        (form(uri="ftp://example.com/x"), "uri"),
        (form(uri=""), "uri"),
        (form(maxEventsPerRequest="0"), "maxEventsPerRequest"),
        (form(maxEventsPerRequest="many"), "maxEventsPerRequest"),
        (form(eventsMode="some"), "events"),
        (form(name="n" * 251), "name"),
        (form(mtype="text/plain"), "mtype"),
    ]
    for data, field in cases:
        page = await person.submit(path, data)
        assert page.status_code == 400, field
        assert f'id="{field}-error"' in page.text, (field, text(page.text)[:2000])
    page = await person.submit(path, form(uri="http://169.254.169.254/latest"))
    assert page.status_code == 400 and "Webhooks may not target this address" in page.text


async def test_table_sorts_and_searches(web: WebFactory) -> None:
    person, api, team = await _team(web)
    for name in ("beta", "Alpha", "gamma"):
        await api.call(
            "create-webhook", {"teamId": team["id"], "uri": f"{HOOK}/{name}", "name": name}
        )
    path = f"/teams/{team['id']}/webhooks"

    def names(page: str) -> list[str]:
        return re.findall(r'<a href="/webhooks/[^"]+">([^<]+)</a></td>', page)

    assert names((await person.get(path)).text) == ["Alpha", "beta", "gamma"]
    page = (await person.get(path + "?sort=-name")).text
    assert names(page) == ["gamma", "beta", "Alpha"]
    assert 'aria-sort="descending" data-sort-key="name"' in page
    assert names((await person.get(path + "?sort=url")).text) == ["Alpha", "beta", "gamma"]
    assert names((await person.get(path + "?q=ET")).text) == ["beta"]
    nothing = await person.get(path + "?q=zzz")
    assert names(nothing.text) == [] and "No webhook matches this search." in nothing.text
    assert (await person.get(path + "?sort=bogus")).status_code == 200


async def test_state_and_last_error_in_words(web: WebFactory, api_factory: ApiFactory) -> None:
    person, api, team = await _team(web)
    hook = await api.call("create-webhook", {"teamId": team["id"], "uri": HOOK, "name": "h"})
    async with api_factory.services.db.write() as conn:
        await conn.execute(
            update(webhooks)
            .where(webhooks.c.id == uuid.UUID(hook["id"]))
            .values(state="disabled-by-errors", is_active=False, error_code="unexpected-status:500")
        )
    words = text((await person.get(f"/teams/{team['id']}/webhooks")).text)
    assert "Disabled by errors" in words
    assert "Last delivery was not successful: unexpected status 500" in words


async def test_edit_test_and_delete(web: WebFactory) -> None:
    person, api, team = await _team(web)
    hook = await api.call("create-webhook", {"teamId": team["id"], "uri": HOOK, "name": "h"})
    path = f"/webhooks/{hook['id']}"
    saved = await person.submit(
        path,
        form(
            name="Renamed",
            mtype="application/transit+json",
            eventsMode="some",
            events=["create-project", "rename-file"],
            maxEventsPerRequest="5",
            ordered="on",
            verifySsl="",
        )
        | {"verifySsl": []},
    )
    assert saved.headers["location"] == f"{path}/settings?notice=webhook-updated"
    now = await api.call("get-webhook", {"id": hook["id"]})
    assert now["name"] == "Renamed" and now["mtype"] == "application/transit+json"
    assert now["events"] == ["create-project", "rename-file"]
    assert now["maxEventsPerRequest"] == 5 and now["ordered"] and not now["verifySsl"]
    page = (await person.get(saved.headers["location"])).text
    assert 'value="create-project" checked' in page and 'value="delete-file" checked' not in page
    assert "The webhook was saved." in page
    emptied = await person.submit(path, form(name=""))
    assert emptied.status_code == 400 and 'id="name-error"' in emptied.text
    tested = await person.submit(f"{path}/test", {"back": "list"})
    assert tested.headers["location"] == f"/teams/{team['id']}/webhooks?notice=test-sent"
    asked = await person.submit(f"{path}/delete")
    assert asked.status_code == 200 and "Delete this webhook?" in asked.text
    assert await api.call("get-webhook", {"id": hook["id"]})
    deleted = await person.submit(f"{path}/delete", {"confirm": "yes"})
    assert deleted.headers["location"] == f"/teams/{team['id']}/webhooks?notice=webhook-deleted"
    assert await api.call("get-webhooks", {"teamId": team["id"]}) == []


async def test_viewers_see_no_actions(web: WebFactory, api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("viewer",))
    hook = await members["owner"].call(
        "create-webhook", {"teamId": team["id"], "uri": HOOK, "name": "h"}
    )
    viewer = await web.of(members["viewer"])
    listing = (await viewer.get(f"/teams/{team['id']}/webhooks")).text
    assert "h</a>" in listing
    for action in ("Add webhook", "Actions", "/test", "/delete", "Send test event"):
        assert action not in listing, action
    base = f"/webhooks/{hook['id']}"
    pages = [(await viewer.get(base + section)).text for section, _ in SECTIONS]
    page = "".join(pages)
    for action in ("Save changes", "Rotate secret", "/test", "/delete", "Re-send", "/recover"):
        assert action not in page, action
    assert '<fieldset class="plain" disabled>' in page
    assert (await viewer.get(f"/teams/{team['id']}/webhooks/new")).status_code == 403
    refused = await viewer.submit(f"/webhooks/{hook['id']}", form(name="mine"))
    assert refused.status_code == 403
    assert (await members["owner"].call("get-webhook", {"id": hook["id"]}))["name"] == "h"


async def test_foreign_webhooks_are_not_found(web: WebFactory, api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ())
    hook = await members["owner"].call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    outsider = await web.user()
    base = f"/webhooks/{hook['id']}"
    assert (await outsider.get(base)).status_code == 404
    assert (await outsider.get(f"/teams/{team['id']}/webhooks/new")).status_code == 404
    for path, data in (
        (base, form()),
        (f"{base}/test", {}),
        (f"{base}/rotate-secret", {}),
        (f"{base}/delete", {"confirm": "yes"}),
        (f"{base}/recover", {"since": "2026-01-01T00:00"}),
        (f"/teams/{team['id']}/webhooks", form()),
    ):
        response = await outsider.submit(path, data)
        assert response.status_code == 404, path
    assert await members["owner"].call("get-webhook", {"id": hook["id"]})


async def test_ordered_delivery_needs_no_batch_size(web: WebFactory) -> None:
    """With ordered on, the page disables the batch size, so it is not sent."""
    person, api, team = await _team(web)
    data = form(ordered="on")
    del data["maxEventsPerRequest"]
    added = await person.submit(f"/teams/{team['id']}/webhooks", data)
    assert added.status_code == 303
    [hook] = await api.call("get-webhooks", {"teamId": team["id"]})
    assert hook["ordered"] and hook["maxEventsPerRequest"] == 1
    page = text((await person.get(added.headers["location"] + "/settings")).text)
    assert "Ordered delivery sends one event per request" in page


async def test_last_attempt_instead_of_never_triggered(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    """A webhook whose attempts all failed was tried: the table says when,
    and with what result, in the words the history uses."""
    person, api, team = await _team(web)
    hook = await api.call("create-webhook", {"teamId": team["id"], "uri": HOOK, "name": "h"})
    assert "No attempt yet" in text((await person.get(f"/teams/{team['id']}/webhooks")).text)
    async with api_factory.services.db.write() as conn:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.webhook_id == uuid.UUID(hook["id"]))
            .values(
                status="failed",
                attempts=5,
                last_status=500,
                last_attempt_at=datetime(2026, 3, 1, 20, 37, 12, tzinfo=UTC),
            )
        )
    words = text((await person.get(f"/teams/{team['id']}/webhooks")).text)
    assert "Never" not in words
    assert "2026-03-01 20:37:12 UTC" in words and "500 Failed" in words
    page = text((await person.get(f"/webhooks/{hook['id']}/history")).text)
    assert "Held kept while the webhook is disabled" in page  # the legend
    overview = text((await person.get(f"/webhooks/{hook['id']}")).text)
    assert "Last attempt 2026-03-01 20:37:12 UTC" in overview


async def test_event_types_grouped_with_descriptions(web: WebFactory) -> None:
    person, api, team = await _team(web)
    page = (await person.get(f"/teams/{team['id']}/webhooks/new")).text
    legends = re.findall(r"<legend>([^<]+)</legend>", page)
    assert ["Projects", "Files", "Comments", "Team", "Profile"] == [
        a for a in legends if a in {"Projects", "Files", "Comments", "Team", "Profile"}
    ]
    assert 'id="about-create-project">Create a project in a team' in page
    ticked = await person.submit(
        f"/teams/{team['id']}/webhooks", form(eventsMode="all", events=["create-project"])
    )
    assert ticked.status_code == 400 and "You ticked some events but chose" in text(ticked.text)
    assert await api.call("get-webhooks", {"teamId": team["id"]}) == []


async def test_sections_have_their_own_addresses(web: WebFactory, api_factory: ApiFactory) -> None:
    person, api, team = await _team(web)
    hook = await api.call("create-webhook", {"teamId": team["id"], "uri": HOOK, "name": "h"})
    base = f"/webhooks/{hook['id']}"
    for section, label in SECTIONS:
        page = (await person.get(base + section)).text
        tabs = page.split('class="subtabs"', 1)[1]
        current = re.search(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', tabs)
        assert current and current.groups() == (base + section, label)
    assert "No attempts" in text((await person.get(base)).text)
    [delivery] = (await api.call("get-webhook-deliveries", {"webhookId": hook["id"]}))["items"]
    now = api_factory.services.clock.now()
    async with api_factory.services.db.write() as conn:
        for n, status in enumerate((200, 200, None)):
            await conn.execute(
                insert(delivery_attempts).values(
                    id=uuid.uuid4(),
                    delivery_id=uuid.UUID(delivery["id"]),
                    attempt=n + 1,
                    sent_at=now,
                    url=HOOK,
                    request_headers={},
                    request_body="{}",
                    response_status=status,
                    batch_size=1,
                )
            )
    overview = await person.get(base)
    assert "67% of 3 attempts succeeded" in text(overview.text)
    assert overview.text.count('class="bar-ok h-14"') == 1  # 2 of the busiest 3
    assert overview.text.count('class="bar-bad h-7"') == 1
    settings = (await person.get(base + "/settings")).text
    assert settings.index("Save changes") < settings.index("Danger zone")
    assert "Delete webhook…" not in (await person.get(base)).text
