"""One webhook, in sections with addresses of their own: Overview (state,
last attempt, the last 24 hours), Settings (with the danger zone), Signing
secret, History and Recover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from starlette.responses import Response

from hookline.auth.roles import Role
from hookline.errors import HooklineError, NotFound
from hookline.rpc.catalogue import PING
from hookline.web import webhook_form, webhook_stats
from hookline.web.forms import FormErrors, errors_from
from hookline.web.history_query import STATUSES, HistoryQuery
from hookline.web.notices import notice
from hookline.web.pages import redirect, render, restored_form
from hookline.web.views.confirm import confirm_page, confirmed
from hookline.web.visit import Visit
from hookline.web.webhook_form import WebhookValues

RECOVER_FIELDS = ("since", "until")
# ISO 8601 with a space, 24-hour, as every date on the site reads.
_MINUTE = "%Y-%m-%d %H:%M"
# The flash holding a webhook's new signing secret for its next page.
ONCE_SLOT = "webhook-secret:{}"


async def event_types(visit: Visit) -> list[Any]:
    """The events a webhook may choose (the test event goes to every webhook)."""
    return [e for e in await visit.run("get-webhook-event-types") if e.name != PING]


async def _history(visit: Visit, webhook_id: UUID, query: HistoryQuery) -> Any:
    if query.errors:
        return None
    try:
        return await visit.run("get-webhook-deliveries", query.params(webhook_id))
    except NotFound:
        raise
    except HooklineError as error:
        found = errors_from(error, ("status", "since", "until"))
        query.errors.fields.update(found.fields)
        query.errors.general = found.general
        return None


# (address suffix, tab label): each section of a webhook's page.
SECTIONS = (
    ("", "Overview"),
    ("/settings", "Settings"),
    ("/secret", "Signing secret"),
    ("/history", "History"),
    ("/recover", "Recover"),
)


async def webhook_page(
    visit: Visit,
    webhook_id: UUID,
    section: str,
    *,
    status: int = 200,
    values: WebhookValues | None = None,
    errors: FormErrors | None = None,
    recover_errors: FormErrors | None = None,
    recover_form: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """``section`` is one of SECTIONS' suffixes; each loads only what it shows."""
    hook = await visit.run("get-webhook", {"id": webhook_id})
    team = await visit.run("get-team", {"id": hook.team_id})
    now = visit.services.clock.now()
    base = f"/webhooks/{hook.id}"
    shown: dict[str, Any] = {}
    if section == "":
        shown["last"] = (await webhook_stats.last_attempts(visit.services, [hook.id])).get(hook.id)
        shown["day"] = await webhook_stats.last_day(visit.services, hook.id, now)
    elif section == "/settings":
        shown["values"] = values or WebhookValues.of(hook)
        shown["event_types"] = await event_types(visit)
        shown["formats"] = webhook_form.FORMATS
    elif section == "/history":
        query = HistoryQuery.read(dict(visit.request.query_params))
        shown["query"] = query
        shown["history"] = await _history(visit, hook.id, query)
        shown["statuses"] = STATUSES
    elif section == "/recover":
        shown["recover_errors"] = recover_errors or FormErrors()
        shown["recover_form"] = recover_form or {
            "since": (now - timedelta(days=1)).strftime(_MINUTE),
            "until": "",
        }
    return await render(
        visit,
        "webhooks/show.html",
        status=status,
        team=team,
        hook=hook,
        errors=errors or FormErrors(),
        can_edit=Role(team.role).at_least(Role.EDITOR),
        section=section,
        sections=SECTIONS,
        base=base,
        path=base + section,
        notice=notice(visit),
        **shown,
        **extra,
    )


def _shown_once(visit: Visit, webhook_id: UUID) -> dict[str, Any]:
    return visit.take_flash(ONCE_SLOT.format(webhook_id)) or {}


async def show_webhook(visit: Visit) -> Response:
    """Overview; a new webhook's signing secret waits here, shown once."""
    webhook_id = visit.path_id("webhook_id")
    return await webhook_page(visit, webhook_id, "", **_shown_once(visit, webhook_id))


async def show_settings(visit: Visit) -> Response:
    webhook_id = visit.path_id("webhook_id")
    typed = restored_form(visit)
    values = WebhookValues.submitted(typed) if typed is not None and typed.has("uri") else None
    return await webhook_page(visit, webhook_id, "/settings", values=values)


