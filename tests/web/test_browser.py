"""Browser tests: Debian's Chromium, driven by Playwright, against a real
``hookline serve`` on 127.0.0.1 with a webhook receiver next to it."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from tests.reliability.harness import Server
from tests.web.live import (
    CHROMIUM,
    PASSWORD,
    ApiCaller,
    ThreadedReceiver,
    register,
    running_receiver,
    running_server,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed at {CHROMIUM}"),
]

ACTION_TIMEOUT_MS = 5_000
DASH = "\u2013"  # between the first and last row a history page shows
WAIT_S = 15.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("serve")) as served:
        yield served


@pytest.fixture(scope="module")
def receiver() -> Iterator[ThreadedReceiver]:
    with running_receiver() as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


_people = iter(range(1, 10_000))


def person(server: Server) -> tuple[str, str]:
    """A new account (e-mail, session key)."""
    email = f"person{next(_people)}-{time.monotonic_ns()}@example.com"
    return email, register(server.base, email, email.split("-")[0].title())


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(
        viewport={"width": 1200, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    opened.set_default_timeout(ACTION_TIMEOUT_MS)
    yield opened
    opened.close()


def signed_in(context: BrowserContext, server: Server, session: str) -> Page:
    context.add_cookies([{"name": "hookline_session", "value": session, "url": server.base}])
    return context.new_page()


def reload_until(page: Page, url: str, ready: Callable[[Page], bool]) -> None:
    """Deliveries happen in the background: look again until they show."""
    deadline = time.monotonic() + WAIT_S
    while True:
        page.goto(url)
        if ready(page):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not show what was expected within {WAIT_S}s")
        time.sleep(0.3)


def column(page: Page, table: str, index: int) -> list[str]:
    cells = page.locator(f"#{table} tbody tr:visible td:nth-child({index})")
    return [text.strip() for text in cells.all_inner_texts()]


def test_sign_up_team_and_a_token_from_creation_to_revocation(
    context: BrowserContext, server: Server
) -> None:
    page = context.new_page()
    page.goto(server.base + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_role("main").get_by_role("link", name="Sign up").click()
    email = f"ada-{time.monotonic_ns()}@example.com"
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    # A new account starts in its default team, first in the team menu.
    expect(page.get_by_role("heading", name="Default", exact=True)).to_be_visible()
    expect(page.get_by_text("Your default team, made with your account")).to_be_visible()
    page.get_by_text("Team: Default").click()
    menu = page.locator(".team-switcher li")
    expect(menu.first).to_have_text("Default (your default team)")
    page.get_by_role("link", name="New team…").click()
    page.get_by_label("Team name").fill("Design")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Design", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=email)).to_be_visible()
    page.get_by_text("Team: Design").click()
    expect(menu).to_have_text(["Default (your default team)", "Design (owner)", "New team…"])

    page.get_by_role("link", name="Access tokens").click()
    expect(page.get_by_text("You have no access tokens yet")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("deploy script")
    page.get_by_label("Expiration").select_option(label="30 days")
    page.get_by_label("Full access").check()
    page.get_by_role("button", name="Create token").click()
    field = page.locator("#new-token")
    expect(field).to_have_attribute("readonly", "")
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    token = field.input_value()
    assert token.startswith("hlp_")
    copy = page.locator("button[data-copy=new-token]")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token

    program = ApiCaller(server.base, token=token)
    try:
        answer = program.post("get-profile")
        assert answer.status_code == 200 and answer.json()["email"] == email
        page.get_by_role("link", name="Access tokens").click()
        assert token not in page.content()
        row = page.locator("tr", has_text="deploy script")
        expect(row).to_contain_text(f"…{token[-4:]}")
        expect(row).to_contain_text("Expires on")
        row.get_by_text("Actions").click()
        row.get_by_label("New name").fill("CI deploy")
        row.get_by_role("button", name="Rename").click()
        expect(page.get_by_role("status").first).to_contain_text("The token was renamed.")
        row = page.locator("tr", has_text="CI deploy")
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_text("Actions").click()
        row.get_by_role("button", name="Revoke…").click()
        expect(page.get_by_role("status").first).to_contain_text("The token was revoked")
        expect(page.get_by_text("You have no access tokens yet")).to_be_visible()
        assert program.post("get-profile").status_code == 401
    finally:
        program.close()


def _add_webhook(page: Page, team_id: str, server: Server, name: str, url: str) -> None:
    page.goto(f"{server.base}/teams/{team_id}/webhooks")
    page.get_by_role("link", name="Add webhook").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("URL", exact=True).fill(url)
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#signing-secret")).to_have_value(re.compile(r"^whsec_"))
    expect(page.get_by_text("it will not be shown again")).to_be_visible()


def _history_row(page: Page, event: str) -> Locator:
    return page.locator("#history-table tbody tr", has_text=event)


def test_webhook_history_resend_and_failures(
    context: BrowserContext, server: Server, receiver: ThreadedReceiver
) -> None:
    _email, session = person(server)
    api = ApiCaller(server.base, session=session)
    try:
        team = api.call("create-team", {"name": "Hooks"})
        page = signed_in(context, server, session)
        page.goto(f"{server.base}/teams/{team['id']}/webhooks")
        expect(page.get_by_text("This team has no webhooks yet")).to_be_visible()
        _add_webhook(page, team["id"], server, "Receiver OK", f"{receiver.base}/ok")
        hook = api.call("get-webhooks", {"teamId": team["id"]})[0]
        api.call("create-project", {"teamId": team["id"], "name": "Launch"})
        hook_url = f"{server.base}/webhooks/{hook['id']}/history"

        def delivered(page: Page) -> bool:
            row = _history_row(page, "create-project")
            return row.count() == 1 and "200" in row.inner_text()

        reload_until(page, hook_url, delivered)
        row = _history_row(page, "create-project")
        expect(row.locator(".code.ok")).to_have_text("200")
        expect(row).to_contain_text("Succeeded")
        row.get_by_role("button", name=re.compile("Re-send")).click()
        expect(page.get_by_role("status").first).to_contain_text("queued again")
        _history_row(page, "create-project").get_by_role("link", name=re.compile("Details")).click()
        delivery_url = page.url
        reload_until(page, delivery_url, lambda p: p.get_by_text("Attempt 2").count() == 1)
        expect(page.get_by_role("heading", name=re.compile("Attempt 1"))).to_be_visible()
        expect(page.get_by_role("row", name=re.compile("webhook-signature")).first).to_be_visible()
        expect(page.locator("pre").first).to_contain_text('"name": "Launch"')
        expect(page.get_by_text("Status 200").first).to_be_visible()

        _add_webhook(page, team["id"], server, "Receiver 500", f"{receiver.base}/500")
        failing = next(
            h
            for h in api.call("get-webhooks", {"teamId": team["id"]})
            if h["name"] == "Receiver 500"
        )

        def failed(page: Page) -> bool:
            row = _history_row(page, "ping")
            return row.count() == 1 and "500" in row.inner_text()

        reload_until(page, f"{server.base}/webhooks/{failing['id']}/history", failed)
        row = _history_row(page, "ping")
        expect(row.locator(".code.bad")).to_have_text("500")
        expect(row).to_contain_text("unexpected status 500")
        expect(row.locator(".badge")).to_have_text(re.compile("Retrying|Failed"))
        page.goto(f"{server.base}/teams/{team['id']}/webhooks")
        expect(page.locator("tr", has_text="Receiver 500")).to_contain_text(
            "Last delivery was not successful: unexpected status 500"
        )
    finally:
        api.close()


def test_sorting_and_search(
    context: BrowserContext, server: Server, receiver: ThreadedReceiver
) -> None:
    _email, session = person(server)
    api = ApiCaller(server.base, session=session)
    try:
        team = api.call("create-team", {"name": "Sorting"})
        hooks = {
            name: api.call(
                "create-webhook",
                {"teamId": team["id"], "uri": f"{receiver.base}/ok/{path}", "name": name},
            )
            for name, path in (("beta", "c"), ("Alpha", "b"), ("gamma", "a"))
        }
        page = signed_in(context, server, session)
        page.goto(f"{server.base}/teams/{team['id']}/webhooks")
        assert column(page, "webhooks-table", 1) == ["Alpha", "beta", "gamma"]
        page.get_by_role("link", name="Name").click()
        assert column(page, "webhooks-table", 1) == ["gamma", "beta", "Alpha"]
        expect(page.locator("th[data-sort-key=name]")).to_have_attribute("aria-sort", "descending")
        assert page.url.endswith("/webhooks")  # sorted here, without a new request
        assert page.locator("form[role=search] input[name=sort]").input_value() == "-name"
        page.get_by_role("link", name="State").focus()
        page.keyboard.press("Enter")
        expect(page.locator("th[data-sort-key=state]")).to_have_attribute("aria-sort", "ascending")
        page.get_by_role("link", name="URL").click()
        assert column(page, "webhooks-table", 1) == ["gamma", "Alpha", "beta"]
        page.get_by_label("Search webhooks").fill("GAM")
        assert column(page, "webhooks-table", 1) == ["gamma"]
        page.get_by_label("Search webhooks").fill("nothing like it")
        expect(page.get_by_text("No webhook matches this search.")).to_be_visible()
        page.get_by_label("Search webhooks").fill("")
        assert len(column(page, "webhooks-table", 1)) == 3

        alpha = hooks["Alpha"]["id"]
        for name in ("Website", "Docs"):
            api.call("create-project", {"teamId": team["id"], "name": name})
        hook_url = f"{server.base}/webhooks/{alpha}/history"

        def all_sent(page: Page) -> bool:
            return page.locator("#history-table .code.ok").count() == 3

        reload_until(page, hook_url, all_sent)
        events = column(page, "history-table", 5)
        assert sorted(events) == ["create-project", "create-project", "ping"]
        page.locator("#history-table th[data-sort-key=event] button").click()
        assert column(page, "history-table", 5) == ["create-project", "create-project", "ping"]
        page.locator("#history-table th[data-sort-key=event] button").click()
        assert column(page, "history-table", 5) == ["ping", "create-project", "create-project"]
        page.get_by_label("Search").fill("ping")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"q=ping"))
        assert column(page, "history-table", 5) == ["ping"]
        page.get_by_label("Result").select_option(label="Succeeded")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"status=succeeded"))
        assert column(page, "history-table", 5) == ["ping"]
        expect(page.get_by_text("1 delivery matches.")).to_be_visible()
    finally:
        api.close()


def test_a_viewer_sees_no_actions(
    context: BrowserContext, server: Server, receiver: ThreadedReceiver
) -> None:
    _owner_email, owner_session = person(server)
    viewer_email, viewer_session = person(server)
    owner = ApiCaller(server.base, session=owner_session)
    viewer = ApiCaller(server.base, session=viewer_session)
    try:
        team = owner.call("create-team", {"name": "Watched"})
        hook = owner.call(
            "create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/ok", "name": "seen"}
        )
        invitation = owner.call(
            "create-team-invitation",
            {"teamId": team["id"], "email": viewer_email, "role": "viewer"},
        )
        viewer.call("accept-team-invitation", {"token": invitation["token"]})
        page = signed_in(context, server, viewer_session)
        page.goto(f"{server.base}/teams/{team['id']}/webhooks")
        expect(page.get_by_role("link", name="seen")).to_be_visible()
        expect(page.get_by_role("link", name="Add webhook")).to_have_count(0)
        expect(page.get_by_role("columnheader", name="Actions")).to_have_count(0)
        expect(page.get_by_text("Actions")).to_have_count(0)
        page.get_by_role("link", name="seen").click()
        expect(page.get_by_role("heading", name="seen")).to_be_visible()
        for action in ("Save changes", "Rotate secret", "Send test event", "Delete…", "Recover"):
            expect(page.get_by_role("button", name=action)).to_have_count(0)
        page.get_by_role("link", name="Settings").click()
        expect(page.get_by_label("URL", exact=True)).to_be_disabled()
        expect(page.get_by_role("button", name="Delete webhook…")).to_have_count(0)
        page.goto(f"{server.base}/teams/{team['id']}")
        expect(page.get_by_role("button", name="Create invitation")).to_have_count(0)
        assert hook["id"] in [h["id"] for h in viewer.call("get-webhooks", {"teamId": team["id"]})]
    finally:
        owner.close()
        viewer.close()


def test_screenshots_of_every_page(
    browser: Browser, server: Server, receiver: ThreadedReceiver, tmp_path: Path
) -> None:
    from scripts.screenshots import PAGES, capture

    saved = capture(browser, server.base, receiver.base, tmp_path)
    assert sorted(p.name for p in saved) == sorted(f"{name}.png" for name in PAGES)
    for path in saved:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


def test_reloading_after_create_and_rotate_makes_nothing_new(
    context: BrowserContext, server: Server, receiver: ThreadedReceiver
) -> None:
    _email, session = person(server)
    api = ApiCaller(server.base, session=session)
    try:
        team = api.call("create-team", {"name": "Reloads"})
        page = signed_in(context, server, session)
        page.goto(f"{server.base}/teams/{team['id']}/webhooks/new")
        page.get_by_label("Name", exact=True).fill("Once")
        page.get_by_label("URL", exact=True).fill(f"{receiver.base}/ok")
        page.get_by_role("button", name="Add webhook").click()
        hooks = api.call("get-webhooks", {"teamId": team["id"]})
        expect(page).to_have_url(f"{server.base}/webhooks/{hooks[0]['id']}")
        expect(page.locator("#signing-secret")).to_have_value(re.compile(r"^whsec_"))
        page.reload()
        expect(page.locator("#signing-secret")).to_have_count(0)
        assert len(api.call("get-webhooks", {"teamId": team["id"]})) == 1

        page.get_by_role("link", name="Signing secret").click()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Rotate secret…").click()
        expect(page.locator("#signing-secret")).to_have_value(re.compile(r"^whsec_"))
        first = page.locator("#signing-secret").input_value()
        page.reload()
        expect(page.locator("#signing-secret")).to_have_count(0)
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_role("button", name="Rotate secret…").click()
        expect(page.locator("#signing-secret")).to_have_count(0)
        assert first.startswith("whsec_")

        page.goto(f"{server.base}/settings/tokens")
        page.get_by_label("Name", exact=True).fill("ci")
        page.get_by_role("button", name="Create token").click()
        expect(page.locator("#new-token")).to_have_value(re.compile(r"^hlp_"))
        page.reload()
        expect(page.locator("#new-token")).to_have_count(0)
        assert len(api.call("get-access-tokens")) == 1
    finally:
        api.close()


def test_event_boxes_and_batch_size_follow_the_choices(
    context: BrowserContext, server: Server
) -> None:
    _email, session = person(server)
    api = ApiCaller(server.base, session=session)
    try:
        team = api.call("create-team", {"name": "Choices"})
        page = signed_in(context, server, session)
        page.goto(f"{server.base}/teams/{team['id']}/webhooks/new")
        box = page.locator("input[name=events][value=create-project]")
        expect(box).to_be_disabled()
        page.get_by_label("Only the events checked below").check()
        expect(box).to_be_enabled()
        box.check()
        page.get_by_label("All events, including ones added later").check()
        expect(box).to_be_disabled()
        page.get_by_label("Only the events checked below").check()
        expect(box).to_be_checked()  # the tick was kept
        batch = page.get_by_label("Max events per request")
        expect(batch).to_be_enabled()
        page.get_by_label(re.compile("Ordered delivery")).check()
        expect(batch).to_be_disabled()
        hint = page.locator("#maxEventsPerRequest-hint")
        expect(hint).to_contain_text("a JSON array")
        page.locator("input[name=mtype][value='application/transit+json']").check()
        expect(hint).to_contain_text("a Transit list")
    finally:
        api.close()


def test_history_search_finds_a_match_on_page_three(
    context: BrowserContext, server: Server, receiver: ThreadedReceiver
) -> None:
    _email, session = person(server)
    api = ApiCaller(server.base, session=session)
    try:
        team = api.call("create-team", {"name": "Haystack"})
        hook = api.call(
            "create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/ok", "name": "h"}
        )
        api.call("create-project", {"teamId": team["id"], "name": "Needle"})
        for n in range(45):
            api.call("create-project", {"teamId": team["id"], "name": f"hay {n}"})
        page = signed_in(context, server, session)
        page.goto(f"{server.base}/webhooks/{hook['id']}/history")
        expect(page.locator("#history-position")).to_contain_text(f"1{DASH}20 of 47")
        page.get_by_role("link", name=re.compile("^Next")).click()
        page.get_by_role("link", name=re.compile("^Next")).click()
        expect(page.locator("#history-position")).to_contain_text(f"41{DASH}47 of 47")
        page.get_by_role("link", name=re.compile("Previous$")).click()
        expect(page.locator("#history-position")).to_contain_text(f"21{DASH}40 of 47")
        page.get_by_label("Search").fill("needle")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#history-position")).to_contain_text(f"1{DASH}1 of 1")
        expect(page.locator("#history-table tbody tr")).to_have_count(1)
    finally:
        api.close()


def test_re_enable_from_the_banner_sends_what_was_held(
    context: BrowserContext, server: Server, receiver: ThreadedReceiver
) -> None:
    _email, session = person(server)
    api = ApiCaller(server.base, session=session)
    try:
        team = api.call("create-team", {"name": "Banner"})
        name = f"held-{time.monotonic_ns()}"
        hook = api.call(
            "create-webhook", {"teamId": team["id"], "uri": f"{receiver.base}/ok", "name": name}
        )
        hook_url = f"{server.base}/webhooks/{hook['id']}/history"
        page = signed_in(context, server, session)
        badges = "#history-table .badge"
        reload_until(page, hook_url, lambda p: p.locator(badges, has_text="Succeeded").count() == 1)
        # What the worker does when a webhook keeps failing: disable it and
        # hold its unfinished deliveries.
        with sqlite3.connect(server.work / "hookline.db") as db:
            db.execute(
                "UPDATE webhooks SET state = 'disabled-by-errors', is_active = 0,"
                " error_code = 'unexpected-status:500', error_count = 10 WHERE name = ?",
                (name,),
            )
            db.execute(
                "UPDATE deliveries SET status = 'paused'"
                " WHERE webhook_id = (SELECT id FROM webhooks WHERE name = ?)",
                (name,),
            )
        sent_before = len(receiver.receiver.requests)
        page.goto(hook_url)
        banner = page.get_by_role("region", name="Disabled by errors")
        expect(banner).to_contain_text("Last error: unexpected status 500")
        expect(page.locator(badges, has_text="Held")).to_have_count(1)
        banner.get_by_role("button", name="Re-enable").click()
        expect(page.get_by_role("status").first).to_contain_text("active again")
        expect(page.get_by_role("region", name="Disabled by errors")).to_have_count(0)
        reload_until(page, hook_url, lambda p: p.locator(badges, has_text="Held").count() == 0)
        assert len(receiver.receiver.requests) > sent_before
    finally:
        api.close()


def test_a_form_sent_after_the_session_ended_comes_back_after_sign_in(
    context: BrowserContext, server: Server
) -> None:
    email, session = person(server)
    api = ApiCaller(server.base, session=session)
    try:
        team = api.call("create-team", {"name": "Expiry"})
        page = signed_in(context, server, session)
        page.goto(f"{server.base}/teams/{team['id']}/webhooks/new")
        page.get_by_label("Name", exact=True).fill("Typed before")
        page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/typed")
        api.call("logout")  # the session ends on the server meanwhile
        page.get_by_role("button", name="Add webhook").click()
        expect(page).to_have_url(re.compile(r"/login\?"))
        expect(page.get_by_role("status").first).to_contain_text("Your session ended")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{server.base}/teams/{team['id']}/webhooks/new")
        expect(page.get_by_label("Name", exact=True)).to_have_value("Typed before")
        expect(page.get_by_label("URL", exact=True)).to_have_value("http://127.0.0.1:9/typed")
    finally:
        api.close()
