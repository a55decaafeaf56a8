"""Settings → Applications (the OAuth applications a person registered) and
Settings → Authorized applications (the grants a person gave)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hookline.errors import HooklineError, NotFound
from hookline.oauth.scopes import DESCRIPTIONS
from hookline.web.forms import FormErrors, errors_from
from hookline.web.notices import notice
from hookline.web.pages import redirect, render
from hookline.web.views.confirm import confirm_page, confirmed
from hookline.web.visit import Visit

KINDS = (
    ("confidential", "Confidential (a server that keeps a secret)"),
    ("public", "Public (a native or browser app, PKCE only)"),
)


async def applications_page(
    visit: Visit, *, status: int = 200, errors: FormErrors | None = None, **extra: Any
) -> Response:
    return await render(
        visit,
        "oauth/applications.html",
        status=status,
        applications=await visit.run("get-oauth-applications"),
        kinds=KINDS,
        public_url=visit.services.settings.public_url.rstrip("/"),
        errors=errors or FormErrors(),
        notice=notice(visit),
        **extra,
    )


# A new client secret waits here for the page the POST redirects to, never
# in a URL; it is read once.
ONCE_SLOT = "new-application"


async def list_applications(visit: Visit) -> Response:
    return await applications_page(visit, **(visit.take_flash(ONCE_SLOT) or {}))


async def create_application(visit: Visit) -> Response:
    """Registered, then redirected: a reload registers nothing twice."""
    values = {
        "name": visit.form.get("name"),
        "redirect_uris": visit.form.get("redirect_uris"),
        "kind": visit.form.get("kind"),
    }
    if values["kind"] not in {value for value, _ in KINDS}:
        errors = FormErrors()
        errors.add("kind", "Choose confidential or public.")
        return await applications_page(visit, status=400, errors=errors, form=values)
    params = {
        "name": values["name"],
        "redirectUris": [
            line.strip() for line in values["redirect_uris"].splitlines() if line.strip()
        ],
        "confidential": values["kind"] == "confidential",
    }
    try:
        created = await visit.run("create-oauth-application", params)
    except HooklineError as error:
        return await applications_page(
            visit,
            status=error.status,
            errors=errors_from(error, ("name", "redirectUris")),
            form=values,
        )
    visit.flash(ONCE_SLOT, {"created": created.model_dump(mode="json")})
    return redirect("/settings/applications")


async def _named(visit: Visit) -> Any:
    application_id = visit.path_id("application_id")
    return await visit.run("get-oauth-application", {"id": application_id})


async def rotate_secret(visit: Visit) -> Response:
    application = await _named(visit)
    if not confirmed(visit):
        return await confirm_page(
            visit,
            title="Rotate the client secret?",
            message=f"“{application.name}” stops working with its current secret at once; "
            "tokens it already has stay valid.",
            action=f"/settings/applications/{application.id}/rotate-secret",
            button="Rotate secret",
            back="/settings/applications",
        )
    rotated = await visit.run("rotate-oauth-application-secret", {"id": application.id})
    visit.flash(ONCE_SLOT, {"created": rotated.model_dump(mode="json"), "rotated": True})
    return redirect("/settings/applications")


async def delete_application(visit: Visit) -> Response:
    application = await _named(visit)
    if not confirmed(visit):
        return await confirm_page(
            visit,
            title="Delete this application?",
            message=f"Everyone who authorized “{application.name}” loses it: every token "
            "it holds stops working at once. This cannot be undone.",
            action=f"/settings/applications/{application.id}/delete",
            button="Delete application",
            back="/settings/applications",
        )
    await visit.run("delete-oauth-application", {"id": application.id})
    return redirect("/settings/applications?notice=application-deleted")


async def list_grants(visit: Visit) -> Response:
    grants = await visit.run("get-oauth-grants")
    return await render(
        visit,
        "oauth/grants.html",
        live=[g for g in grants if g.revoked_at is None],
        ended=[g for g in grants if g.revoked_at is not None],
        descriptions=DESCRIPTIONS,
        notice=notice(visit),
    )


async def revoke_grant(visit: Visit) -> Response:
    grant_id = visit.path_id("grant_id")
    if not confirmed(visit):
        grants = await visit.run("get-oauth-grants")
        grant = next((g for g in grants if g.id == grant_id and g.revoked_at is None), None)
        if grant is None:
            raise NotFound()
        return await confirm_page(
            visit,
            title="Revoke this application's access?",
            message=f"“{grant.application_name}” loses access at once: every token of this "
            "authorization stops working.",
            action=f"/settings/authorized-applications/{grant_id}/revoke",
            button="Revoke access",
            back="/settings/authorized-applications",
        )
    await visit.run("revoke-oauth-grant", {"id": grant_id})
    return redirect("/settings/authorized-applications?notice=grant-revoked")
