from __future__ import annotations

import re
from html import unescape

from openapi_spec_validator import validate

from hookline.rpc.commands import build_registry
from hookline.web.security import PAGE_HEADERS
from tests.helpers import Api


async def test_openapi_is_valid_and_lists_every_command(api: Api) -> None:
    response = await api.client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    registry = build_registry()
    assert len(registry) > 0
    for spec in registry:
        path = document["paths"][f"/api/rpc/command/{spec.name}"]
        assert path["post"]["x-auth"] is spec.auth
        assert path["post"]["x-webhook"] is spec.webhook
        assert ("get" in path) is spec.is_query


async def test_doc_page_lists_every_command_with_flags(api: Api) -> None:
    response = await api.client.get("/api/_doc")
    assert response.status_code == 200
    html = response.text
    words = unescape(" ".join(re.sub(r"<[^>]+>", "", html).split()))
    for spec in build_registry():
        assert f'id="{spec.name}"' in html
        assert " ".join(spec.doc.replace("`", "").split(". ")[0][:40].split()) in words
    assert "AUTH" in html


async def test_doc_shows_each_event_schema_and_example(api: Api) -> None:
    page = (await api.client.get("/api/_doc")).text
    assert "Webhook event <code>create-project</code>" in page
    assert "Example payload" in page
    document = (await api.client.get("/api/openapi.json")).json()
    post = document["paths"]["/api/rpc/command/update-file"]["post"]
    assert post["x-webhook-event"]["example"]["name"] == "update-file"
    assert "changes" not in post["x-webhook-event"]["example"]["props"]


async def test_doc_page_carries_the_ui_pages_security_headers(api: Api) -> None:
    """No framing, no sniffing, no inline script or style: the same policy as
    the UI, and the site's own stylesheet."""
    response = await api.client.get("/api/_doc")
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value, name
    assert "<style" not in response.text and "<script" not in response.text
    assert 'href="/static/hookline.css"' in response.text
