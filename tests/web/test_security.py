"""CSRF on every form, page security headers, escaping, and never a traceback."""

from __future__ import annotations

import uuid

import pytest
from starlette.routing import Route

from hookline.web.routes import routes
from hookline.web.security import PAGE_HEADERS
from tests.helpers import ApiFactory
from tests.web.client import WebFactory, csrf_token

FORM_ROUTES = sorted(
    route.path
    for route in routes()
    if isinstance(route, Route) and route.methods and "POST" in route.methods
)


def _filled(path: str) -> str:
    """The path with every id in it replaced by some id."""
    for name in ("team_id", "member_id", "webhook_id", "delivery_id", "token_id"):
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    return path


def test_every_form_route_is_listed() -> None:
    assert len(FORM_ROUTES) >= 16
    assert "/login" in FORM_ROUTES and "/settings/tokens/{token_id}/revoke" in FORM_ROUTES


@pytest.mark.parametrize("path", FORM_ROUTES)
async def test_forms_refuse_a_missing_or_wrong_csrf_token(web: WebFactory, path: str) -> None:
    person = await web.user()
    other = await web.user()
    url = _filled(path)
    own = await person.token()
    altered = own[:-1] + ("1" if own[-1] == "0" else "0")
    wrong_tokens = [None, "", "0" * 64, await other.token(), altered]
    for wrong in wrong_tokens:
        data = {"name": "x"} if wrong is None else {"name": "x", "csrf_token": wrong}
        response = await person.post(url, data)
        assert response.status_code == 403, (path, wrong)
        assert "This form has expired or did not come from this site" in response.text
        for header, value in PAGE_HEADERS.items():
            assert response.headers[header] == value


async def test_sign_in_form_needs_the_pre_session_cookie(web: WebFactory) -> None:
    visitor = await web.anonymous()
    token = await visitor.token()
    stranger = await web.anonymous()
    response = await stranger.post(
        "/login", {"csrf_token": token, "email": "a@example.com", "password": "x" * 8}
    )
    assert response.status_code == 403


async def test_csrf_token_changes_with_the_session(web: WebFactory) -> None:
    person = await web.user()
    before = await person.token()
    await person.submit("/logout")
    assert await person.token() != before


@pytest.mark.parametrize("signed_in", [False, True])
async def test_security_headers_on_pages(web: WebFactory, signed_in: bool) -> None:
    visitor = await (web.user() if signed_in else web.anonymous())
    paths = ["/events", "/no-such-page", "/invitations/accept?token=x"]
    if signed_in:
        paths += ["/settings/tokens", "/teams/new", f"/webhooks/{uuid.uuid4()}"]
    else:
        paths += ["/login", "/signup"]
    for path in paths:
        response = await visitor.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "<script>" not in response.text  # only <script src=...>
        if signed_in:
            assert response.headers["cache-control"] == "no-store"


async def test_api_and_machine_paths_keep_their_answers(web: WebFactory) -> None:
    visitor = await web.anonymous()
    missing = await visitor.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/plain")
    assert (await visitor.get("/healthz")).json() == {"status": "ok"}
    assert (await visitor.get("/api/rpc/command/get-profile")).status_code == 200
    assert (await visitor.get("/static/hookline.js")).status_code == 200
    assert (await visitor.get("/static/hookline.css")).status_code == 200


async def test_names_are_escaped(web: WebFactory, api_factory: ApiFactory) -> None:
    person = await web.user()
    evil = "<script>alert(1)</script>"
    assert person.api is not None
    team = await person.api.call("create-team", {"name": evil})
    hook = await person.api.call(
        "create-webhook",
        {"teamId": team["id"], "uri": "http://127.0.0.1:9/x?a=<b>", "name": evil},
    )
    for path in (
        f"/teams/{team['id']}/webhooks",
        f"/webhooks/{hook['id']}",
        f"/teams/{team['id']}",
    ):
        page = (await person.get(path)).text
        assert evil not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


async def test_bad_input_never_answers_500(web: WebFactory) -> None:
    person = await web.user()
    token = await person.token()
    attempts = [
        ("/teams", {"name": "x" * 5000}),
        ("/teams", {"name": "\x00"}),
        ("/settings/tokens", {"name": "t", "expiration": "forever", "scope": "all"}),
        ("/settings/tokens", {"name": "", "expiration": "720h", "scope": "full"}),
        (f"/teams/{uuid.uuid4()}/webhooks", {"uri": "nope"}),
        ("/webhooks/not-an-id", {}),
        ("/deliveries/not-an-id/resend", {}),
    ]
    for path, data in attempts:
        response = await person.client.post(path, data={"csrf_token": token, **data})
        assert response.status_code < 500, (path, response.text)
    raw = await person.client.post(
        "/teams",
        content=b"csrf_token=" + token.encode() + b"&name=%ff%fe&" + b"a=1&" * 2000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert raw.status_code == 400
    for path in ("/webhooks/zzz", "/teams/1", "/deliveries/%00", "/webhooks/x?sort=%ff&cursor=!"):
        assert (await person.get(path)).status_code == 404, path
    assert "csrf_token" in (await person.get("/events")).text
    assert csrf_token((await person.get("/settings/tokens")).text) == token
