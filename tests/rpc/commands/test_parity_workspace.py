"""Penpot's workspace commands: duplicate, move, libraries; who may call them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.helpers import Api, ApiFactory, team_with_members

ROLES = ("owner", "admin", "editor", "viewer")


async def check_roles(
    api_factory: ApiFactory,
    members: dict[str, Api],
    name: str,
    params: Callable[[], Awaitable[dict[str, Any]]],
    minimum: str = "editor",
) -> None:
    """Each role from ``minimum`` up succeeds, lower roles get 403 and a
    stranger 404; ``params`` makes fresh params for each call."""
    allowed = ROLES[: ROLES.index(minimum) + 1]
    for role in ROLES:
        if role in allowed:
            await members[role].call(name, await params())
        else:
            status, body = await members[role].error(name, await params())
            assert (status, body["code"]) == (403, "insufficient-permissions"), (name, role)
    stranger = await api_factory.user("stranger")
    status, body = await stranger.error(name, await params())
    assert (status, body["type"]) == (404, "not-found"), name


async def test_duplicate_file_and_project(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    owner = members["owner"]
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    library = await owner.call(
        "create-file", {"projectId": project["id"], "name": "Lib", "isShared": True}
    )
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    await owner.call("update-file", {"id": file["id"], "revn": 0, "changes": [{"op": "a"}]})
    await owner.call("link-file-to-library", {"fileId": file["id"], "libraryId": library["id"]})

    copy = await owner.call("duplicate-file", {"fileId": file["id"]})
    assert copy["name"] == "F (copy)" and copy["id"] != file["id"] and copy["revn"] == 1
    assert (await owner.call("get-file", {"id": copy["id"]}))["data"] == {"changes": [{"op": "a"}]}
    libs = await owner.call("get-file-libraries", {"fileId": copy["id"]})
    assert [lib["id"] for lib in libs] == [library["id"]]

    dup = await owner.call("duplicate-project", {"projectId": project["id"], "name": "P2"})
    assert dup["name"] == "P2" and dup["teamId"] == team["id"]
    copies = await owner.call("get-project-files", {"projectId": dup["id"]})
    assert sorted(f["name"] for f in copies) == ["F", "F (copy)", "Lib"]
    [lib_copy] = [f for f in copies if f["name"] == "Lib"]
    [f_copy] = [f for f in copies if f["name"] == "F"]
    # links between copied files point at the copies
    libs = await owner.call("get-file-libraries", {"fileId": f_copy["id"]})
    assert [lib["id"] for lib in libs] == [lib_copy["id"]]

    async def file_params() -> dict[str, Any]:
        return {"fileId": file["id"]}

    async def project_params() -> dict[str, Any]:
        return {"projectId": project["id"]}

    await check_roles(api_factory, members, "duplicate-file", file_params)
    await check_roles(api_factory, members, "duplicate-project", project_params)


async def test_move_project_to_another_team(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    owner = members["owner"]
    other = await owner.call("create-team", {"name": "Other"})
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    stay = await owner.call("create-project", {"teamId": team["id"], "name": "Stay"})
    library = await owner.call(
        "create-file", {"projectId": stay["id"], "name": "Lib", "isShared": True}
    )
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    await owner.call("link-file-to-library", {"fileId": file["id"], "libraryId": library["id"]})

    await owner.call("move-project", {"teamId": other["id"], "projectId": project["id"]})
    moved = await owner.call("get-projects", {"teamId": other["id"]})
    assert [p["id"] for p in moved] == [project["id"]]
    assert (await owner.call("get-file", {"id": file["id"]}))["teamId"] == other["id"]
    # the library stayed behind: the link across teams is gone
    assert await owner.call("get-file-libraries", {"fileId": file["id"]}) == []
    status, body = await owner.error(
        "move-project", {"teamId": other["id"], "projectId": project["id"]}
    )
    assert (status, body["code"]) == (400, "cant-move-to-same-team")

    # each role, moving a fresh project of the first team to a team it edits in
    targets: dict[str, str] = {}
    for role in ROLES:
        targets[role] = (await members[role].call("create-team", {"name": role}))["id"]
    for role in ROLES:
        fresh = await owner.call("create-project", {"teamId": team["id"], "name": role})
        params = {"teamId": targets[role], "projectId": fresh["id"]}
        if role == "viewer":
            status, body = await members[role].error("move-project", params)
            assert status == 403
        else:
            await members[role].call("move-project", params)
    # into a team where the caller is only a viewer, or not a member: refused
    fresh = await owner.call("create-project", {"teamId": team["id"], "name": "x"})
    status, _ = await members["editor"].error(
        "move-project", {"teamId": targets["owner"], "projectId": fresh["id"]}
    )
    assert status == 404
    stranger = await api_factory.user("stranger")
    own = await stranger.call("create-team", {"name": "mine"})
    status, _ = await stranger.error(
        "move-project", {"teamId": own["id"], "projectId": fresh["id"]}
    )
    assert status == 404


async def test_link_and_unlink_libraries(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    owner = members["owner"]
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    library = await owner.call(
        "create-file", {"projectId": project["id"], "name": "Lib", "isShared": True}
    )
    private = await owner.call("create-file", {"projectId": project["id"], "name": "Private"})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    link = {"fileId": file["id"], "libraryId": library["id"]}
    await owner.call("link-file-to-library", link)
    await owner.call("link-file-to-library", link)  # twice is once
    assert len(await owner.call("get-file-libraries", {"fileId": file["id"]})) == 1
    await owner.call("unlink-file-from-library", link)
    assert await owner.call("get-file-libraries", {"fileId": file["id"]}) == []
    await owner.call("link-file-to-library", link)
    await owner.call("set-file-shared", {"id": library["id"], "isShared": False})
    assert await owner.call("get-file-libraries", {"fileId": file["id"]}) == []
    await owner.call("set-file-shared", {"id": library["id"], "isShared": True})

    for bad in (private["id"], file["id"]):
        status, body = await owner.error(
            "link-file-to-library", {"fileId": file["id"], "libraryId": bad}
        )
        assert (status, body["code"]) == (400, "invalid-library")
    other = await owner.call("create-team", {"name": "Other"})
    op = await owner.call("create-project", {"teamId": other["id"], "name": "OP"})
    foreign = await owner.call(
        "create-file", {"projectId": op["id"], "name": "L", "isShared": True}
    )
    status, body = await owner.error(
        "link-file-to-library", {"fileId": file["id"], "libraryId": foreign["id"]}
    )
    assert (status, body["code"]) == (400, "invalid-library")

    async def params() -> dict[str, Any]:
        return link

    await check_roles(api_factory, members, "link-file-to-library", params)
    await check_roles(api_factory, members, "unlink-file-from-library", params)


async def test_clone_template(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    owner = members["owner"]
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    templates = await members["viewer"].call("get-builtin-templates")
    assert {t["id"] for t in templates} >= {"wireframing-kit", "mobile-app"}
    made = await owner.call(
        "clone-template", {"projectId": project["id"], "templateId": "mobile-app"}
    )
    by_name = {f["name"]: f for f in made}
    assert set(by_name) == {"Mobile components", "Mobile app"}
    assert by_name["Mobile components"]["isShared"] is True
    libs = await owner.call("get-file-libraries", {"fileId": by_name["Mobile app"]["id"]})
    assert [lib["id"] for lib in libs] == [by_name["Mobile components"]["id"]]
    assert (await owner.call("get-file", {"id": by_name["Mobile app"]["id"]}))["data"]
    status, body = await owner.error(
        "clone-template", {"projectId": project["id"], "templateId": "nope"}
    )
    assert (status, body["code"]) == (404, "template-not-found")

    async def params() -> dict[str, Any]:
        return {"projectId": project["id"], "templateId": "landing-page"}

    await check_roles(api_factory, members, "clone-template", params)


async def test_get_file_libraries_is_for_members(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    project = await members["owner"].call("create-project", {"teamId": team["id"], "name": "P"})
    file = await members["owner"].call("create-file", {"projectId": project["id"], "name": "F"})

    async def params() -> dict[str, Any]:
        return {"fileId": file["id"]}

    await check_roles(api_factory, members, "get-file-libraries", params, minimum="viewer")
