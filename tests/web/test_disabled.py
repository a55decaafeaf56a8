"""A webhook disabled by errors: a banner with its last error and Re-enable on
its page and row, re-enabling sends what was held, and re-sending or
recovering meanwhile says it waits for re-activation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from hookline.storage.tables import deliveries, webhooks
from tests.helpers import Api, ApiFactory
from tests.web.client import WebClient, WebFactory, text

HOOK = "http://127.0.0.1:9/hook"


async def _disabled(web: WebFactory, api_factory: ApiFactory) -> tuple[WebClient, Api, Any]:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    hook = await person.api.call("create-webhook", {"teamId": team["id"], "uri": HOOK, "name": "h"})
    async with api_factory.services.db.write() as conn:
        await conn.execute(
            update(webhooks)
            .where(webhooks.c.id == uuid.UUID(hook["id"]))
            .values(
                state="disabled-by-errors",
                is_active=False,
                error_code="unexpected-status:500",
                error_count=10,
            )
        )
        # What the worker does to a webhook's unfinished deliveries as it disables it.
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.webhook_id == uuid.UUID(hook["id"]))
            .values(status="paused")
        )
    return person, person.api, hook


async def _statuses(api: Api, hook: Any) -> list[str]:
    page = await api.call("get-webhook-deliveries", {"webhookId": hook["id"]})
    return sorted(d["status"] for d in page["items"])


async def test_banner_and_re_enable_send_what_was_held(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, api, hook = await _disabled(web, api_factory)
    assert await _statuses(api, hook) == ["paused"]
    page = await person.get(f"/webhooks/{hook['id']}")
    words = text(page.text)
    assert "Disabled by errors" in words and "Last error: unexpected status 500" in words
    assert f'action="/webhooks/{hook["id"]}/enable"' in page.text
    listing = await person.get(f"/teams/{hook['teamId']}/webhooks")
    assert f'action="/webhooks/{hook["id"]}/enable"' in listing.text
    enabled = await person.submit(f"/webhooks/{hook['id']}/enable")
    assert enabled.status_code == 303
    assert enabled.headers["location"] == f"/webhooks/{hook['id']}?notice=webhook-enabled"
    assert (await api.call("get-webhook", {"id": hook["id"]}))["state"] == "active"
    assert await _statuses(api, hook) == ["pending"]
    after = await person.get(enabled.headers["location"])
    assert "held while it was disabled are being sent" in text(after.text)
    assert "Disabled by errors" not in text(after.text)


async def test_resend_and_recover_wait_for_re_activation(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person, api, hook = await _disabled(web, api_factory)
    page = await api.call("get-webhook-deliveries", {"webhookId": hook["id"]})
    delivery = page["items"][0]["id"]
    resent = await person.submit(f"/deliveries/{delivery}/resend", {"back": "delivery"})
    shown = text((await person.get(resent.headers["location"])).text)
    assert "waits for the webhook to be re-activated" in shown
    assert "queued again" not in shown
    async with api_factory.services.db.write() as conn:
        await conn.execute(
            update(deliveries).where(deliveries.c.id == uuid.UUID(delivery)).values(status="failed")
        )
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    recovered = await person.submit(f"/webhooks/{hook['id']}/recover", {"since": since})
    shown = text((await person.get(recovered.headers["location"])).text)
    assert "1 failed delivery will be sent again once the webhook is re-activated" in shown


async def test_recovering_nothing_is_not_a_success(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    team = await person.api.call("create-team", {"name": "Team"})
    hook = await person.api.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    recovered = await person.submit(f"/webhooks/{hook['id']}/recover", {"since": since})
    page = (await person.get(recovered.headers["location"])).text
    assert "No failed delivery in that window: nothing was queued." in text(page)
    assert 'class="notice notice-info"' in page
