"""Team fonts: variants with their files, checked for type and size."""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from typing import Any

from hookline.rpc.commands.fonts import MAX_FONT_BYTES
from tests.helpers import ApiFactory, team_with_members
from tests.rpc.commands.test_parity_workspace import check_roles

WOFF2 = base64.b64encode(b"wOF2" + bytes(60)).decode()
TTF = base64.b64encode(b"\x00\x01\x00\x00" + bytes(60)).decode()


def variant(team_id: str, font_id: str, **over: Any) -> dict[str, Any]:
    return {
        "teamId": team_id,
        "fontId": font_id,
        "fontFamily": "Inter",
        "fontWeight": 400,
        "fontStyle": "normal",
        "data": {"font/woff2": WOFF2, "font/ttf": TTF},
        **over,
    }


async def test_font_lifecycle(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    editor, viewer = members["editor"], members["viewer"]
    tid, font_id = team["id"], str(uuid.uuid4())
    regular = await editor.call("create-font-variant", variant(tid, font_id))
    assert regular["formats"] == ["font/ttf", "font/woff2"]
    bold = await editor.call("create-font-variant", variant(tid, font_id, fontWeight=700))
    listed = await viewer.call("get-font-variants", {"teamId": tid})
    assert [v["fontWeight"] for v in listed] == [400, 700]
    renamed = await editor.call("update-font", {"teamId": tid, "id": font_id, "name": "Inter 2"})
    assert {v["fontFamily"] for v in renamed} == {"Inter 2"}
    await editor.call("delete-font-variant", {"teamId": tid, "id": bold["id"]})
    assert len(await viewer.call("get-font-variants", {"teamId": tid})) == 1
    await editor.call("delete-font", {"teamId": tid, "id": font_id})
    assert await viewer.call("get-font-variants", {"teamId": tid}) == []
    status, _ = await editor.error("delete-font", {"teamId": tid, "id": font_id})
    assert status == 404
    # another team's font is not found through this team
    other = await editor.call("create-team", {"name": "Other"})
    theirs = await editor.call("create-font-variant", variant(other["id"], font_id))
    status, _ = await editor.error("delete-font-variant", {"teamId": tid, "id": theirs["id"]})
    assert status == 404


async def test_font_files_are_checked(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    tid = (await owner.call("create-team", {"name": "T"}))["id"]
    fid = str(uuid.uuid4())
    cases = [
        ({"font/svg": WOFF2}, "invalid-font-type"),
        ({"font/woff2": TTF}, "invalid-font-data"),
        ({"font/woff": base64.b64encode(b"<html>").decode()}, "invalid-font-data"),
        ({"font/woff2": "not base64!"}, "params-validation"),
        ({}, "params-validation"),
    ]
    for data, code in cases:
        status, body = await owner.error("create-font-variant", variant(tid, fid, data=data))
        assert (status, body["code"]) == (400, code), data
    status, body = await owner.error("create-font-variant", variant(tid, fid, fontStyle="oblique"))
    assert status == 400
    assert await owner.call("get-font-variants", {"teamId": tid}) == []


async def test_oversized_font_file(api_factory: ApiFactory) -> None:
    services = api_factory.services
    services.settings = dataclasses.replace(services.settings, max_body_bytes=8 * MAX_FONT_BYTES)
    owner = await api_factory.user()
    tid = (await owner.call("create-team", {"name": "T"}))["id"]
    big = base64.b64encode(b"wOF2" + bytes(MAX_FONT_BYTES)).decode()
    status, body = await owner.error(
        "create-font-variant", variant(tid, str(uuid.uuid4()), data={"font/woff2": big})
    )
    assert (status, body["code"]) == (400, "font-too-large")


async def test_font_permissions(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    tid = team["id"]
    owner = members["owner"]

    async def create() -> dict[str, Any]:
        return variant(tid, str(uuid.uuid4()))

    async def fresh_font() -> dict[str, Any]:
        made = await owner.call("create-font-variant", variant(tid, str(uuid.uuid4())))
        return {"teamId": tid, "id": made["fontId"]}

    async def rename() -> dict[str, Any]:
        return {**await fresh_font(), "name": "Renamed"}

    async def fresh_variant() -> dict[str, Any]:
        made = await owner.call("create-font-variant", variant(tid, str(uuid.uuid4())))
        return {"teamId": tid, "id": made["id"]}

    async def listing() -> dict[str, Any]:
        return {"teamId": tid}

    await check_roles(api_factory, members, "create-font-variant", create)
    await check_roles(api_factory, members, "update-font", rename)
    await check_roles(api_factory, members, "delete-font", fresh_font)
    await check_roles(api_factory, members, "delete-font-variant", fresh_variant)
    await check_roles(api_factory, members, "get-font-variants", listing, minimum="viewer")


async def test_font_files_in_transit_are_binary_values(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    tid = (await owner.call("create-team", {"name": "T"}))["id"]
    body = json.dumps(
        [
            "^ ",
            "~:team-id", f"~u{tid}",
            "~:font-id", f"~u{uuid.uuid4()}",
            "~:font-family", "Inter",
            "~:font-weight", 400,
            "~:font-style", "normal",
            "~:data", ["^ ", "font/woff2", f"~b{WOFF2}"],
        ]
    )  # fmt: skip
    response = await owner.client.post(
        "/api/rpc/command/create-font-variant",
        content=body,
        headers={"content-type": "application/transit+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["formats"] == ["font/woff2"]
