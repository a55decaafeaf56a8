"""What Penpot's clients do and expect: webhooks naming their creator and
listed by URI, ``?_fmt=``, Transit tagged values echoed back, the
``/api/main/`` paths; and Hookline's stricter choices written in ``/api/_doc``."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import update
from transit.reader import Reader

from hookline.storage.tables import webhooks
from hookline.web.security import PAGE_HEADERS
from tests.helpers import Api, ApiFactory, team_with_members

TRANSIT = "application/transit+json"
HOOK = "http://127.0.0.1:9/hook"
DAY_MS = 24 * 3600 * 1000


def read_transit(content: bytes) -> Any:
    return Reader("json").read(io.StringIO(content.decode()))


async def _token_client(api_factory: ApiFactory, owner: Api) -> Api:
    created = await owner.call("create-access-token", {"name": "program"})
    client = await api_factory.anonymous()
    client.client.headers["authorization"] = f"Token {created['token']}"
    return client


async def _post_transit(api: Api, name: str, body: str, **kw: Any) -> Any:
    return await api.client.post(
        f"/api/rpc/command/{name}",
        content=body.encode(),
        headers={"content-type": TRANSIT, **kw.pop("headers", {})},
        **kw,
    )


# --- webhooks: their creator, and the order of the list ---------------------


async def test_webhooks_answer_their_creator(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("editor", "viewer"))
    editor, owner, viewer = members["editor"], members["owner"], members["viewer"]
    created = await editor.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    assert created["profileId"] == editor.id
    # Changed by someone else, it still names who created it.
    updated = await owner.call("update-webhook", {"id": created["id"], "name": "renamed"})
    assert updated["profileId"] == editor.id
    [listed] = await viewer.call("get-webhooks", {"teamId": team["id"]})
    assert listed["profileId"] == editor.id
    one = await viewer.call("get-webhook", {"id": created["id"]})
    assert one["profileId"] == editor.id
    response = await owner.post("get-webhooks", {"teamId": team["id"]}, headers={"accept": TRANSIT})
    assert b'"~:profile-id","~u' + editor.id.encode() in response.content


async def test_a_webhook_whose_creator_is_unknown_answers_null(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Older"})
    created = await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    # Webhooks made before their creator was recorded, or whose creator's
    # account is gone, have none.
    async with api_factory.services.db.write() as conn:
        await conn.execute(update(webhooks).values(created_by=None))
    [listed] = await owner.call("get-webhooks", {"teamId": team["id"]})
    assert listed["profileId"] is None
    assert (await owner.call("get-webhook", {"id": created["id"]}))["profileId"] is None
    updated = await owner.call("update-webhook", {"id": created["id"], "isActive": False})
    assert updated["profileId"] is None


async def test_get_webhooks_is_ordered_by_uri_then_id(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Sorted"})
    uris = ["http://127.0.0.1:9/c", "http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]
    created = [
        await owner.call("create-webhook", {"teamId": team["id"], "uri": uri})
        for uri in [*uris, "http://127.0.0.1:9/b"]
    ]
    listed = await owner.call("get-webhooks", {"teamId": team["id"]})
    assert [hook["uri"] for hook in listed] == sorted(hook["uri"] for hook in created)
    twins = [hook["id"] for hook in listed if hook["uri"].endswith("/b")]
    assert twins == sorted(twins)


# --- ?_fmt= ---------------------------------------------------------------------


async def test_fmt_chooses_the_answer_format_whatever_accept_says(
    api_factory: ApiFactory,
) -> None:
    owner = await api_factory.user()
    response = await owner.client.get(
        "/api/rpc/command/get-profile?_fmt=transit", headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == TRANSIT
    profile = read_transit(response.content)
    assert str(profile[next(k for k in profile if str(k) == "id")]) == owner.id
    response = await owner.client.post(
        "/api/rpc/command/create-team?_fmt=json",
        json={"name": "Plain"},
        headers={"accept": TRANSIT},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["name"] == "Plain"
    # Errors too come in the chosen format.
    response = await owner.client.get("/api/rpc/command/no-such-command?_fmt=transit")
    assert (response.status_code, response.headers["content-type"]) == (404, TRANSIT)
    assert b"command-not-found" in response.content


@pytest.mark.parametrize(
    "query", ["_fmt=xml", "_fmt=", "_fmt=JSON", "_fmt=json&_fmt=transit", "_fmt=json&_fmt=json"]
)
async def test_a_bad_fmt_is_400(api: Api, query: str) -> None:
    response = await api.client.get(f"/api/rpc/command/get-profile?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["type"], body["code"]) == ("validation", "bad-answer-format")
    assert "json or transit" in body["hint"]


async def test_fmt_is_no_param_for_cookie_writes(api_factory: ApiFactory) -> None:
    """With the session cookie, a write takes no params from the query
    string; ``_fmt`` is none, but it does not open any other door."""
    owner = await api_factory.user()
    own = {"origin": "http://testserver", "accept": TRANSIT}
    response = await owner.client.post(
        "/api/rpc/command/create-team?_fmt=json", json={"name": "Mine"}, headers=own
    )
    assert (response.status_code, response.json()["name"]) == (200, "Mine")
    response = await owner.client.post(
        "/api/rpc/command/create-team?_fmt=json&name=Other", json={"name": "Mine"}, headers=own
    )
    assert (response.status_code, response.json()["code"]) == (403, "params-in-query")
    response = await owner.client.post(
        "/api/rpc/command/create-team?_fmt=json",
        json={"name": "Theirs"},
        headers={"origin": "http://evil.example"},
    )
    assert (response.status_code, response.json()["code"]) == (403, "cross-origin-request")
    teams = await owner.call("get-teams")
    assert "Theirs" not in [team["name"] for team in teams]


# --- Transit tagged values --------------------------------------------------------


@pytest.mark.parametrize(
    "uri", [f'["~#uri","{HOOK}"]', f'{{"~#uri":"{HOOK}"}}', f'"~r{HOOK}"', f'"{HOOK}"']
)
async def test_a_webhook_uri_may_be_a_tagged_uri(api_factory: ApiFactory, uri: str) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Tagged"})
    response = await _post_transit(
        owner,
        "create-webhook",
        f'["^ ","~:team-id","~u{team["id"]}","~:uri",{uri},'
        '"~:events",["~#set",["create-project","rename-project"]]]',
    )
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["uri"] == HOOK
    assert sorted(created["events"]) == ["create-project", "rename-project"]
    response = await _post_transit(
        owner, "update-webhook", f'["^ ","~:id","~u{created["id"]}","~:uri",{uri}]'
    )
    assert (response.status_code, response.json()["uri"]) == (200, HOOK)


async def test_instants_may_be_transit_instants(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Instants"})
    hook = await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    created = datetime.fromisoformat(hook["createdAt"])
    found = []
    for offset in (timedelta(hours=-1), timedelta(hours=1)):
        ms = int((created + offset).timestamp() * 1000)
        response = await _post_transit(
            owner,
            "get-webhook-deliveries",
            f'["^ ","~:webhook-id","~u{hook["id"]}","~:since","~m{ms}"]',
        )
        assert response.status_code == 200, response.text
        found.append(response.json()["total"])
    assert found == [1, 0]  # the ping, sent at creation


def _lifetime(token: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(token["expiresAt"]) - datetime.fromisoformat(token["createdAt"])


@pytest.mark.parametrize(
    ("expiration", "days"),
    [
        ('["~#duration",2592000000]', 30),
        ('{"~#duration":7776000000}', 90),
        ("15552000000", 180),
        ('"720h"', 30),
    ],
)
async def test_an_expiration_may_be_a_duration_or_milliseconds(
    api_factory: ApiFactory, expiration: str, days: int
) -> None:
    owner = await api_factory.user()
    response = await _post_transit(
        owner, "create-access-token", f'["^ ","~:name","penpot","~:expiration",{expiration}]'
    )
    assert response.status_code == 200, response.text
    assert _lifetime(response.json()) == timedelta(days=days)
    created = await owner.call("create-access-token", {"name": "json", "expiration": days * DAY_MS})
    assert _lifetime(created) == timedelta(days=days)


@pytest.mark.parametrize(
    ("expiration", "code"),
    [
        ('["~#duration",-1]', "params-validation"),
        ('["~#duration",0]', "params-validation"),
        ('["~#duration",999]', "params-validation"),
        ('["~#duration",3153600001000]', "params-validation"),
        ('["~#duration","~i99999999999999999999999999"]', "params-validation"),
        ('["~#duration","~i-99999999999999999999999999"]', "params-validation"),
        ('["~#duration","~dNaN"]', "malformed-transit"),
        ('["~#duration","~zINF"]', "malformed-transit"),
        ('["~#duration",2.5]', "malformed-transit"),
        ('["~#duration","720h"]', "malformed-transit"),
        ('["~#duration",true]', "malformed-transit"),
        ('["~#duration",null]', "malformed-transit"),
        ('["~#duration",[1]]', "malformed-transit"),
        ('["~#durations",1000]', "malformed-transit"),
        ('["~#uri","soon"]', "params-validation"),
        ('"~m1700000000000"', "params-validation"),
        ("true", "params-validation"),
        ("2.5", "params-validation"),
        ("-1", "params-validation"),
        ('"~i9223372036854775808"', "params-validation"),
    ],
)
async def test_hostile_expirations_are_400(
    api_factory: ApiFactory, expiration: str, code: str
) -> None:
    owner = await api_factory.user()
    response = await _post_transit(
        owner, "create-access-token", f'["^ ","~:name","t","~:expiration",{expiration}]'
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert await owner.call("get-access-tokens") == []


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30, -1, 0, True, 1.5, [720]])
async def test_hostile_json_expirations_are_400(api_factory: ApiFactory, value: Any) -> None:
    owner = await api_factory.user()
    status, body = await owner.error("create-access-token", {"name": "t", "expiration": value})
    assert (status, body["code"]) == (400, "params-validation")
    assert body["details"][0]["field"] == "expiration"


@pytest.mark.parametrize(
    "uri", ['["~#uri",5]', '["~#uri",null]', '{"~#uri":["x"]}', '["~#url","http://x/"]']
)
async def test_a_malformed_tagged_uri_is_400(api_factory: ApiFactory, uri: str) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Bad"})
    response = await _post_transit(
        owner, "create-webhook", f'["^ ","~:team-id","~u{team["id"]}","~:uri",{uri}]'
    )
    assert (response.status_code, response.json()["code"]) == (400, "malformed-transit")
    assert await owner.call("get-webhooks", {"teamId": team["id"]}) == []


# --- /api/main/methods and /api/main/doc -----------------------------------------


async def test_main_methods_answers_like_rpc_command(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    program = await _token_client(api_factory, owner)
    for client in (owner, program):
        response = await client.client.get("/api/main/methods/get-profile")
        assert (response.status_code, response.json()["id"]) == (200, owner.id)
    response = await program.client.post("/api/main/methods/create-team", json={"name": "Alias"})
    assert (response.status_code, response.json()["name"]) == (200, "Alias")
    response = await program.client.get("/api/main/methods/get-teams?_fmt=transit")
    assert response.headers["content-type"] == TRANSIT
    anonymous = await api_factory.anonymous()
    response = await anonymous.client.get("/api/main/methods/get-profile")
    assert response.json()["fullname"] == "Anonymous User"
    bad_token = await api_factory.anonymous()
    response = await bad_token.client.get(
        "/api/main/methods/get-profile", headers={"authorization": "Token nope"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "invalid-token")
    response = await anonymous.client.post("/api/main/methods/create-team", json={"name": "x"})
    assert (response.status_code, response.json()["code"]) == (401, "authentication-required")
    response = await owner.client.get("/api/main/methods/create-team")
    assert (response.status_code, response.json()["code"]) == (405, "method-not-allowed")
    response = await owner.client.get("/api/main/methods/no-such-command")
    assert (response.status_code, response.json()["code"]) == (404, "command-not-found")


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"origin": "http://evil.example"}, "cross-origin-request"),
        ({"sec-fetch-site": "cross-site"}, "cross-origin-request"),
        ({"content-type": "text/plain"}, "json-body-required"),
    ],
)
async def test_main_methods_keeps_the_cookie_write_rules(
    api_factory: ApiFactory, headers: dict[str, str], code: str
) -> None:
    owner = await api_factory.user()
    response = await owner.client.post(
        "/api/main/methods/create-team",
        content=json.dumps({"name": "Forged"}).encode(),
        headers={"content-type": "application/json", **headers},
    )
    assert (response.status_code, response.json()["code"]) == (403, code)
    response = await owner.client.post(
        "/api/main/methods/create-team?name=Forged", headers={"content-type": "text/plain"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "params-in-query")
    assert "Forged" not in [team["name"] for team in await owner.call("get-teams")]


async def test_main_doc_is_the_api_doc(api: Api) -> None:
    doc = await api.client.get("/api/_doc")
    main = await api.client.get("/api/main/doc")
    assert main.status_code == 200
    assert main.text == doc.text
    for name, value in PAGE_HEADERS.items():
        assert main.headers[name] == value, name


# --- access tokens: an unknown one -----------------------------------------------


async def test_deleting_an_unknown_access_token_is_404(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    status, body = await owner.error(
        "delete-access-token", {"id": "00000000-0000-4000-8000-000000000001"}
    )
    assert (status, body["code"]) == (404, "object-not-found")


# --- /api/_doc ---------------------------------------------------------------------


def _words(html: str, section: str) -> str:
    """The text of the section whose heading has the id ``section``."""
    start = html.index(f'id="{section}"')
    end = html.index("<h2", start + 1)
    return unescape(" ".join(re.sub(r"<[^>]+>", "", html[start:end]).split()))


async def test_doc_lists_the_penpot_habits_and_the_stricter_choices(api: Api) -> None:
    page = (await api.client.get("/api/_doc")).text
    habits = _words(page, "penpot-clients")
    for words in (
        "/api/main/methods/<name> answers exactly like /api/rpc/command/<name>",
        "/api/main/doc",
        "?_fmt=json or ?_fmt=transit",
        "bad-answer-format",
        '["~#uri","https://…"]',
        '{"~#uri":"https://…"}',
        "~m instants",
        "~u ids",
        "~#set",
        "~#duration (whole milliseconds)",
        "whole milliseconds (2592000000 is 30 days)",
        "profile-id",
        "lists them by uri",
    ):
        assert words in habits, words
    stricter = _words(page, "stricter-than-penpot")
    for words in (
        "Viewers cannot create, change or delete webhooks",
        "answers 401",
        "silently serves the call as an anonymous session",
        "makes no HEAD request",
        "signed ping event",
        "404 object-not-found; Penpot answers 204",
    ):
        assert words in stricter, words
    document = (await api.client.get("/api/openapi.json")).json()
    assert "/api/main/methods/<name>" in document["info"]["description"]
    assert "?_fmt=json" in document["info"]["description"]
    delete = document["paths"]["/api/rpc/command/delete-access-token"]["post"]
    assert "Penpot answers 204" in " ".join(delete["description"].split())
    expiration = document["paths"]["/api/rpc/command/create-access-token"]["post"]
    assert "~#duration" in expiration["description"]
