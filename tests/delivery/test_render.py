"""An event's body is rendered once for every webhook it goes to, and
anew once an edit coalesced into it has changed it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hookline.delivery import render
from hookline.delivery.queue import EventRow
from hookline.ids import new_id

NOW = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)


def event(**props: object) -> EventRow:
    return EventRow(new_id(), "update-file", new_id(), new_id(), dict(props), NOW, NOW)


def test_a_body_is_kept_per_event_version_and_type() -> None:
    first = event(name="a")
    body = render.single_body(render.JSON, first)
    assert render.single_body(render.JSON, first) is body
    assert b'"name":"a"' in body.replace(b" ", b"")
    # An edit coalesced into the event changes its props and tracked_at.
    edited = dataclasses.replace(first, props={"name": "b"}, tracked_at=NOW + timedelta(seconds=1))
    assert b'"name":"b"' in render.single_body(render.JSON, edited).replace(b" ", b"")
    transit = render.single_body(render.TRANSIT, first)
    assert transit != body and render.single_body(render.TRANSIT, first) is transit


def test_only_small_bodies_are_kept_and_only_so_many() -> None:
    large = event(blob="x" * render.KEPT_BODY_MAX)
    assert render.single_body(render.JSON, large) == render.single_body(render.JSON, large)
    assert (large.id, large.tracked_at, render.JSON) not in render._kept
    for _ in range(render.KEPT_BODIES + 5):
        render.single_body(render.JSON, event(name="n"))
    assert len(render._kept) <= render.KEPT_BODIES
