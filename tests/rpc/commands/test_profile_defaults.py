"""Registration makes the person's default team with its Drafts project, as
Penpot does; get-profile names them with the language and theme; neither
can be deleted, moved, left or shared in a way that leaves the profile
naming something gone or someone else's."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select
from transit.reader import Reader

from hookline.storage import tables
from tests.helpers import Api, ApiFactory

TRANSIT = "application/transit+json"


async def _count(api_factory: ApiFactory, table: str) -> int:
    async with api_factory.services.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(getattr(tables, table))))


async def test_registration_makes_the_default_team_and_its_drafts(
    api_factory: ApiFactory,
) -> None:
    api = await api_factory.anonymous()
    created = await api.call(
        "register-profile",
        {"email": "ada@example.com", "password": "correct horse", "fullname": "Ada"},
    )
    team_id, project_id = created["defaultTeamId"], created["defaultProjectId"]
    assert team_id and project_id
    await api.call("login-with-password", {"email": "ada@example.com", "password": "correct horse"})
    [team] = await api.call("get-teams")
    assert (team["id"], team["name"], team["role"], team["isDefault"]) == (
        team_id,
        "Default",
        "owner",
        True,
    )
    assert (await api.call("get-team", {"id": team_id}))["isDefault"] is True
    [project] = await api.call("get-projects", {"teamId": team_id})
    assert (project["id"], project["name"], project["isDefault"]) == (project_id, "Drafts", True)
    [member] = await api.call("get-team-members", {"teamId": team_id})
    assert (member["id"], member["role"]) == (created["id"], "owner")
    # A team made later is no default, and has no Drafts of its own.
    other = await api.call("create-team", {"name": "Design"})
    assert other["isDefault"] is False
    assert await api.call("get-projects", {"teamId": other["id"]}) == []
    made = await api.call("create-project", {"teamId": team_id, "name": "More"})
    assert made["isDefault"] is False
    # Penpot sends no events for them, and a team just made has no webhooks.
    assert await _count(api_factory, "events") == 0


async def test_get_profile_answers_the_defaults_language_and_theme(
    api_factory: ApiFactory,
) -> None:
    user = await api_factory.user()
    me = await user.call("get-profile")
    assert me["defaultTeamId"] == user.default_team_id
    assert me["defaultProjectId"] == user.profile["defaultProjectId"]
    assert me["lang"] is None and me["theme"] is None
    assert me["modifiedAt"] == me["updatedAt"]
    # A token's caller sees the same, and Transit clients read Penpot's keys.
    token = await user.call("create-access-token", {"name": "program", "scope": "read"})
    program = await api_factory.anonymous(headers={"authorization": f"Token {token['token']}"})
    assert await program.call("get-profile") == me
    response = await program.client.post(
        "/api/rpc/command/get-profile", json={}, headers={"accept": TRANSIT}
    )
    data = Reader("json").read(io.StringIO(response.text))
    answered = {str(key): value for key, value in data.items()}
    assert str(answered["default-team-id"]) == user.default_team_id
    assert str(answered["default-project-id"]) == me["defaultProjectId"]
    assert {"lang", "theme", "modified-at"} <= set(answered)


async def test_anonymous_profile_has_no_defaults(api: Api) -> None:
    me = await api.call("get-profile")
    assert me["defaultTeamId"] is None and me["defaultProjectId"] is None


async def test_a_refused_registration_makes_no_team(api_factory: ApiFactory) -> None:
    api = await api_factory.anonymous()
    params = {"email": "twice@example.com", "password": "correct horse", "fullname": "T"}
    await api.call("register-profile", params)
    teams, projects = await _count(api_factory, "teams"), await _count(api_factory, "projects")
    status, body = await api.error("register-profile", params)
    assert (status, body["code"]) == (400, "email-already-exists")
    assert (await _count(api_factory, "teams"), await _count(api_factory, "projects")) == (
        teams,
        projects,
    )


async def test_the_default_team_stays(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    team_id = user.default_team_id
    refusals = [
        ("delete-team", {"id": team_id}, "validation", "non-deletable-team"),
        # Its owner is its only member: the last owner's rule keeps them in.
        ("leave-team", {"id": team_id}, "restriction", "owner-cant-leave-team"),
        (
            "create-team-invitation",
            {"teamId": team_id, "email": "friend@example.com"},
            "validation",
            "cant-invite-to-default-team",
        ),
    ]
    for command, params, kind, code in refusals:
        status, body = await user.error(command, params)
        assert (status, body["type"], body["code"]) == (400, kind, code), command
        assert body["hint"]
    # Renaming it is fine; it stays the default.
    renamed = await user.call("update-team", {"id": team_id, "name": "Mine"})
    assert (renamed["name"], renamed["isDefault"]) == ("Mine", True)
    assert (await user.call("get-profile"))["defaultTeamId"] == team_id
    # Someone else's default team is not found, as any team of others is.
    stranger = await api_factory.user()
    for command, params, *_ in refusals:
        status, body = await stranger.error(command, params)
        assert (status, body["type"]) == (404, "not-found"), command


async def test_the_drafts_project_stays_in_its_team(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    drafts = user.profile["defaultProjectId"]
    elsewhere = await user.call("create-team", {"name": "Elsewhere"})
    status, body = await user.error("delete-project", {"id": drafts})
    assert (status, body["type"], body["code"]) == (400, "validation", "non-deletable-project")
    status, body = await user.error(
        "move-project", {"teamId": elsewhere["id"], "projectId": drafts}
    )
    assert (status, body["code"]) == (400, "cant-move-default-project")
    # Its files come and go as in any project; its copy is an ordinary one.
    file = await user.call("create-file", {"projectId": drafts, "name": "Sketch"})
    await user.call("delete-file", {"id": file["id"]})
    await user.call("rename-project", {"id": drafts, "name": "Scratch"})
    copy = await user.call("duplicate-project", {"projectId": drafts})
    assert copy["isDefault"] is False
    await user.call("move-project", {"teamId": elsewhere["id"], "projectId": copy["id"]})
    await user.call("delete-project", {"id": copy["id"]})
    listed = await user.call("get-projects", {"teamId": user.default_team_id})
    assert [(p["id"], p["isDefault"]) for p in listed] == [(drafts, True)]
    assert (await user.call("get-profile"))["defaultProjectId"] == drafts


async def test_delete_profile_takes_its_default_team_along(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    await user.call("create-file", {"projectId": user.profile["defaultProjectId"], "name": "F"})
    other = await api_factory.user()
    assert await _count(api_factory, "teams") == 2
    await user.call("delete-profile", {"password": "correct horse"})
    assert await _count(api_factory, "teams") == 1
    assert await _count(api_factory, "projects") == 1
    assert await _count(api_factory, "files") == 0
    assert (await other.call("get-profile"))["defaultTeamId"] == other.default_team_id


async def test_update_profile_sets_and_clears_language_and_theme(
    api_factory: ApiFactory,
) -> None:
    user = await api_factory.user()
    updated = await user.call(
        "update-profile", {"fullname": "Ada", "lang": "pt-BR", "theme": "dark"}
    )
    assert (updated["lang"], updated["theme"]) == ("pt-BR", "dark")
    # Left out: unchanged. Null: cleared.
    await user.call("update-profile", {"fullname": "Ada L."})
    me = await user.call("get-profile")
    assert (me["fullname"], me["lang"], me["theme"]) == ("Ada L.", "pt-BR", "dark")
    assert me["modifiedAt"] == me["updatedAt"] > me["createdAt"]
    await user.call("update-profile", {"fullname": "Ada", "lang": None, "theme": "system"})
    me = await user.call("get-profile")
    assert (me["lang"], me["theme"]) == (None, "system")
    await user.call("update-profile", {"fullname": "Ada", "lang": "zh_Hant", "theme": "light"})
    assert (await user.call("get-profile"))["lang"] == "zh_Hant"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("theme", "blue"),
        ("theme", "Dark"),
        ("theme", ""),
        ("theme", 1),
        ("lang", ""),
        ("lang", "english please"),
        ("lang", "e"),
        ("lang", "en-" + "x" * 40),
        ("lang", "<script>"),
        ("lang", ["en"]),
    ],
)
async def test_update_profile_refuses_a_bad_language_or_theme(
    api_factory: ApiFactory, field: str, value: Any
) -> None:
    user = await api_factory.user()
    status, body = await user.error("update-profile", {"fullname": "Ada", field: value})
    assert (status, body["code"]) == (400, "params-validation")
    assert [d["field"] for d in body["details"]] == [field]
    me = await user.call("get-profile")
    assert (me["fullname"], me["lang"], me["theme"]) == (user.profile["fullname"], None, None)
