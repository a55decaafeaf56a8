from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select, update

from hookline.settings import parse_allowlist
from hookline.storage.tables import deliveries, webhooks
from hookline.webhooks.secrets import unseal
from tests.helpers import ApiFactory, team_with_members

HOOK = "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("owner", True), ("admin", True), ("editor", True), ("viewer", False), ("outsider", False)],
)
async def test_who_manages_webhooks(api_factory: ApiFactory, role: str, allowed: bool) -> None:
    team, members = await team_with_members(api_factory, ("admin", "editor", "viewer"))
    caller = members.get(role) or await api_factory.user("outsider")
    params = {"teamId": team["id"], "uri": HOOK, "name": "mine"}
    if allowed:
        created = await caller.call("create-webhook", params)
        assert created["secret"].startswith("whsec_")
        rotated = await caller.call("rotate-webhook-secret", {"id": created["id"]})
        assert rotated["secret"] != created["secret"]
        await caller.call("update-webhook", {"id": created["id"], "name": "renamed"})
        await caller.call("delete-webhook", {"id": created["id"]})
        return
    status, body = await caller.error("create-webhook", params)
    if role == "outsider":
        assert (status, body["type"]) == (404, "not-found")
        status, body = await caller.error("get-webhooks", {"teamId": team["id"]})
        assert status == 404
    else:
        assert (status, body["code"]) == (403, "insufficient-permissions")
        assert await caller.call("get-webhooks", {"teamId": team["id"]}) == []


async def test_defaults_secret_shown_once_and_sealed(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    created = await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    assert created["mtype"] == "application/json"
    assert created["verifySsl"] is True and created["isActive"] is True
    assert created["maxEventsPerRequest"] == 1 and created["events"] is None
    assert created["state"] == "active" and created["errorCount"] == 0
    listed = await owner.call("get-webhooks", {"teamId": team["id"]})
    one = await owner.call("get-webhook", {"id": created["id"]})
    assert "secret" not in listed[0] and "secret" not in one
    assert created["secret"] not in str(listed) + str(one)
    settings = api_factory.services.settings
    async with api_factory.services.db.read() as conn:
        stored = (await conn.execute(select(webhooks))).one()
    assert created["secret"] not in stored.secret_enc
    assert unseal(settings.secret_key, stored.secret_enc) == created["secret"]
    rotated = await owner.call("rotate-webhook-secret", {"id": created["id"]})
    async with api_factory.services.db.read() as conn:
        stored = (await conn.execute(select(webhooks))).one()
    assert unseal(settings.secret_key, stored.secret_enc) == rotated["secret"]
    [retired] = stored.retired_secrets
    assert unseal(settings.secret_key, retired["sealed"]) == created["secret"]
    assert retired["expires_at"] == rotated["previousSecretExpiresAt"].replace("Z", "+00:00")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("mtype", "text/plain", "params-validation"),
        ("maxEventsPerRequest", 0, "params-validation"),
        ("maxEventsPerRequest", 101, "params-validation"),
        ("uri", "ftp://example.com/x", "invalid-uri"),
        ("uri", "http://" + "a" * 2050, "params-validation"),
        ("name", "n" * 251, "params-validation"),
    ],
)
async def test_bad_fields(api_factory: ApiFactory, field: str, value: object, code: str) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    status, body = await owner.error(
        "create-webhook", {"teamId": team["id"], "uri": HOOK, field: value}
    )
    assert (status, body["code"]) == (400, code)


BLOCKED = [
    "http://127.0.0.1/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.0.10/",
    "http://100.64.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://224.0.0.5/",
    "http://240.0.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://localhost/",
    "http://localhost./",
]


@pytest.mark.parametrize("uri", BLOCKED)
async def test_private_targets_are_refused_unless_allowed(
    api_factory: ApiFactory, uri: str
) -> None:
    services = api_factory.services
    services.settings = dataclasses.replace(services.settings, ssrf_allowlist=parse_allowlist(""))
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    status, body = await owner.error("create-webhook", {"teamId": team["id"], "uri": uri})
    assert (status, body["code"]) == (400, "blocked-request"), body
    assert "HOOKLINE_SSRF_ALLOWLIST" in body["hint"]


async def test_quota(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    for n in range(api_factory.services.settings.max_webhooks_per_team):
        await owner.call("create-webhook", {"teamId": team["id"], "uri": f"{HOOK}/{n}"})
    status, body = await owner.error("create-webhook", {"teamId": team["id"], "uri": HOOK})
    assert (status, body["code"]) == (400, "webhooks-quote-reached")


async def test_update_resets_errors_and_reactivation_resumes_paused(
    api_factory: ApiFactory,
) -> None:
    services = api_factory.services
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    hook = await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    async with services.db.write() as conn:
        await conn.execute(
            update(webhooks).values(
                state="disabled-by-errors", is_active=False, error_code="timeout", error_count=15
            )
        )
        await conn.execute(update(deliveries).values(status="paused"))
    partial = await owner.call("update-webhook", {"id": hook["id"], "name": "only the name"})
    assert partial["uri"] == HOOK and partial["errorCode"] is None
    assert partial["errorCount"] == 0 and partial["state"] == "inactive"
    resumed = await owner.call("update-webhook", {"id": hook["id"], "isActive": True})
    assert resumed["state"] == "active"
    async with services.db.read() as conn:
        statuses = {row.status for row in await conn.execute(select(deliveries))}
    assert statuses == {"pending"}
    narrowed = await owner.call(
        "update-webhook", {"id": hook["id"], "events": ["create-file", "create-file"]}
    )
    assert narrowed["events"] == ["create-file"]
    everything = await owner.call("update-webhook", {"id": hook["id"], "events": None})
    assert everything["events"] is None


async def test_event_catalogue(api_factory: ApiFactory) -> None:
    anonymous = await api_factory.anonymous()
    catalogue = await anonymous.call("get-webhook-event-types")
    names = {item["name"] for item in catalogue}
    assert {"ping", "create-project", "update-file", "update-team", "update-profile"} <= names
    for item in catalogue:
        assert item["description"] and item["schema"]["type"] == "object"
        assert item["example"]["name"] == item["name"]
        assert set(item["schema"]["required"]) <= set(item["example"])
