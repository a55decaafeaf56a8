"""Team → Webhooks: the table, adding one, and the row actions (test, delete)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from hookline.auth.roles import Role
from hookline.errors import AuthorizationError, HooklineError, NotFound
from hookline.web import webhook_form, webhook_stats
from hookline.web.forms import FormErrors, errors_from
from hookline.web.notices import notice
from hookline.web.pages import redirect, render, restored_form
from hookline.web.views.confirm import confirm_page, confirmed
from hookline.web.views.webhook_page import ONCE_SLOT, event_types
from hookline.web.visit import Visit
from hookline.web.webhook_form import WebhookValues

_NEVER = datetime.min.replace(tzinfo=UTC)
SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "name": lambda hook: (hook.name.casefold(), hook.uri),
    "url": lambda hook: (hook.uri.casefold(), hook.name),
    "last-attempt": lambda hook: (hook.last.sent_at if hook.last else _NEVER, hook.name),
    "state": lambda hook: (hook.state, hook.name.casefold()),
}
COLUMNS = (
    ("name", "Name"),
    ("url", "URL"),
    ("last-attempt", "Last attempt"),
    ("state", "State"),
)


@dataclass(frozen=True)
class Row:
    """A webhook in the table, with its most recent attempt."""

    hook: Any
    last: Any

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hook, name)


def can_edit(team: Any) -> bool:
    return Role(team.role).at_least(Role.EDITOR)


def arrange(hooks: list[Any], search: str, sort: str) -> list[Any]:
    """The rows to show: those matching the search, in the chosen order."""
    needle = search.casefold()
    shown = [h for h in hooks if needle in h.name.casefold() or needle in h.uri.casefold()]
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["name"])
    return sorted(shown, key=key, reverse=sort.startswith("-"))


async def list_webhooks(visit: Visit) -> Response:
    team_id = visit.path_id("team_id")
    team = await visit.run("get-team", {"id": team_id})
    found = await visit.run("get-webhooks", {"teamId": team_id})
    latest = await webhook_stats.last_attempts(visit.services, [hook.id for hook in found])
    hooks = [Row(hook, latest.get(hook.id)) for hook in found]
    search = visit.query("q")[:200]
    sort = visit.query("sort")
    if sort.lstrip("-") not in SORT_KEYS:
        sort = "name"
    return await render(
        visit,
        "webhooks/list.html",
        team=team,
        webhooks=arrange(hooks, search, sort),
        total=len(hooks),
        q=search,
        sort=sort,
        columns=COLUMNS,
        can_edit=can_edit(team),
        notice=notice(visit),
    )


async def _new_form(
    visit: Visit, team: Any, values: WebhookValues, errors: FormErrors, status: int = 200
) -> Response:
    return await render(
        visit,
        "webhooks/new.html",
        status=status,
        team=team,
        values=values,
        errors=errors,
        event_types=await event_types(visit),
        formats=webhook_form.FORMATS,
    )


async def _editable_team(visit: Visit) -> Any:
    team = await visit.run("get-team", {"id": visit.path_id("team_id")})
    if not can_edit(team):
        raise AuthorizationError(
            "insufficient-permissions", "adding webhooks needs the editor role or higher"
        )
    return team


async def new_webhook(visit: Visit) -> Response:
    team = await _editable_team(visit)
    typed = restored_form(visit)
    values = WebhookValues.submitted(typed) if typed else WebhookValues()
    return await _new_form(visit, team, values, FormErrors())


async def create_webhook(visit: Visit) -> Response:
    """Answers with the new webhook's page; its signing secret waits there,
    shown once, so a reload neither adds a second webhook nor shows it again."""
    team = await _editable_team(visit)
    values = WebhookValues.submitted(visit.form)
    errors = values.check()
    if errors:
        return await _new_form(visit, team, values, errors, status=400)
    twin = _twin(await visit.run("get-webhooks", {"teamId": team.id}), values)
    if twin is not None and not confirmed(visit):
        return await confirm_page(
            visit,
            title="This URL already receives these events",
            message=f"The webhook “{twin.name}” already sends "
            f"{'every event' if twin.events is None else 'some of these events'} to "
            f"{values.uri}: each would arrive twice. Add another webhook anyway?",
            action=f"/teams/{team.id}/webhooks",
            button="Add anyway",
            back=f"/webhooks/{twin.id}",
            resend=visit.form,
            danger=False,
        )
    try:
        created = await visit.run(
            "create-webhook", {"teamId": team.id, **values.params(creating=True)}
        )
    except NotFound:
        raise
    except HooklineError as error:
        found = errors_from(error, webhook_form.FIELDS)
        return await _new_form(visit, team, values, found, status=error.status)
    visit.flash(ONCE_SLOT.format(created.id), {"secret": created.secret, "created": True})
    return redirect(f"/webhooks/{created.id}")


def _twin(hooks: list[Any], values: WebhookValues) -> Any:
    """A webhook of the team that already sends some of the chosen events to
    the same URL, so every one of them would be delivered twice."""
    for hook in hooks:
        if hook.uri.rstrip("/") != values.uri.rstrip("/"):
            continue
        if hook.events is None or values.all_events or set(hook.events) & set(values.events):
            return hook
    return None


async def send_test(visit: Visit) -> Response:
    webhook_id = visit.path_id("webhook_id")
    hook = await visit.run("get-webhook", {"id": webhook_id})
    sent = await visit.run("send-webhook-test", {"id": webhook_id})
    key = "test-sent" if sent.event_id is not None else "test-not-sent"
    if visit.form.get("back") == "list":
        return redirect(f"/teams/{hook.team_id}/webhooks?notice={key}")
    return redirect(f"/webhooks/{webhook_id}?notice={key}")


async def delete_webhook(visit: Visit) -> Response:
    webhook_id = visit.path_id("webhook_id")
    hook = await visit.run("get-webhook", {"id": webhook_id})
    if not confirmed(visit):
        return await confirm_page(
            visit,
            title="Delete this webhook?",
            message=f"“{hook.name}” and its delivery history are deleted; "
            "its events stop at once. This cannot be undone.",
            action=f"/webhooks/{webhook_id}/delete",
            button="Delete webhook",
            back=f"/webhooks/{webhook_id}/settings",
        )
    await visit.run("delete-webhook", {"id": webhook_id})
    return redirect(f"/teams/{hook.team_id}/webhooks?notice=webhook-deleted")
