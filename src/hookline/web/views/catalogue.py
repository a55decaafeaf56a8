"""The events catalogue: every event a webhook can receive, for anyone."""

from __future__ import annotations

from starlette.responses import Response

from hookline.web.pages import render
from hookline.web.visit import Visit


async def events_catalogue(visit: Visit) -> Response:
    return await render(
        visit, "events/catalogue.html", event_types=await visit.run("get-webhook-event-types")
    )
