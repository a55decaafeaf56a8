"""Events recorded by the commands that raise them, in their transaction."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hookline.clock import FrozenClock
from hookline.events import outbox
from hookline.rpc.catalogue import catalogue
from hookline.rpc.commands import build_registry
from hookline.services import Services
from hookline.storage.tables import deliveries, events, projects
from tests.helpers import Api, ApiFactory, team_with_members

HOOK = "http://127.0.0.1:9/hook"


async def recorded(services: Services, name: str | None = None) -> list[dict[str, Any]]:
    query = select(events).order_by(events.c.id)
    if name is not None:
        query = query.where(events.c.name == name)
    async with services.db.read() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


async def delivery_rows(services: Services) -> list[dict[str, Any]]:
    async with services.db.read() as conn:
        rows = await conn.execute(select(deliveries).order_by(deliveries.c.id))
        return [dict(row._mapping) for row in rows]


def as_delivered(row: dict[str, Any]) -> dict[str, Any]:
    """The event object as documented (camelCase), from its row."""
    from pydantic.alias_generators import to_camel

    return {
        "id": str(row["id"]),
        "name": row["name"],
        "profileId": str(row["profile_id"]) if row["profile_id"] else None,
        "teamId": str(row["team_id"]),
        "props": {to_camel(k): v for k, v in row["props"].items()},
        "createdAt": row["created_at"].isoformat(),
        "trackedAt": row["tracked_at"].isoformat(),
    }


async def setup_team(api_factory: ApiFactory) -> tuple[dict[str, Any], dict[str, Api], str]:
    team, members = await team_with_members(api_factory, ("editor", "viewer"))
    hook = await members["owner"].call(
        "create-webhook", {"teamId": team["id"], "uri": HOOK, "name": "all"}
    )
    return team, members, hook["id"]


async def test_every_labelled_command_records_its_documented_event(
    api_factory: ApiFactory,
) -> None:
    services = api_factory.services
    team, members, _hook = await setup_team(api_factory)
    owner, editor = members["owner"], members["editor"]
    tid = team["id"]
    project = await owner.call("create-project", {"teamId": tid, "name": "P"})
    other = await owner.call("create-project", {"teamId": tid, "name": "Q"})
    await owner.call("rename-project", {"id": project["id"], "name": "P2"})
    await owner.call("update-project-pin", {"teamId": tid, "id": project["id"], "isPinned": True})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    await owner.call("rename-file", {"id": file["id"], "name": "F2"})
    await owner.call("update-file", {"id": file["id"], "revn": 0, "changes": [{"type": "x"}]})
    await owner.call("set-file-shared", {"id": file["id"], "isShared": True})
    await owner.call("move-files", {"ids": [file["id"]], "projectId": other["id"]})
    user = await owner.call("create-file", {"projectId": other["id"], "name": "U"})
    link = {"fileId": user["id"], "libraryId": file["id"]}
    await owner.call("link-file-to-library", link)
    await owner.call("unlink-file-from-library", link)
    await owner.call("duplicate-file", {"fileId": user["id"]})
    await owner.call("duplicate-project", {"projectId": other["id"]})
    elsewhere = await owner.call("create-team", {"name": "Elsewhere"})
    moved = await owner.call("create-project", {"teamId": tid, "name": "Moved"})
    await owner.call("move-project", {"teamId": elsewhere["id"], "projectId": moved["id"]})
    font = {"teamId": tid, "fontId": str(uuid.uuid4()), "fontFamily": "Inter"}
    woff2 = base64.b64encode(b"wOF2" + bytes(8)).decode()
    style = {"fontWeight": 400, "fontStyle": "normal", "data": {"font/woff2": woff2}}
    variant = await owner.call("create-font-variant", {**font, **style})
    await owner.call("update-font", {"teamId": tid, "id": font["fontId"], "name": "Inter 2"})
    await owner.call("delete-font-variant", {"teamId": tid, "id": variant["id"]})
    await owner.call("create-font-variant", {**font, **style})
    await owner.call("delete-font", {"teamId": tid, "id": font["fontId"]})
    archive = await owner.post("export-binfile", {"fileId": user["id"]})
    await owner.call(
        "import-binfile",
        {"name": "I", "projectId": other["id"], "file": base64.b64encode(archive.content).decode()},
    )
    await owner.call("clone-template", {"projectId": other["id"], "templateId": "landing-page"})
    thread = await owner.call("create-comment-thread", {"fileId": file["id"], "content": "hi"})
    await owner.call("create-comment", {"threadId": thread["id"], "content": "reply"})
    await owner.call("delete-file", {"id": file["id"]})
    await owner.call("delete-project", {"id": project["id"]})
    await owner.call("update-team", {"id": tid, "name": "Renamed"})
    await editor.call("update-profile", {"fullname": "New Name"})
    await owner.call(
        "update-team-member-role", {"teamId": tid, "memberId": editor.id, "role": "admin"}
    )
    newcomer = await api_factory.user("newcomer")
    invitation = await owner.call(
        "create-team-invitation", {"teamId": tid, "email": newcomer.profile["email"]}
    )
    await newcomer.call("accept-team-invitation", {"token": invitation["token"]})
    await owner.call("delete-team-member", {"teamId": tid, "memberId": newcomer.id})

    rows = await recorded(services)
    names = [row["name"] for row in rows]
    labelled = set(catalogue(build_registry()))
    assert labelled - set(names) == set(), "every event type was raised"
    for row in rows:
        event_type = catalogue(build_registry())[row["name"]]
        event_type.model.model_validate(as_delivered(row))
        assert str(row["team_id"]) == tid
        assert not {"password", "token", "changes"} & set(row["props"]), row
        assert None not in row["props"].values()
    [update_file] = [r for r in rows if r["name"] == "update-file"]
    assert set(update_file["props"]) == {"id", "name", "project_id", "team_id", "features"}
    [renamed] = [r for r in rows if r["name"] == "rename-file"]
    assert {"id", "name", "project_id", "created_at", "modified_at"} <= set(renamed["props"])
    [profile_event] = [r for r in rows if r["name"] == "update-profile"]
    assert profile_event["props"] == {"fullname": "New Name", "id": editor.id}
    [accepted] = [r for r in rows if r["name"] == "accept-team-invitation"]
    assert invitation["token"] not in str(accepted["props"])
    # one delivery per event for the one webhook (ping included)
    assert len(await delivery_rows(services)) == len(rows)


async def test_update_profile_reaches_every_team(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    for name in ("A", "B"):
        team = await user.call("create-team", {"name": name})
        await user.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    await user.call("create-team", {"name": "no webhook"})
    await user.call("update-profile", {"fullname": "Everywhere"})
    assert len(await recorded(api_factory.services, "update-profile")) == 2


async def test_failing_commands_raise_no_event(api_factory: ApiFactory) -> None:
    team, members, _hook = await setup_team(api_factory)
    owner, viewer = members["owner"], members["viewer"]
    before = await recorded(api_factory.services)
    await owner.error("create-project", {"teamId": team["id"], "name": "x" * 300})
    await viewer.error("create-project", {"teamId": team["id"], "name": "viewer"})
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    status, body = await owner.error("update-file", {"id": file["id"], "revn": 5, "changes": []})
    assert (status, body["code"]) == (409, "revn-conflict")
    after = await recorded(api_factory.services)
    assert [r["name"] for r in after[len(before) :]] == ["create-project", "create-file"]


async def test_event_filters(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    only = await owner.call(
        "create-webhook", {"teamId": team["id"], "uri": HOOK, "events": ["create-project"]}
    )
    every = await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    inactive = await owner.call(
        "create-webhook", {"teamId": team["id"], "uri": HOOK, "isActive": False}
    )
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    await owner.call("rename-project", {"id": project["id"], "name": "P2"})
    rows = await delivery_rows(api_factory.services)
    by_hook: dict[str, int] = {}
    for row in rows:
        by_hook[str(row["webhook_id"])] = by_hook.get(str(row["webhook_id"]), 0) + 1
    assert by_hook[only["id"]] == 1 + 1  # ping + create-project
    assert by_hook[every["id"]] == 1 + 2  # ping + both
    assert inactive["id"] not in by_hook
    _status, body = await owner.error(
        "create-webhook", {"teamId": team["id"], "uri": HOOK, "events": ["no-such-event"]}
    )
    assert body["code"] == "unknown-event-type" and "create-project" in body["hint"]


async def test_outbox_is_atomic_with_the_change(
    api_factory: ApiFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    before = await recorded(api_factory.services)
    real_record = outbox.record

    async def record_then_fail(*args: Any, **kw: Any) -> Any:
        await real_record(*args, **kw)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(outbox, "record", record_then_fail)
    response = await owner.post("create-project", {"teamId": team["id"], "name": "Lost"})
    assert response.status_code == 500
    assert response.json()["code"] == "unexpected-error"
    assert await recorded(api_factory.services) == before
    async with api_factory.services.db.read() as conn:
        # Only the owner's Drafts, made at registration: "Lost" was rolled back.
        names = (await conn.execute(select(projects.c.name))).scalars().all()
        assert names == ["Drafts"]


async def test_update_file_is_coalesced_with_a_cap(api_factory: ApiFactory) -> None:
    services = api_factory.services
    clock = FrozenClock()
    services.clock = clock
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    start = clock.now()
    window = timedelta(seconds=services.settings.coalesce_window_s)
    cap = timedelta(seconds=services.settings.coalesce_max_delay_s)

    async def due_times() -> list[Any]:
        async with services.db.read() as conn:
            rows = await conn.execute(
                select(deliveries.c.next_attempt_at)
                .join(events, events.c.id == deliveries.c.event_id)
                .where(events.c.name == "update-file")
                .order_by(deliveries.c.id)
            )
            return [row.next_attempt_at for row in rows]

    # A steady edit every minute for 15 minutes: one event, due no later than the cap.
    for revn in range(15):
        await owner.call("update-file", {"id": file["id"], "revn": revn, "changes": [revn]})
        assert await due_times() == [min(clock.now() + window, start + cap)]
        clock.advance(seconds=60)
    [event] = await recorded(services, "update-file")
    assert event["props"]["name"] == "F"
    # Once the event has gone out, the next edit starts a new one.
    async with services.db.write() as conn:
        await conn.execute(deliveries.update().values(status="succeeded", attempts=1))
    await owner.call("rename-file", {"id": file["id"], "name": "G"})
    await owner.call("update-file", {"id": file["id"], "revn": 15, "changes": []})
    rows = await recorded(services, "update-file")
    assert len(rows) == 2 and rows[1]["props"]["name"] == "G"
    # Another person's edits of the same file are their own event.
    editor = await api_factory.user()
    invitation = await owner.call(
        "create-team-invitation",
        {"teamId": team["id"], "email": editor.profile["email"], "role": "editor"},
    )
    await editor.call("accept-team-invitation", {"token": invitation["token"]})
    await editor.call("update-file", {"id": file["id"], "revn": 16, "changes": []})
    assert len(await recorded(services, "update-file")) == 3


@pytest.mark.parametrize("hooks", [1, 8, 9])
async def test_an_event_and_its_deliveries_are_written_together(
    api_factory: ApiFactory, hooks: int
) -> None:
    """On PostgreSQL up to eight deliveries go in the event's own statement
    and more in a second one; on either database the rows are the same."""
    import dataclasses

    services = api_factory.services
    services.settings = dataclasses.replace(services.settings, max_webhooks_per_team=hooks)
    owner = await api_factory.user()
    team = (await owner.call("create-team", {"name": "T"}))["id"]
    made = [
        await owner.call("create-webhook", {"teamId": team, "uri": f"{HOOK}/{n}"})
        for n in range(hooks)
    ]
    await owner.call("create-project", {"teamId": team, "name": "P"})
    (event,) = await recorded(services, "create-project")
    assert str(event["team_id"]) == team and event["props"]["name"] == "P"
    rows = [row for row in await delivery_rows(services) if row["event_id"] == event["id"]]
    assert sorted(str(row["webhook_id"]) for row in rows) == sorted(h["id"] for h in made)
    assert {row["status"] for row in rows} == {"pending"}
    assert all(row["created_at"] == event["created_at"] for row in rows)
