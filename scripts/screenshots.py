"""Screenshots of each page of the web UI, for the README.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]   (default: docs/screenshots)

Starts ``hookline serve`` on a fresh database and a webhook receiver, fills
them with a little example data, and saves one PNG per page with Debian's
Chromium. The browser tests run ``capture`` too, so the pictures cannot
drift far from what the pages show."""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.web.live import (  # noqa: E402
    CHROMIUM,
    ApiCaller,
    register,
    running_receiver,
    running_server,
)

PAGES = (
    "login",
    "team",
    "tokens",
    "consent",
    "webhooks",
    "webhook",
    "settings",
    "history",
    "delivery",
    "events",
    "narrow",
)
WAIT_S = 20.0


def _wait(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {WAIT_S}s")
        time.sleep(0.2)


def _seed(base: str, receiver: str, suffix: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Two people in a team, tokens, three webhooks and a few events.
    Answers Ada's session key, the team, and the webhook to show."""
    ada = register(base, f"ada{suffix}@example.com", "Ada Lovelace")
    grace = register(base, f"grace{suffix}@example.com", "Grace Hopper")
    api, other = ApiCaller(base, session=ada), ApiCaller(base, session=grace)
    try:
        team = api.call("create-team", {"name": "Design"})
        api.call("create-team", {"name": "Marketing"})
        invitation = api.call(
            "create-team-invitation",
            {"teamId": team["id"], "email": f"grace{suffix}@example.com", "role": "editor"},
        )
        other.call("accept-team-invitation", {"token": invitation["token"]})
        api.call("create-access-token", {"name": "CI pipeline"})
        dashboard = api.call(
            "create-access-token",
            {"name": "Status dashboard", "expiration": "2160h", "scope": "read"},
        )
        reader = ApiCaller(base, token=dashboard["token"])
        reader.call("get-profile")
        reader.close()
        orders = api.call(
            "create-webhook",
            {"teamId": team["id"], "uri": f"{receiver}/ok/orders", "name": "Orders service"},
        )
        api.call(
            "create-webhook",
            {
                "teamId": team["id"],
                "uri": f"{receiver}/500",
                "name": "Analytics (staging)",
                "events": ["create-project", "rename-project"],
            },
        )
        api.call(
            "create-webhook",
            {
                "teamId": team["id"],
                "uri": f"{receiver}/ok/slack",
                "name": "Slack relay",
                "isActive": False,
                "mtype": "application/transit+json",
            },
        )
        website = api.call("create-project", {"teamId": team["id"], "name": "Website"})
        api.call("rename-project", {"id": website["id"], "name": "Website 2026"})
        api.call("create-project", {"teamId": team["id"], "name": "Docs"})

        def sent() -> bool:
            page = api.call("get-webhook-deliveries", {"webhookId": orders["id"]})
            return page["total"] == 4 and all(d["status"] == "succeeded" for d in page["items"])

        _wait("the deliveries", sent)
        return ada, team, orders
    finally:
        api.close()
        other.close()


def _authorization_url(base: str, session: str) -> str:
    """Where an application Ada registered sends her to ask for access."""
    api = ApiCaller(base, session=session)
    try:
        app = api.call(
            "create-oauth-application",
            {"name": "Board sync", "redirectUris": ["https://board-sync.example/callback"]},
        )
    finally:
        api.close()
    digest = hashlib.sha256(secrets.token_urlsafe(48).encode()).digest()
    return f"{base}/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": app["clientId"],
            "redirect_uri": "https://board-sync.example/callback",
            "scope": "read webhooks",
            "state": "af0ifjsldkj",
            "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )


def capture(browser: Browser, base: str, receiver: str, out: Path) -> list[Path]:
    """Save one PNG per name in PAGES into ``out``; answers the files."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = (
        "" if out.resolve() == (ROOT / "docs" / "screenshots").resolve() else f"-{time.time_ns()}"
    )
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    context.set_default_timeout(10_000)
    saved: list[Path] = []

    def shot(page: Page, name: str, **options: Any) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=str(path), **options)
        saved.append(path)

    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        shot(page, "login")
        session, team, orders = _seed(base, receiver, suffix)
        context.add_cookies([{"name": "hookline_session", "value": session, "url": base}])
        page.goto(f"{base}/teams/{team['id']}")
        page.get_by_label("E-mail of the person to invite").fill("linus@example.com")
        page.get_by_role("button", name="Create invitation").click()
        shot(page, "team", full_page=True)
        page.goto(f"{base}/settings/tokens")
        page.get_by_label("Name", exact=True).fill("deploy script")
        page.get_by_label("Expiration").select_option(label="30 days")
        page.get_by_role("button", name="Create token").click()
        shot(page, "tokens", full_page=True)
        page.goto(_authorization_url(base, session))
        shot(page, "consent")
        page.goto(f"{base}/teams/{team['id']}/webhooks")
        page.locator("tr", has_text="Orders service").get_by_text("Actions").click()
        shot(page, "webhooks")
        page.goto(f"{base}/webhooks/{orders['id']}")
        shot(page, "webhook", full_page=True)
        page.goto(f"{base}/webhooks/{orders['id']}/settings")
        page.locator("details.help").nth(4).locator("summary").click()
        shot(page, "settings", full_page=True)
        page.goto(f"{base}/webhooks/{orders['id']}/history")
        shot(page, "history", full_page=True)
        page.locator("#history-table tbody tr", has_text="rename-project").get_by_role(
            "link", name="Details"
        ).click()
        shot(page, "delivery", full_page=True)
        page.goto(f"{base}/events")
        shot(page, "events")
        narrow = context.new_page()
        narrow.set_viewport_size({"width": 390, "height": 844})
        narrow.goto(f"{base}/teams/{team['id']}/webhooks")
        shot(narrow, "narrow", full_page=True)
    finally:
        context.close()
    return saved


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    with (
        tempfile.TemporaryDirectory() as work,
        running_server(Path(work)) as server,
        running_receiver() as receiver,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            for path in capture(browser, server.base, receiver.base, out):
                print(path)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
