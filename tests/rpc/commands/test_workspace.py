from __future__ import annotations

from tests.helpers import ApiFactory, team_with_members


async def test_projects_files_comments(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("editor", "viewer"))
    editor, viewer = members["editor"], members["viewer"]
    tid = team["id"]
    project = await editor.call("create-project", {"teamId": tid, "name": "  Web  "})
    assert project["name"] == "Web" and project["isPinned"] is False
    second = await editor.call("create-project", {"teamId": tid, "name": "Apps"})
    await editor.call("update-project-pin", {"teamId": tid, "id": second["id"], "isPinned": True})
    listed = await viewer.call("get-projects", {"teamId": tid})
    assert [p["name"] for p in listed] == ["Apps", "Web"]
    file = await editor.call("create-file", {"projectId": project["id"], "name": "Home"})
    assert (file["revn"], file["teamId"]) == (0, tid)
    updated = await editor.call(
        "update-file", {"id": file["id"], "revn": 0, "changes": [{"op": "add"}]}
    )
    assert updated["revn"] == 1
    status, body = await editor.error("update-file", {"id": file["id"], "revn": 0, "changes": []})
    assert (status, body["code"]) == (409, "revn-conflict")
    got = await viewer.call("get-file", {"id": file["id"]})
    assert got["data"] == {"changes": [{"op": "add"}]}
    await editor.call("move-files", {"ids": [file["id"]], "projectId": second["id"]})
    assert [f["id"] for f in await viewer.call("get-project-files", {"projectId": second["id"]})]
    thread = await editor.call(
        "create-comment-thread",
        {"fileId": file["id"], "content": "Why?", "position": {"x": 1, "y": 2}},
    )
    await editor.call("create-comment", {"threadId": thread["id"], "content": "Because"})
    [listed_thread] = await viewer.call("get-comment-threads", {"fileId": file["id"]})
    assert listed_thread["countComments"] == 2
    status, body = await viewer.error("create-comment", {"threadId": thread["id"], "content": "x"})
    assert status == 403
    await editor.call("delete-file", {"id": file["id"]})
    status, body = await viewer.error("get-file", {"id": file["id"]})
    assert status == 404


async def test_files_do_not_move_across_teams(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    a = await owner.call("create-team", {"name": "A"})
    b = await owner.call("create-team", {"name": "B"})
    pa = await owner.call("create-project", {"teamId": a["id"], "name": "PA"})
    pb = await owner.call("create-project", {"teamId": b["id"], "name": "PB"})
    file = await owner.call("create-file", {"projectId": pa["id"], "name": "F"})
    status, body = await owner.error("move-files", {"ids": [file["id"]], "projectId": pb["id"]})
    assert (status, body["code"]) == (400, "cant-move-to-other-team")


async def test_names_are_checked(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "A"})
    for name in ("", "   ", "x" * 251):
        status, body = await owner.error("create-project", {"teamId": team["id"], "name": name})
        assert status == 400 and body["details"][0]["field"] == "name"
