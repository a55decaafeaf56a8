"""Settings → Applications and Settings → Authorized applications."""

from __future__ import annotations

import re

from tests.helpers import ApiFactory
from tests.oauth.flow import call, register, tokens_for
from tests.web.client import WebFactory, text

SECRET = re.compile(r'id="new-secret" type="text" value="(hlc_[^"]+)" readonly')


async def test_register_rotate_and_delete_an_application(web: WebFactory) -> None:
    person = await web.user()
    empty = await person.get("/settings/applications")
    assert "You have not registered any application." in empty.text
    refused = await person.submit(
        "/settings/applications",
        {"name": "Sync", "redirect_uris": "http://app.example/cb", "kind": "confidential"},
    )
    assert refused.status_code == 400
    assert "loopback" in text(refused.text)
    created = await person.submit(
        "/settings/applications",
        {
            "name": "Sync",
            "redirect_uris": "https://app.example/cb\r\nhttp://127.0.0.1:9000/cb\r\n",
            "kind": "confidential",
        },
    )
    # Redirected to the list, which shows the secret once: a reload shows
    # it no more and registers nothing twice.
    assert created.status_code == 303
    assert created.headers["location"] == "/settings/applications"
    shown = await person.get("/settings/applications")
    assert shown.headers["cache-control"] == "no-store"
    secret = SECRET.search(shown.text)
    assert secret, "the secret is not shown"
    listing = await person.get("/settings/applications")
    assert secret.group(1) not in listing.text
    assert len(re.findall(r'data-application-id="', listing.text)) == 1
    words = text(listing.text)
    assert "https://app.example/cb" in words and f"…{secret.group(1)[-4:]}" in words
    found = re.search(r'data-application-id="([^"]+)"', listing.text)
    assert found
    base = f"/settings/applications/{found.group(1)}"
    asked = await person.submit(f"{base}/rotate-secret")
    assert "Rotate the client secret?" in asked.text
    rotated = await person.submit(f"{base}/rotate-secret", {"confirm": "yes"})
    assert rotated.status_code == 303
    new = SECRET.search((await person.get(rotated.headers["location"])).text)
    assert new and new.group(1) != secret.group(1)
    deleted = await person.submit(f"{base}/delete", {"confirm": "yes"})
    assert deleted.headers["location"] == "/settings/applications?notice=application-deleted"
    stranger = await web.user()
    assert (await stranger.submit(f"{base}/delete", {"confirm": "yes"})).status_code == 404


async def test_authorized_applications_list_and_revoke(
    web: WebFactory, api_factory: ApiFactory
) -> None:
    person = await web.user()
    assert person.api is not None
    app = await register(person.api)
    http = (await api_factory.anonymous()).client
    tokens = await tokens_for(person, http, app, "read webhooks")
    await call(http, tokens["access_token"], "get-profile")
    page = await person.get("/settings/authorized-applications")
    words = text(page.text)
    assert "Board sync" in words and "read : read your profile" in words
    assert "webhooks : read and manage the webhooks" in words and "Never used" not in words
    found = re.search(r'data-grant-id="([^"]+)"', page.text)
    assert found
    action = f"/settings/authorized-applications/{found.group(1)}/revoke"
    stranger = await web.user()
    assert (await stranger.submit(action, {"confirm": "yes"})).status_code == 404
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 200
    done = await person.submit(action, {"confirm": "yes"})
    assert done.status_code == 303
    assert (await call(http, tokens["access_token"], "get-profile")).status_code == 401
    after = text((await person.get(done.headers["location"])).text)
    assert "No application has access to your account." in after
    assert "You revoked it" in after
