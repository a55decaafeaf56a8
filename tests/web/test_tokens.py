"""Settings → Access tokens: the value shown once, expiry words, rename, revoke."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from hookline.clock import FrozenClock
from hookline.services import Services
from tests.helpers import ApiFactory
from tests.web.client import WebClient, WebFactory, text

NEW_TOKEN = re.compile(r'id="new-token" type="text" value="(hlp_[^"]+)" readonly')


async def _create(person: WebClient, **fields: str) -> str:
    page = await person.submit(
        "/settings/tokens", {"name": "deploy", "expiration": "", "scope": "full", **fields}
    )
    assert page.status_code == 303 and page.headers["location"] == "/settings/tokens"
    assert "hlp_" not in page.headers["location"]
    page = await person.get(page.headers["location"])
    assert page.headers["cache-control"] == "no-store"
    found = NEW_TOKEN.search(page.text)
    assert found, "the new token is not shown"
    assert "it will not be shown again" in page.text
    assert 'data-copy="new-token"' in page.text
    return found.group(1)


async def _profile_status(api_factory: ApiFactory, token: str) -> int:
    program = await api_factory.anonymous()
    response = await program.client.get(
        "/api/rpc/command/get-profile", headers={"authorization": f"Token {token}"}
    )
    return response.status_code


async def test_create_use_rename_revoke(web: WebFactory, api_factory: ApiFactory) -> None:
    person = await web.user()
    empty = await person.get("/settings/tokens")
    assert "You have no access tokens yet" in empty.text
    token = await _create(person, name="deploy script", expiration="720h", scope="read")
    assert await _profile_status(api_factory, token) == 200
    listing = await person.get("/settings/tokens")
    assert token not in listing.text
    words = text(listing.text)
    assert "deploy script" in words and "Read-only" in words and f"…{token[-4:]}" in words
    assert re.search(r"Expires on \d{4}-\d{2}-\d{2}", words)
    assert "Never used" not in words  # the API call above was its first use
    token_id = re.search(r'data-token-id="([^"]+)"', listing.text)
    assert token_id
    base = f"/settings/tokens/{token_id.group(1)}"
    renamed = await person.submit(f"{base}/rename", {"name": "CI"})
    assert renamed.headers["location"] == "/settings/tokens?notice=token-renamed"
    assert "The token was renamed." in (await person.get(renamed.headers["location"])).text
    asked = await person.submit(f"{base}/revoke")
    assert asked.status_code == 200 and "Revoke this token?" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert await _profile_status(api_factory, token) == 200
    revoked = await person.submit(f"{base}/revoke", {"confirm": "yes"})
    assert revoked.headers["location"] == "/settings/tokens?notice=token-revoked"
    assert await _profile_status(api_factory, token) == 401
    assert "You have no access tokens yet" in (await person.get("/settings/tokens")).text


async def test_expiry_words(web: WebFactory, services: Services) -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    services.clock = clock
    services.settings = dataclasses.replace(services.settings, session_max_age_s=365 * 86400)
    person = await web.user()
    await _create(person, name="forever")
    await _create(person, name="month", expiration="720h")
    await _create(person, name="half-year", expiration="4320h")
    clock.advance(days=31)
    words = text((await person.get("/settings/tokens")).text)
    assert "No expiration" in words
    assert "Expired on 2026-03-31" in words
    assert "Expires on 2026-08-28" in words
    page = (await person.get("/settings/tokens")).text
    assert '<span class="warning">Expired on 2026-03-31</span>' in page


async def test_errors_next_to_fields(web: WebFactory) -> None:
    person = await web.user()
    page = await person.submit(
        "/settings/tokens", {"name": "x", "expiration": "forever", "scope": "admin"}
    )
    assert page.status_code == 400
    assert 'id="expiration-error"' in page.text and 'id="scope-error"' in page.text
    page = await person.submit(
        "/settings/tokens", {"name": "  ", "expiration": "", "scope": "full"}
    )
    assert page.status_code == 400 and 'id="name-error"' in page.text
    assert 'aria-invalid="true"' in page.text
    page = await person.submit(
        "/settings/tokens", {"name": "n" * 251, "expiration": "", "scope": "full"}
    )
    assert page.status_code == 400 and "at most 250 characters" in page.text


async def test_tokens_of_others_are_not_found(web: WebFactory) -> None:
    owner = await web.user()
    await _create(owner, name="mine")
    listing = (await owner.get("/settings/tokens")).text
    found = re.search(r'data-token-id="([^"]+)"', listing)
    assert found
    other = await web.user()
    base = f"/settings/tokens/{found.group(1)}"
    assert (await other.submit(f"{base}/rename", {"name": "stolen"})).status_code == 404
    assert (await other.submit(f"{base}/revoke")).status_code == 404
    assert (await other.submit(f"{base}/revoke", {"confirm": "yes"})).status_code == 404
    assert "mine" in (await owner.get("/settings/tokens")).text
