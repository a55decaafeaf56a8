"""Settings → Access tokens: list, create (value shown once), rename, revoke."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hookline.errors import HooklineError, NotFound
from hookline.web.forms import FormErrors, errors_from
from hookline.web.notices import notice
from hookline.web.pages import redirect, render, restored_form
from hookline.web.views.confirm import confirm_page, confirmed
from hookline.web.visit import Visit

# The choices people make, as the durations create-access-token takes.
EXPIRATIONS = (
    ("", "Never"),
    ("720h", "30 days"),
    ("1440h", "60 days"),
    ("2160h", "90 days"),
    ("4320h", "180 days"),
)
SCOPES = (("full", "Full access"), ("read", "Read-only (get-* commands)"))
CREATE_FIELDS = ("name", "expiration", "scope")
ONCE_SLOT = "new-token"


async def tokens_page(
    visit: Visit, *, status: int = 200, errors: FormErrors | None = None, **extra: Any
) -> Response:
    tokens = await visit.run("get-access-tokens")
    return await render(
        visit,
        "tokens/list.html",
        status=status,
        tokens=tokens,
        now=visit.services.clock.now(),
        expirations=EXPIRATIONS,
        scopes=SCOPES,
        errors=errors or FormErrors(),
        notice=notice(visit),
        **extra,
    )


async def list_tokens(visit: Visit) -> Response:
    created = visit.take_flash(ONCE_SLOT)
    if created is not None:
        return await tokens_page(visit, created=created)
    typed = restored_form(visit)
    if typed is not None and typed.has("scope"):
        return await tokens_page(visit, form={name: typed.get(name) for name in CREATE_FIELDS})
    return await tokens_page(visit)


async def create_token(visit: Visit) -> Response:
    """The new value waits in a flash for the tokens page, never in a URL:
    it is shown this once, and a reload creates nothing."""
    values = {name: visit.form.get(name) for name in CREATE_FIELDS}
    errors = FormErrors()
    if values["expiration"] not in {value for value, _ in EXPIRATIONS}:
        errors.add("expiration", "Choose one of the offered expirations.")
    if values["scope"] not in {value for value, _ in SCOPES}:
        errors.add("scope", "Choose full access or read-only.")
    if errors:
        return await tokens_page(visit, status=400, errors=errors, form=values)
    params: dict[str, Any] = {"name": values["name"], "scope": values["scope"]}
    if values["expiration"]:
        params["expiration"] = values["expiration"]
    try:
        created = await visit.run("create-access-token", params)
    except HooklineError as error:
        return await tokens_page(
            visit, status=error.status, errors=errors_from(error, CREATE_FIELDS), form=values
        )
    visit.flash(ONCE_SLOT, {"name": created.name, "token": created.token, "rotated": False})
    return redirect("/settings/tokens")


async def rename_token(visit: Visit) -> Response:
    try:
        await visit.run(
            "rename-access-token", {"id": visit.path_id("token_id"), "name": visit.form.get("name")}
        )
    except NotFound:
        raise
    except HooklineError as error:
        found = errors_from(error, ())
        return await tokens_page(
            visit, status=error.status, errors=FormErrors(general=f"Not renamed. {found.general}")
        )
    return redirect("/settings/tokens?notice=token-renamed")


async def revoke_token(visit: Visit) -> Response:
    token_id = visit.path_id("token_id")
    if not confirmed(visit):
        tokens = await visit.run("get-access-tokens")
        token = next((t for t in tokens if t.id == token_id), None)
        if token is None:
            raise NotFound()
        return await confirm_page(
            visit,
            title="Revoke this token?",
            message=f"Programs using “{token.name}” (…{token.last4}) stop working at once. "
            "This cannot be undone.",
            action=f"/settings/tokens/{token_id}/revoke",
            button="Revoke token",
            back="/settings/tokens",
        )
    await visit.run("delete-access-token", {"id": token_id})
    return redirect("/settings/tokens?notice=token-revoked")


async def rotate_token(visit: Visit) -> Response:
    """A new value for the same token (name, scope, expiry); the old value stops
    working at once. Asks first; the new value waits, shown once."""
    token_id = visit.path_id("token_id")
    tokens = await visit.run("get-access-tokens")
    token = next((t for t in tokens if t.id == token_id), None)
    if token is None:
        raise NotFound()
    if not confirmed(visit):
        return await confirm_page(
            visit,
            title="Rotate this token?",
            message=f"“{token.name}” (…{token.last4}) gets a new value and the old one stops "
            "working at once: update the programs that use it.",
            action=f"/settings/tokens/{token_id}/rotate",
            button="Rotate token",
            back="/settings/tokens",
        )
    rotated = await visit.run("rotate-access-token", {"id": token_id})
    visit.flash(ONCE_SLOT, {"name": token.name, "token": rotated.token, "rotated": True})
    return redirect("/settings/tokens")
