"""Each of the 24 commands Penpot labels WEBHOOK is in the catalogue, is
recorded with the props Penpot sends, and reaches a receiver."""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from typing import Any

from pydantic.alias_generators import to_camel

from hookline.delivery.worker import Worker
from hookline.rpc.catalogue import catalogue
from hookline.rpc.commands import build_registry
from hookline.storage.tables import deliveries
from tests.delivery.conftest import eventually
from tests.events.test_outbox import recorded
from tests.helpers import Api, ApiFactory
from tests.reliability.harness import Receiver

# Penpot's labelled commands: the props its events carry (snake_case here,
# camelCase in JSON deliveries); "exactly" where Penpot replaces the params.
PENPOT: dict[str, tuple[set[str], bool]] = {
    "export-binfile": ({"file_id", "include_libraries", "embed_assets"}, False),
    "import-binfile": ({"name", "project_id", "file_id", "generated_by"}, False),
    "create-comment-thread": (
        {"id", "file_id", "position", "content", "page_id", "frame_id", "mentions", "owner_id",
         "owner_fullname", "owner_email", "created_at", "modified_at"},
        False,
    ),
    "create-comment": (
        {"id", "thread_id", "file_id", "content", "mentions", "owner_id", "owner_fullname",
         "owner_email", "created_at", "modified_at"},
        False,
    ),
    "rename-file": ({"id", "name", "project_id", "created_at", "modified_at"}, False),
    "set-file-shared": ({"id", "is_shared", "name", "project_id"}, False),
    "delete-file": ({"id", "project_id", "name", "created_at", "modified_at"}, False),
    "link-file-to-library": ({"file_id", "library_id"}, False),
    "unlink-file-from-library": ({"file_id", "library_id"}, False),
    "create-file": ({"name", "project_id", "is_shared", "team_id"}, False),
    "update-file": ({"id", "name", "features", "project_id", "team_id"}, True),
    "create-font-variant": (
        {"team_id", "font_id", "font_family", "font_weight", "font_style", "data"},
        False,
    ),
    "update-font": ({"id", "name", "team_id", "profile_id"}, True),
    "delete-font": ({"id", "team_id", "name", "profile_id"}, True),
    "delete-font-variant": ({"team_id", "id", "font_family", "font_id"}, False),
    "duplicate-file": ({"file_id", "name"}, False),
    "duplicate-project": ({"project_id", "name"}, False),
    "move-files": ({"ids", "project_id"}, False),
    "move-project": ({"team_id", "project_id"}, False),
    "clone-template": ({"project_id", "template_id"}, False),
    "create-project": ({"team_id", "name"}, False),
    "update-project-pin": ({"team_id", "is_pinned", "id"}, False),
    "rename-project": ({"id", "name", "team_id", "prev_name"}, False),
    "delete-project": ({"id", "team_id", "name", "created_at", "modified_at"}, False),
}  # fmt: skip

WOFF2 = base64.b64encode(b"wOF2" + bytes(16)).decode()


