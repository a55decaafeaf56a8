"""The events catalogue at /events, linked from the API docs."""

from __future__ import annotations

import html
import re

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


async def test_api_doc_in_the_site_layout(web: WebFactory) -> None:
    """/api/_doc: the site's header and stylesheet, a main landmark, commands
    as headings with a side index, docstrings with code spans, and params and
    results as tables whose named types link to their own table."""
    page = (await (await web.anonymous()).get("/api/_doc")).text
    assert '<link rel="stylesheet" href="/static/hookline.css">' in page
    assert '<main id="main"' in page and 'aria-label="Commands"' in page
    assert "<style>" not in page
    assert "<p>Send a signed <code>ping</code> event" in page
    assert '<th scope="col">Type</th>' in page and "<th></th>" not in page
    links = set(re.findall(r'href="#schema-([^"]+)"', page))
    assert links and all(f'id="schema-{name}"' in page for name in links)


async def test_catalogue_groups_events_by_area(web: WebFactory) -> None:
    page = (await (await web.anonymous()).get("/events")).text
    areas = re.findall(r'<h2 class="event-index-area">([^<]+)</h2>', page)
    assert areas[:3] == ["Projects", "Files", "Comments"] and "Team" in areas
    assert "a Transit list" in page
