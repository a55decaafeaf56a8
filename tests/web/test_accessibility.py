"""axe-core (from npm, installed by ``make test``) on every page of the UI, in
the light and the dark colour scheme: no serious or critical violation."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.reliability.harness import Server
from tests.web.live import (
    CHROMIUM,
    ApiCaller,
    ThreadedReceiver,
    register,
    running_receiver,
    running_server,
)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
WAIT_S = 20.0

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} is missing: `make test` installs it with npm ci")
        pytest.skip(f"{AXE} is missing: run `npm ci`")
    return AXE.read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def _pages(server: Server, receiver: ThreadedReceiver) -> tuple[str, list[str]]:
    """A session and every kind of page, filled with a little data."""
    base = server.base
    email = f"axe-{time.monotonic_ns()}@example.com"
    session = register(base, email, "Ada Lovelace")
    api = ApiCaller(base, session=session)
    try:
        own = api.call("get-profile")["defaultTeamId"]
        team = api.call("create-team", {"name": "Design"})
        api.call(
            "create-team-invitation",
            {"teamId": team["id"], "email": "grace@example.com", "role": "editor"},
        )
        api.call("create-access-token", {"name": "CI", "expiration": "720h"})
        hook = api.call(
            "create-webhook",
            {"teamId": team["id"], "uri": f"{receiver.base}/ok/a", "name": "Orders"},
        )
        api.call("create-project", {"teamId": team["id"], "name": "Website"})
        deadline = time.monotonic() + WAIT_S
        while True:
            page = api.call("get-webhook-deliveries", {"webhookId": hook["id"]})
            if page["items"] and all(d["status"] == "succeeded" for d in page["items"]):
                break
            assert time.monotonic() < deadline, "deliveries were not made"
            time.sleep(0.2)
        delivery = page["items"][0]["id"]
        hook_path = f"/webhooks/{hook['id']}"
        paths = [
            f"/teams/{own}",
            f"/teams/{team['id']}",
            f"/teams/{team['id']}/webhooks",
            f"/teams/{team['id']}/webhooks/new",
            hook_path,
            f"{hook_path}/settings",
            f"{hook_path}/secret",
            f"{hook_path}/history",
            f"{hook_path}/recover",
            f"/deliveries/{delivery}",
            "/settings/tokens",
            "/settings/profile",
            "/settings/applications",
            "/settings/authorized-applications",
            "/teams/new",
            "/events",
            "/api/_doc",
            "/no-such-page",
        ]
        return session, paths
    finally:
        api.close()


def _violations(
    browser: Browser,
    base: str,
    paths: list[str],
    source: str,
    *,
    session: str = "",
    scheme: str = "light",
) -> dict[str, Any]:
    """Serious and critical violations by page. The pages forbid inline
    script, and axe is injected as one: this context bypasses the policy."""
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 1200, "height": 900}, color_scheme=scheme
    )
    if session:
        context.add_cookies([{"name": "hookline_session", "value": session, "url": base}])
    found: dict[str, Any] = {}
    try:
        page = context.new_page()
        for path in paths:
            page.goto(base + path)
            page.add_script_tag(content=source)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            bad = [
                {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
                for v in result["violations"]
                if v["impact"] in BLOCKING
            ]
            if bad:
                found[f"{path} ({scheme})"] = bad
    finally:
        context.close()
    return found


def test_no_serious_or_critical_violation_on_any_page(
    browser: Browser, axe_source: str, tmp_path: Path
) -> None:
    with running_server(tmp_path) as server, running_receiver() as receiver:
        session, paths = _pages(server, receiver)
        public = ["/login", "/signup", "/events", "/api/_doc", "/invitations/accept?token=x"]
        found = {}
        for scheme in ("light", "dark"):
            found.update(_violations(browser, server.base, public, axe_source, scheme=scheme))
            found.update(
                _violations(browser, server.base, paths, axe_source, session=session, scheme=scheme)
            )
    assert found == {}, json.dumps(found, indent=2)
