"""Tenant isolation, generated from the registry: every command that takes the
id of something owned by a team is called by an anonymous caller, by a member
of another team and by a viewer, with otherwise valid params. A command that
takes an id this matrix does not know fails the test, so the matrix grows with
the API instead of being a hand-picked few."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from hookline.rpc.commands import build_registry
from hookline.rpc.registry import CommandSpec
from tests.helpers import Api, ApiFactory, team_with_members
from tests.oauth.flow import tokens_for
from tests.web.client import WebClient

REGISTRY = build_registry()

# Param name -> the kind of object it names.
ID_PARAMS = {
    "team_id": "team",
    "project_id": "project",
    "file_id": "file",
    "thread_id": "thread",
    "webhook_id": "webhook",
    "member_id": "member",
    "ids": "files",
    "library_id": "file",
    "font_id": "font",
}
# For a bare ``id``, the kind follows from the command's noun.
NOUNS = {
    "team": "team",
    "project": "project",
    "project-pin": "project",
    "file": "file",
    "file-shared": "file",
    "files": "files",
    "webhook": "webhook",
    "webhook-secret": "webhook",
    "webhook-test": "webhook",
    "webhook-delivery": "delivery",
    "access-token": "token",
    "comment-thread": "thread",
    "team-invitation": "invitation",
    "oauth-application": "application",
    "oauth-application-secret": "application",
    "oauth-grant": "grant",
    "font": "font",
    "font-variant": "font-variant",
}
# Objects of a person rather than a team: another member's is not found.
PERSONAL = {"token", "application", "grant"}
VERBS = (
    "get-",
    "create-",
    "rename-",
    "delete-",
    "update-",
    "set-",
    "move-",
    "rotate-",
    "resend-",
    "recover-",
    "send-",
    "leave-",
    "revoke-",
)
# Values for the other required params, valid enough to reach the permission check.
SAMPLES: dict[str, Any] = {
    "name": "Matrix",
    "content": "a comment",
    "revn": 0,
    "changes": [],
    "role": "editor",
    "email": "someone@example.com",
    "is_pinned": True,
    "is_shared": True,
    "since": "2020-01-01T00:00:00Z",
    "uri": "http://127.0.0.1:9/hook",
    "font_family": "Inter",
    "font_weight": 400,
    "font_style": "normal",
    "data": {"font/woff2": base64.b64encode(b"wOF2" + bytes(8)).decode()},
    "template_id": "landing-page",
    "file": base64.b64encode(b"not an archive").decode(),
}
FONT = {
    "fontFamily": SAMPLES["font_family"],
    "fontWeight": SAMPLES["font_weight"],
    "fontStyle": SAMPLES["font_style"],
    "data": SAMPLES["data"],
}
# Commands any member may call on their own team, viewers included.
MEMBER_WRITES = {"leave-team", "export-binfile"}


def id_fields(spec: CommandSpec) -> dict[str, str]:
    """Param name -> kind, for the params of ``spec`` that name an object."""
    kinds: dict[str, str] = {}
    for field in spec.params.model_fields:
        if field in ID_PARAMS:
            kinds[field] = ID_PARAMS[field]
        elif field == "id":
            noun = spec.name
            for verb in VERBS:
                noun = noun.removeprefix(verb)
            if noun not in NOUNS:
                raise AssertionError(f"{spec.name}: add its noun {noun!r} to NOUNS")
            kinds[field] = NOUNS[noun]
    return kinds


GUARDED = [spec for spec in REGISTRY if spec.auth and id_fields(spec)]


@dataclass
class World:
    team: dict[str, Any]
    members: dict[str, Api]
    outsider: Api
    anonymous: Api
    ids: dict[str, Any]


async def build_world(factory: ApiFactory) -> World:
    team, members = await team_with_members(factory, ("editor", "viewer"))
    owner = members["owner"]
    ids: dict[str, Any] = {"team": team["id"], "member": members["editor"].id}

    async def maybe(command: str, params: dict[str, Any]) -> Any:
        return await owner.call(command, params) if REGISTRY.get(command) else None

    if project := await maybe("create-project", {"teamId": team["id"], "name": "P"}):
        ids["project"] = project["id"]
        if file := await maybe("create-file", {"projectId": project["id"], "name": "F"}):
            ids["file"] = file["id"]
            ids["files"] = [file["id"]]
            thread = await maybe("create-comment-thread", {"fileId": file["id"], "content": "c"})
            if thread:
                ids["thread"] = thread["id"]
    hook = await maybe(
        "create-webhook", {"teamId": team["id"], "uri": "http://127.0.0.1:9/hook", "name": "W"}
    )
    if hook:
        ids["webhook"] = hook["id"]
        listed = await maybe("get-webhook-deliveries", {"webhookId": hook["id"]})
        items = listed.get("items", []) if isinstance(listed, dict) else listed or []
        if items:
            ids["delivery"] = items[0]["id"]
    invited = await maybe(
        "create-team-invitation", {"teamId": team["id"], "email": "guest@example.com"}
    )
    if invited:
        ids["invitation"] = invited["id"]
    font = {"teamId": team["id"], "fontId": str(uuid.uuid4()), **FONT}
    if variant := await maybe("create-font-variant", font):
        ids["font"] = variant["fontId"]
        ids["font-variant"] = variant["id"]
    if token := await maybe("create-access-token", {"name": "T"}):
        ids["token"] = token["id"]
    application = await maybe(
        "create-oauth-application", {"name": "A", "redirectUris": ["http://127.0.0.1:9/cb"]}
    )
    if application:
        ids["application"] = application["id"]
        await tokens_for(WebClient(owner.client, owner), owner.client, application)
        ids["grant"] = (await owner.call("get-oauth-grants"))[0]["id"]
    outsider = await factory.user("outsider")
    await outsider.call("create-team", {"name": "Elsewhere"})
    return World(team, members, outsider, await factory.anonymous(), ids)


def params_for(spec: CommandSpec, world: World) -> dict[str, Any] | None:
    """Valid params naming team A's objects, or None when the world lacks one."""
    params: dict[str, Any] = {}
    kinds = id_fields(spec)
    for field, info in spec.params.model_fields.items():
        if field in kinds:
            if kinds[field] not in world.ids:
                return None
            params[field] = world.ids[kinds[field]]
        elif info.is_required():
            if field not in SAMPLES:
                raise AssertionError(f"{spec.name}: add a sample value for {field!r}")
            params[field] = SAMPLES[field]
    if spec.name == "move-files" and "project" in world.ids:
        params["project_id"] = world.ids["project"]
    return params


@pytest.mark.parametrize("spec", GUARDED, ids=[spec.name for spec in GUARDED])
async def test_other_tenants_and_low_roles_are_refused(
    spec: CommandSpec, api_factory: ApiFactory
) -> None:
    world = await build_world(api_factory)
    params = params_for(spec, world)
    if params is None:
        pytest.skip(f"{spec.name}: its object cannot be created yet")
    status, body = await world.anonymous.error(spec.name, params)
    assert (status, body["type"]) == (401, "authentication"), body
    status, body = await world.outsider.error(spec.name, params)
    assert (status, body["type"]) == (404, "not-found"), (spec.name, body)
    viewer = world.members["viewer"]
    if spec.is_query or spec.name in MEMBER_WRITES:
        return
    status, body = await viewer.error(spec.name, params)
    kinds = set(id_fields(spec).values())
    if kinds <= PERSONAL:
        assert (status, body["type"]) == (404, "not-found"), (spec.name, body)
    else:
        assert status == 403 and body["code"] == "insufficient-permissions", (spec.name, body)


def test_the_matrix_covers_the_team_commands() -> None:
    names = {spec.name for spec in GUARDED}
    assert {"get-team", "update-team", "delete-team", "update-team-member-role"} <= names
