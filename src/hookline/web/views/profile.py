"""Settings → Profile: the name shown to teammates, and the password."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hookline.errors import HooklineError
from hookline.web.forms import FormErrors, errors_from
from hookline.web.notices import notice
from hookline.web.pages import redirect, render
from hookline.web.visit import Visit

PASSWORD_FIELDS = ("oldPassword", "password")


async def profile_page(
    visit: Visit,
    *,
    status: int = 200,
    name_errors: FormErrors | None = None,
    password_errors: FormErrors | None = None,
    **extra: Any,
) -> Response:
    return await render(
        visit,
        "settings/profile.html",
        status=status,
        name_errors=name_errors or FormErrors(),
        password_errors=password_errors or FormErrors(),
        notice=notice(visit),
        **extra,
    )


async def show_profile(visit: Visit) -> Response:
    return await profile_page(visit)


async def rename(visit: Visit) -> Response:
    fullname = visit.form.get("fullname").strip()
    try:
        await visit.run("update-profile", {"fullname": fullname})
    except HooklineError as error:
        return await profile_page(
            visit,
            status=error.status,
            name_errors=errors_from(error, ("fullname",)),
            typed_name=fullname,
        )
    return redirect("/settings/profile?notice=profile-updated")


async def change_password(visit: Visit) -> Response:
    """Passwords are never shown back: a failed change shows empty fields."""
    params = {name: visit.form.get(name) for name in PASSWORD_FIELDS}
    try:
        await visit.run("update-profile-password", params)
    except HooklineError as error:
        return await profile_page(
            visit, status=error.status, password_errors=errors_from(error, PASSWORD_FIELDS)
        )
    return redirect("/settings/profile?notice=password-changed")
