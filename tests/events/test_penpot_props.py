"""Props that match Penpot's: comment rows, pin coalescing, features as a set."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hookline.clock import FrozenClock
from hookline.delivery import render
from hookline.delivery.queue import EventRow
from hookline.storage.tables import deliveries, events
from tests.events.test_outbox import HOOK, recorded, setup_team
from tests.helpers import ApiFactory


async def test_comment_events_carry_the_rows(api_factory: ApiFactory) -> None:
    team, members, _hook = await setup_team(api_factory)
    owner, editor = members["owner"], members["editor"]
    project = await owner.call("create-project", {"teamId": team["id"], "name": "P"})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "F"})
    page = str(uuid.uuid4())
    thread = await owner.call(
        "create-comment-thread",
        {"fileId": file["id"], "content": "hi @ed", "pageId": page, "mentions": [editor.id]},
    )
    assert thread["mentions"] == [editor.id] and thread["pageId"] == page
    await editor.call(
        "create-comment", {"threadId": thread["id"], "content": "ok", "mentions": [owner.id]}
    )
    [t] = await recorded(api_factory.services, "create-comment-thread")
    assert t["props"] == {
        "id": thread["id"],
        "file_id": file["id"],
        "project_id": project["id"],
        "team_id": team["id"],
        "owner_id": owner.id,
        "owner_fullname": owner.profile["fullname"],
        "owner_email": owner.profile["email"],
        "content": "hi @ed",
        "page_id": page,
        "mentions": [editor.id],
        "created_at": thread["createdAt"],
        "modified_at": thread["modifiedAt"],
    }
    [c] = await recorded(api_factory.services, "create-comment")
    assert c["props"]["file_id"] == file["id"] and c["props"]["thread_id"] == thread["id"]
    assert (c["props"]["owner_id"], c["props"]["owner_email"]) == (
        editor.id,
        editor.profile["email"],
    )
    assert c["props"]["mentions"] == [owner.id]
    assert {"created_at", "modified_at", "owner_fullname", "content"} <= set(c["props"])
    [listed] = await owner.call("get-comment-threads", {"fileId": file["id"]})
    assert listed["mentions"] == [editor.id]
    # only members of the team can be mentioned
    stranger = await api_factory.user("stranger")
    status, body = await owner.error(
        "create-comment", {"threadId": thread["id"], "content": "x", "mentions": [stranger.id]}
    )
    assert (status, body["code"]) == (400, "invalid-mention")


async def test_update_project_pin_is_coalesced_for_5_seconds(api_factory: ApiFactory) -> None:
    services = api_factory.services
    clock = FrozenClock()
    services.clock = clock
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    await owner.call("create-webhook", {"teamId": team["id"], "uri": HOOK})
    a = await owner.call("create-project", {"teamId": team["id"], "name": "A"})
    b = await owner.call("create-project", {"teamId": team["id"], "name": "B"})

    async def pin(project: dict[str, str], pinned: bool) -> None:
        await owner.call(
            "update-project-pin", {"teamId": team["id"], "id": project["id"], "isPinned": pinned}
        )

    start = clock.now()
    for flip in range(4):  # one toggle a second: one event, due 5 s after the last
        await pin(a, flip % 2 == 0)
        clock.advance(seconds=1)
    await pin(b, True)  # another project: its own event
    rows = await recorded(services, "update-project-pin")
    assert [r["props"]["id"] for r in rows] == [a["id"], b["id"]]
    assert rows[0]["props"]["is_pinned"] is False  # the last state
    async with services.db.read() as conn:
        due = await conn.scalar(
            select(deliveries.c.next_attempt_at)
            .join(events, events.c.id == deliveries.c.event_id)
            .where(events.c.id == rows[0]["id"])
        )
    assert due == start + timedelta(seconds=3 + 5)
    # after the window has passed without a send, a new toggle still merges
    # while unsent; once sent, the next toggle is a new event
    async with services.db.write() as conn:
        await conn.execute(deliveries.update().values(status="succeeded", attempts=1))
    clock.advance(seconds=10)
    await pin(a, True)
    assert len(await recorded(services, "update-project-pin")) == 3


def test_features_travel_as_a_set_in_transit() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    event = EventRow(
        uuid.uuid4(),
        "update-file",
        uuid.uuid4(),
        None,
        {"id": str(uuid.uuid4()), "features": ["components/v2", "styles/v2"]},
        now,
        now,
    )
    body = render.body(render.TRANSIT, [event], batch=False).decode()
    assert '["~#set",[' in body and "components/v2" in body
    assert (
        '"features":["components/v2","styles/v2"]'
        in render.body(render.JSON, [event], batch=False).decode()
    )
