"""The events catalogue at /events, linked from the API docs."""

from __future__ import annotations

import html

from hookline.rpc.catalogue import catalogue
from hookline.rpc.commands import build_registry
from tests.web.client import WebFactory, text


async def test_every_event_with_description_schema_and_example(web: WebFactory) -> None:
    visitor = await web.anonymous()
    page = await visitor.get("/events")
    assert page.status_code == 200
    words = text(page.text)
    events = catalogue(build_registry())
    assert len(events) > 10
    for event in events.values():
        assert f'id="{event.name}"' in page.text
        assert " ".join(event.description.split()) in words
        assert f'"name": "{event.name}"' in html.unescape(page.text)
    assert page.text.count("<summary>JSON Schema</summary>") == len(events)
    assert '"$defs"' in html.unescape(page.text) or '"properties"' in html.unescape(page.text)


async def test_linked_from_the_api_docs(web: WebFactory) -> None:
    visitor = await web.anonymous()
    docs = await visitor.get("/api/_doc")
    assert 'href="/events"' in docs.text
    signed_in = await web.user()
    assert 'href="/events"' in (await signed_in.get("/settings/tokens")).text