async def show_secret(visit: Visit) -> Response:
    webhook_id = visit.path_id("webhook_id")
    return await webhook_page(visit, webhook_id, "/secret", **_shown_once(visit, webhook_id))


async def show_history(visit: Visit) -> Response:
    return await webhook_page(visit, visit.path_id("webhook_id"), "/history")


async def show_recover(visit: Visit) -> Response:
    return await webhook_page(visit, visit.path_id("webhook_id"), "/recover")


async def update_webhook(visit: Visit) -> Response:
    webhook_id = visit.path_id("webhook_id")
    values = WebhookValues.submitted(visit.form)
    errors, status = values.check(), 400
    if not errors:
        try:
            await visit.run("update-webhook", {"id": webhook_id, **values.params(creating=False)})
        except NotFound:
            raise
        except HooklineError as error:
            errors, status = errors_from(error, webhook_form.FIELDS), error.status
    if errors:
        return await webhook_page(
            visit, webhook_id, "/settings", status=status, values=values, errors=errors
        )
    return redirect(f"/webhooks/{webhook_id}/settings?notice=webhook-updated")


async def rotate_secret(visit: Visit) -> Response:
    """Asks first (receivers must learn the new secret within a day); the new
    secret then waits, shown once, on the page the answer leads to."""
    webhook_id = visit.path_id("webhook_id")
    if not confirmed(visit):
        hook = await visit.run("get-webhook", {"id": webhook_id})
        return await confirm_page(
            visit,
            title="Rotate the signing secret?",
            message=f"“{hook.name}” gets a new signing secret. For the next 24 hours "
            "requests are signed with both the old and the new one; afterwards "
            "receivers that still check the old secret reject every request.",
            action=f"/webhooks/{webhook_id}/rotate-secret",
            button="Rotate secret",
            back=f"/webhooks/{webhook_id}/secret",
        )
    rotated = await visit.run("rotate-webhook-secret", {"id": webhook_id})
    visit.flash(
        ONCE_SLOT.format(webhook_id),
        {
            "secret": rotated.secret,
            "previous_secret_expires_at": rotated.previous_secret_expires_at,
        },
    )
    return redirect(f"/webhooks/{webhook_id}/secret")


def _minute(value: str) -> datetime | None:
    """``YYYY-MM-DD HH:MM`` (a ``T`` for the space, or seconds, are fine too),
    read as UTC as the form says."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=UTC)


async def recover(visit: Visit) -> Response:
    webhook_id = visit.path_id("webhook_id")
    form = {name: visit.form.get(name).strip() for name in RECOVER_FIELDS}
    errors, status = FormErrors(), 400
    since, until = _minute(form["since"]), _minute(form["until"])
    if since is None:
        errors.add("since", "Give the start as YYYY-MM-DD HH:MM (UTC, 24-hour).")
    if form["until"] and until is None:
        errors.add("until", "Give the end as YYYY-MM-DD HH:MM (UTC, 24-hour), or leave it empty.")
    if not errors:
        params: dict[str, Any] = {"webhookId": webhook_id, "since": since}
        if until is not None:
            params["until"] = until
        try:
            recovered = await visit.run("recover-webhook-deliveries", params)
        except NotFound:
            raise
        except HooklineError as error:
            errors, status = errors_from(error, RECOVER_FIELDS), error.status
        else:
            hook = await visit.run("get-webhook", {"id": webhook_id})
            key = "recovered" if hook.is_active else "recovered-held"
            return redirect(f"/webhooks/{webhook_id}/history?notice={key}&count={recovered.count}")
    return await webhook_page(
        visit, webhook_id, "/recover", status=status, recover_errors=errors, recover_form=form
    )


async def enable(visit: Visit) -> Response:
    """Re-enable a webhook disabled by errors (or switched off): the deliveries
    held for it meanwhile are sent."""
    webhook_id = visit.path_id("webhook_id")
    await visit.run("update-webhook", {"id": webhook_id, "isActive": True})
    if visit.form.get("back") == "list":
        hook = await visit.run("get-webhook", {"id": webhook_id})
        return redirect(f"/teams/{hook.team_id}/webhooks?notice=webhook-enabled")
    return redirect(f"/webhooks/{webhook_id}?notice=webhook-enabled")
