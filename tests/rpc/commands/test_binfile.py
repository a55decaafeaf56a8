"""export-binfile answers an archive that import-binfile turns back into files."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

from hookline.rpc.commands.binfile import MAX_UNPACKED_BYTES
from tests.helpers import Api, ApiFactory, team_with_members
from tests.rpc.commands.test_parity_workspace import check_roles


async def export(api: Api, params: dict[str, Any]) -> bytes:
    response = await api.post("export-binfile", params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response.content


async def upload(api: Api, name: str, project_id: str, archive: bytes) -> Any:
    """import-binfile as Penpot clients send it: a multipart form."""
    return await api.client.post(
        "/api/rpc/command/import-binfile",
        data={"name": name, "project-id": project_id},
        files={"file": ("export.zip", archive, "application/zip")},
        # Signed in with a cookie, a browser on Hookline's page says so.
        headers={"sec-fetch-site": "same-origin"},
    )


def zipped(entries: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content if isinstance(content, bytes) else json.dumps(content))
    return out.getvalue()


async def test_round_trip_with_libraries(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    lib = await owner.call(
        "create-file", {"projectId": project["id"], "name": "Lib", "isShared": True}
    )
    await owner.call("update-file", {"id": lib["id"], "revn": 0, "changes": [{"c": "lib"}]})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "Home page"})
    await owner.call("update-file", {"id": file["id"], "revn": 0, "changes": [{"c": "home"}]})
    await owner.call("link-file-to-library", {"fileId": file["id"], "libraryId": lib["id"]})

    alone = await export(owner, {"fileId": file["id"]})
    unicode = await owner.call("create-file", {"projectId": project["id"], "name": "Café 日本"})
    response = await owner.post("export-binfile", {"fileId": unicode["id"]})
    assert response.headers["content-disposition"] == 'attachment; filename="Caf.zip"'

    assert len(zipfile.ZipFile(io.BytesIO(alone)).namelist()) == 2
    archive = await export(owner, {"fileId": file["id"], "includeLibraries": True})

    other = await owner.call("create-team", {"name": "Elsewhere"})
    target = await owner.call("create-project", {"teamId": other["id"], "name": "Q"})
    response = await upload(owner, "Imported", target["id"], archive)
    assert response.status_code == 200, response.text
    created = {f["name"]: f for f in response.json()}
    assert set(created) == {"Imported", "Lib"}
    assert created["Lib"]["isShared"] is True and created["Imported"]["revn"] == 1
    got = await owner.call("get-file", {"id": created["Imported"]["id"]})
    assert got["data"] == {"changes": [{"c": "home"}]} and got["teamId"] == other["id"]
    libs = await owner.call("get-file-libraries", {"fileId": created["Imported"]["id"]})
    assert [lib["id"] for lib in libs] == [created["Lib"]["id"]]

    # without its libraries: one file, and no link to a library left behind
    imported = await owner.call(
        "import-binfile",
        {"name": "Alone", "projectId": target["id"], "file": base64.b64encode(alone).decode()},
    )
    assert [f["name"] for f in imported] == ["Alone"]
    assert await owner.call("get-file-libraries", {"fileId": imported[0]["id"]}) == []

    # names by archived file id, as Penpot clients may send them
    by_id = await owner.call(
        "import-binfile",
        {
            "name": {lib["id"]: "Renamed lib"},
            "projectId": target["id"],
            "file": base64.b64encode(archive).decode(),
        },
    )
    assert sorted(f["name"] for f in by_id) == ["Home page", "Renamed lib"]


async def test_malformed_archives_create_nothing(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    good = await export(owner, {"fileId": file["id"]})
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(good)).read("manifest.json"))
    data_name = f"files/{file['id']}.json"
    bomb = zipped({"manifest.json": manifest, data_name: b"0" * (MAX_UNPACKED_BYTES + 1)})
    bad = {
        "not a zip": b"hello, this is not a zip",
        "truncated": good[: len(good) // 2],
        "no manifest": zipped({data_name: None}),
        "manifest not json": zipped({"manifest.json": b"{", data_name: None}),
        "foreign format": zipped({"manifest.json": {**manifest, "format": "penpot"}}),
        "bad manifest": zipped({"manifest.json": {**manifest, "files": []}, data_name: None}),
        "missing data": zipped({"manifest.json": manifest}),
        "data not json": zipped({"manifest.json": manifest, data_name: b"\xff\xfe"}),
        "unpacks too large": bomb,
    }
    for label, archive in bad.items():
        response = await upload(owner, "X", project["id"], archive)
        assert response.status_code == 400, (label, response.text)
        assert response.json()["code"] == "invalid-archive", label
    files = await owner.call("get-project-files", {"projectId": project["id"]})
    assert [f["name"] for f in files] == ["F"]
    response = await owner.client.post(
        "/api/rpc/command/import-binfile",
        content=b"--x\r\nbroken",
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "sec-fetch-site": "same-origin",
        },
    )
    assert response.status_code == 400


async def test_binfile_permissions(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory)
    owner = members["owner"]
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    archive = base64.b64encode(await export(owner, {"fileId": file["id"]})).decode()

    async def export_params() -> dict[str, Any]:
        return {"fileId": file["id"]}

    async def import_params() -> dict[str, Any]:
        return {"name": "Copy", "projectId": project["id"], "file": archive}

    # export-binfile answers a download, which check_roles cannot read as JSON
    for role in ("owner", "admin", "editor", "viewer"):
        await export(members[role], await export_params())
    stranger = await api_factory.user("stranger")
    status, _ = await stranger.error("export-binfile", await export_params())
    assert status == 404
    await check_roles(api_factory, members, "import-binfile", import_params)
