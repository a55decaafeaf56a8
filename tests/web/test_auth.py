"""Sign up, sign in, log out, and where signed-out visitors are sent."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest

from hookline.auth.sessions import COOKIE_NAME
from hookline.services import Services
from tests.helpers import ApiFactory
from tests.web.client import WebClient, WebFactory, text

SOMEONE = str(uuid.uuid4())
SIGNED_IN_PAGES = [
    "/teams/new",
    f"/teams/{SOMEONE}",
    f"/teams/{SOMEONE}/webhooks",
    f"/teams/{SOMEONE}/webhooks/new",
    f"/webhooks/{SOMEONE}",
    f"/deliveries/{SOMEONE}",
    "/settings/tokens",
]


async def test_home_sends_signed_out_visitors_to_sign_in(web: WebFactory) -> None:
    visitor = await web.anonymous()
    response = await visitor.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = await visitor.get("/login")
    assert page.status_code == 200
    assert 'action="/login"' in page.text and 'type="password"' in page.text


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
async def test_signed_out_visitors_sign_in_first(web: WebFactory, path: str) -> None:
    visitor = await web.anonymous()
    response = await visitor.get(path + "?x=1")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert response.headers["location"].endswith("%3Fx%3D1")


async def test_sign_up_lands_on_the_default_team_then_create_a_team(web: WebFactory) -> None:
    visitor = await web.anonymous()
    signed_up = await visitor.submit(
        "/signup",
        {"fullname": "Ada", "email": "ada@example.com", "password": "correct horse", "next": "/"},
    )
    assert signed_up.status_code == 303 and signed_up.headers["location"] == "/"
    home = (await visitor.get("/")).headers["location"]
    assert home.startswith("/teams/") and home != "/teams/new"
    default_page = text((await visitor.get(home)).text)
    assert "Default (your default team)" in default_page and "ada@example.com" in default_page
    assert "Your default team, made with your account, with its Drafts project." in default_page
    created = await visitor.submit("/teams", {"name": "Design"})
    assert created.status_code == 303
    team_page = await visitor.get(created.headers["location"])
    assert "Design" in team_page.text and "ada@example.com" in team_page.text
    # The default team stays where a visit starts.
    assert (await visitor.get("/")).headers["location"] == home


async def test_sign_up_errors_next_to_fields(web: WebFactory) -> None:
    visitor = await web.anonymous()
    page = await visitor.submit(
        "/signup", {"fullname": "", "email": "not-an-address", "password": "short"}
    )
    assert page.status_code == 400
    for field in ("fullname", "email", "password"):
        assert f'id="{field}-error"' in page.text
        assert f'id="{field}" name="{field}"' in page.text
    assert "Enter an e-mail address like name@example.com." in page.text
    assert 'value="not-an-address"' in page.text  # kept for correction
    await visitor.submit(
        "/signup", {"fullname": "A", "email": "a@example.com", "password": "correct horse"}
    )
    again = await (await web.anonymous()).submit(
        "/signup", {"fullname": "B", "email": "a@example.com", "password": "correct horse"}
    )
    assert again.status_code == 400 and 'id="email-error"' in again.text


async def test_sign_in_and_log_out(web: WebFactory) -> None:
    person = await web.user("ada")
    email = person.api.profile["email"] if person.api else ""
    visitor = await web.anonymous()
    wrong = await visitor.submit("/login", {"email": email, "password": "wrong password"})
    assert wrong.status_code == 400
    assert "The e-mail or the password is wrong" in text(wrong.text)
    assert f'value="{email}"' in wrong.text and "wrong password" not in wrong.text
    signed_in = await visitor.submit(
        "/login", {"email": email, "password": "correct horse", "next": "/settings/tokens"}
    )
    assert signed_in.headers["location"] == "/settings/tokens"
    assert (await visitor.get("/settings/tokens")).status_code == 200
    out = await visitor.submit("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (await visitor.get("/settings/tokens")).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
async def test_no_redirect_to_other_sites(web: WebFactory, target: str) -> None:
    person = await web.user()
    email = person.api.profile["email"] if person.api else ""
    visitor = await web.anonymous()
    response = await visitor.submit(
        "/login", {"email": email, "password": "correct horse", "next": target}
    )
    assert response.headers["location"] == "/"


def _cookie_header(response_headers: list[str], name: str) -> str:
    found = [h for h in response_headers if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0].lower()


async def test_session_cookie_flags_and_a_new_session_at_login(web: WebFactory) -> None:
    person = await web.user()
    email = person.api.profile["email"] if person.api else ""
    visitor = await web.anonymous()
    token = await visitor.token()
    visitor.client.cookies.set(COOKIE_NAME, "planted-by-an-attacker")
    # The token is bound to the cookie the browser holds: fetch it again.
    token = await visitor.token()
    response = await visitor.client.post(
        "/login", data={"csrf_token": token, "email": email, "password": "correct horse"}
    )
    cookie = _cookie_header(response.headers.get_list("set-cookie"), COOKIE_NAME)
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "planted-by-an-attacker" not in cookie
    csrf_cookie = (await (await web.anonymous()).get("/login")).headers.get_list("set-cookie")
    assert "httponly" in _cookie_header(csrf_cookie, "hookline_csrf")


async def test_cookies_are_secure_behind_https(
    web: WebFactory, api_factory: ApiFactory, services: Services
) -> None:
    person = await web.user()
    email = person.api.profile["email"] if person.api else ""
    services.settings = dataclasses.replace(
        services.settings, public_url="https://hooks.example.com"
    )
    transport = httpx.ASGITransport(app=api_factory.app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        visitor = WebClient(client)
        page = await visitor.get("/login")
        assert "secure" in _cookie_header(page.headers.get_list("set-cookie"), "hookline_csrf")
        response = await visitor.submit("/login", {"email": email, "password": "correct horse"})
        cookie = _cookie_header(response.headers.get_list("set-cookie"), COOKIE_NAME)
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
