"""Sign up, sign in and out."""

from __future__ import annotations

from starlette.responses import Response

from hookline.auth.sessions import COOKIE_NAME
from hookline.errors import RateLimited, ValidationError
from hookline.web import flash
from hookline.web.forms import errors_from
from hookline.web.notices import NOTICES, notice
from hookline.web.pages import redirect, render
from hookline.web.visit import Visit

LOGIN_FIELDS = ("email", "password")
SIGNUP_FIELDS = ("fullname", "email", "password")


def safe_next(value: str) -> str:
    """Only a path on this site: never an address elsewhere (open redirect)."""
    if value.startswith("/") and not value.startswith(("//", "/\\")) and "\\" not in value:
        return value
    return "/"


def _carry_flashes(visit: Visit) -> None:
    """What waits for this browser (a form typed before its session ended)
    follows it to its new session."""
    for change in visit.call.cookies:
        if change.name == COOKIE_NAME and change.value:
            flash.store.move(visit.csrf_binding, change.value)


async def home(visit: Visit) -> Response:
    """Signed-in visitors land on their first team; others sign in."""
    if not visit.signed_in:
        return redirect("/login")
    teams = await visit.run("get-teams")
    key = visit.query("notice")
    carried = f"?notice={key}" if key in NOTICES else ""
    return redirect((f"/teams/{teams[0].id}" if teams else "/teams/new") + carried)


async def login(visit: Visit) -> Response:
    after = safe_next(visit.form.get("next") or visit.query("next"))
    if visit.request.method == "GET":
        if visit.signed_in:
            return redirect(after)
        return await render(visit, "auth/login.html", next=after, notice=notice(visit))
    email = visit.form.get("email")
    try:
        await visit.run(
            "login-with-password", {"email": email, "password": visit.form.get("password")}
        )
    except RateLimited as error:
        response = await render(
            visit,
            "auth/login.html",
            status=429,
            next=after,
            form={"email": email},
            errors=errors_from(error, ()),
        )
        response.headers.update(error.headers())
        return response
    except ValidationError as error:
        return await render(
            visit,
            "auth/login.html",
            status=400,
            next=after,
            form={"email": email},
            errors=errors_from(error, LOGIN_FIELDS),
        )
    _carry_flashes(visit)
    return redirect(after)


async def signup(visit: Visit) -> Response:
    after = safe_next(visit.form.get("next") or visit.query("next"))
    if visit.request.method == "GET":
        return await render(visit, "auth/signup.html", next=after)
    values = {name: visit.form.get(name) for name in SIGNUP_FIELDS}
    try:
        await visit.run("register-profile", values)
        await visit.run(
            "login-with-password", {"email": values["email"], "password": values["password"]}
        )
    except (ValidationError, RateLimited) as error:
        return await render(
            visit,
            "auth/signup.html",
            status=error.status,
            next=after,
            form={"fullname": values["fullname"], "email": values["email"]},
            errors=errors_from(error, SIGNUP_FIELDS),
        )
    return redirect(after)


async def logout(visit: Visit) -> Response:
    await visit.run("logout")
    return redirect("/login")