async def raise_every_penpot_event(owner: Api, team_id: str) -> str:
    """Call each labelled command once in the team; answers a second team
    the caller moved a project to."""
    call = owner.call
    project = await call("create-project", {"teamId": team_id, "name": "P"})
    pid = project["id"]
    await call("rename-project", {"id": pid, "name": "P2"})
    await call("update-project-pin", {"teamId": team_id, "id": pid, "isPinned": True})
    lib = await call("create-file", {"projectId": pid, "name": "Lib", "isShared": False})
    await call("set-file-shared", {"id": lib["id"], "isShared": True})
    file = await call("create-file", {"projectId": pid, "name": "F"})
    await call("rename-file", {"id": file["id"], "name": "F2"})
    await call("update-file", {"id": file["id"], "revn": 0, "changes": [{"op": "x"}]})
    link = {"fileId": file["id"], "libraryId": lib["id"]}
    await call("link-file-to-library", link)
    archive = await owner.post("export-binfile", {"fileId": file["id"], "includeLibraries": True})
    await call(
        "import-binfile",
        {"name": "Imported", "projectId": pid, "file": base64.b64encode(archive.content).decode()},
    )
    await call("unlink-file-from-library", link)
    thread = await call(
        "create-comment-thread",
        {
            "fileId": file["id"],
            "content": "Why?",
            "position": {"x": 1, "y": 2},
            "pageId": str(uuid.uuid4()),
            "frameId": str(uuid.uuid4()),
            "mentions": [owner.id],
        },
    )
    await call("create-comment", {"threadId": thread["id"], "content": "ok", "mentions": []})
    copy = await call("duplicate-file", {"fileId": file["id"], "name": "Copy"})
    other = await call("create-project", {"teamId": team_id, "name": "Other"})
    await call("move-files", {"ids": [copy["id"]], "projectId": other["id"]})
    await call("duplicate-project", {"projectId": pid, "name": "P3"})
    await call("clone-template", {"projectId": pid, "templateId": "landing-page"})
    font = {"teamId": team_id, "fontId": str(uuid.uuid4())}
    style = {"fontFamily": "Inter", "fontWeight": 400, "fontStyle": "normal"}
    variant = await call("create-font-variant", {**font, **style, "data": {"font/woff2": WOFF2}})
    await call("update-font", {"teamId": team_id, "id": font["fontId"], "name": "Inter 2"})
    await call("delete-font-variant", {"teamId": team_id, "id": variant["id"]})
    await call("create-font-variant", {**font, **style, "data": {"font/woff2": WOFF2}})
    await call("delete-font", {"teamId": team_id, "id": font["fontId"]})
    await call("delete-file", {"id": file["id"]})
    elsewhere = await call("create-team", {"name": "Elsewhere"})
    await call("move-project", {"teamId": elsewhere["id"], "projectId": other["id"]})
    await call("delete-project", {"id": pid})
    return str(elsewhere["id"])


def test_the_catalogue_has_every_penpot_event() -> None:
    assert len(PENPOT) == 24
    assert set(PENPOT) <= set(catalogue(build_registry()))


async def test_every_penpot_event_is_recorded_and_delivered_with_penpot_props(
    api_factory: ApiFactory, receiver: Receiver, worker: Worker
) -> None:
    services = api_factory.services
    services.settings = dataclasses.replace(services.settings, coalesce_window_s=0.2)
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    await owner.call("create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/ok"})
    await raise_every_penpot_event(owner, team["id"])

    rows = {row["name"]: row for row in await recorded(services) if row["name"] in PENPOT}
    assert set(rows) == set(PENPOT)
    types = catalogue(build_registry())
    for name, (keys, exactly) in PENPOT.items():
        props = rows[name]["props"]
        assert keys <= set(props), (name, keys - set(props))
        if exactly:
            assert set(props) == keys, name
        assert str(rows[name]["team_id"]) == team["id"], name
    assert rows["create-font-variant"]["props"]["data"] == ["font/woff2"]
    assert rows["rename-project"]["props"]["prev_name"] == "P"
    assert rows["import-binfile"]["props"]["generated_by"].startswith("hookline/")

    # every one reaches the receiver as documented (the coalesced ones are
    # made due now rather than waited for)
    async with services.db.write() as conn:
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.status == "pending")
            .values(next_attempt_at=services.clock.now())
        )

    def delivered() -> dict[str, Any]:
        bodies = [json.loads(r.body) for r in receiver.requests]
        return {b["name"]: b for b in bodies if b["name"] in PENPOT}

    await eventually(lambda: set(delivered()) == set(PENPOT))
    for name, body in delivered().items():
        types[name].model.model_validate(body)
        assert {to_camel(k) for k in PENPOT[name][0]} <= set(body["props"]), name
