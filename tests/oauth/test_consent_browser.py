"""The consent page in Chromium: sign in first, read what the application
asks for, press Allow, and land back at the application with a code that
works (the page's form-action lets the browser follow that redirect)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Route, expect, sync_playwright

from tests.oauth.flow import pkce
from tests.reliability.harness import Server
from tests.web.live import CHROMIUM, PASSWORD, ApiCaller, register, running_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed at {CHROMIUM}"),
]

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("consent")) as served:
        yield served


def test_sign_in_then_allow_and_back_to_the_application(server: Server) -> None:
    email = f"ada-{time.monotonic_ns()}@example.com"
    person = ApiCaller(server.base, session=register(server.base, email, "Ada Lovelace"))
    app = person.call(
        "create-oauth-application", {"name": "Board sync", "redirectUris": [CALLBACK]}
    )
    person.close()
    verifier, challenge = pkce()
    url = f"{server.base}/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": app["clientId"],
            "redirect_uri": CALLBACK,
            "scope": "read webhooks",
            "state": "af0ifjsldkj",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    arrived: list[str] = []

    def application(route: Route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, body="signed in to Board sync", content_type="text/plain")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(5_000)
            page.route(f"{CALLBACK}**", application)
            page.goto(url)
            page.get_by_label("E-mail").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Board sync wants to:")).to_be_visible()
            expect(page.get_by_text("manage the webhooks and delivery history")).to_be_visible()
            page.get_by_role("button", name="Allow").click()
            expect(page.get_by_text("signed in to Board sync")).to_be_visible()
        finally:
            browser.close()
    params = {k: v[0] for k, v in parse_qs(urlsplit(arrived[0]).query).items()}
    assert params["state"] == "af0ifjsldkj"
    answer = httpx.post(
        f"{server.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(app["clientId"], app["clientSecret"]),
    )
    assert answer.status_code == 200 and answer.json()["scope"] == "read webhooks"
