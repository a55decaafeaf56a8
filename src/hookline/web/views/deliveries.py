"""A delivery's page (every attempt, request and response) and re-sending."""

from __future__ import annotations

from starlette.responses import Response

from hookline.auth.roles import Role
from hookline.web import sent_request
from hookline.web.notices import notice
from hookline.web.pages import redirect, render
from hookline.web.visit import Visit


async def show_delivery(visit: Visit) -> Response:
    """Each attempt with the exact body it sent (a batch's whole body), so a
    signature can be checked against it; a delivery not sent yet shows the
    body it will carry, in its webhook's format."""
    delivery = await visit.run("get-webhook-delivery", {"id": visit.path_id("delivery_id")})
    hook = await visit.run("get-webhook", {"id": delivery.webhook_id})
    team = await visit.run("get-team", {"id": hook.team_id})
    bodies = {
        a.id: await sent_request.batch_body(visit.services, hook.id, a)
        if sent_request.is_batch(a)
        else a.request_body
        for a in delivery.attempts_detail
    }
    preview = ""
    if not delivery.attempts_detail:
        preview = await sent_request.preview_body(visit.services, delivery.event_id, hook.mtype)
    return await render(
        visit,
        "deliveries/show.html",
        delivery=delivery,
        hook=hook,
        team=team,
        bodies=bodies,
        preview=preview,
        can_edit=Role(team.role).at_least(Role.EDITOR),
        notice=notice(visit),
    )


async def resend(visit: Visit) -> Response:
    """A disabled webhook holds what is re-sent: the notice says so rather
    than promising an attempt."""
    delivery = await visit.run("resend-webhook-delivery", {"id": visit.path_id("delivery_id")})
    hook = await visit.run("get-webhook", {"id": delivery.webhook_id})
    key = "resent" if hook.is_active else "resent-held"
    if visit.form.get("back") == "delivery":
        return redirect(f"/deliveries/{delivery.id}?notice={key}")
    return redirect(f"/webhooks/{delivery.webhook_id}/history?notice={key}")
