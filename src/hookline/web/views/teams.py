"""Teams: create one, the team page (members, roles, invitations), and the
page where an invitee accepts."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from hookline.auth.roles import Role
from hookline.errors import HooklineError, NotFound, ValidationError
from hookline.web.forms import FormErrors, errors_from
from hookline.web.notices import notice
from hookline.web.pages import redirect, render
from hookline.web.views.confirm import confirm_page, confirmed
from hookline.web.visit import Visit

ROLES = [role.value for role in Role]
INVITE_FIELDS = ("email", "role")
ONCE_SLOT = "invitation:{}"


async def new_team(visit: Visit) -> Response:
    return await render(visit, "teams/new.html", notice=notice(visit))


async def create_team(visit: Visit) -> Response:
    """A second team with a name one already has is easy to mistake for the
    first: ask before creating it."""
    name = visit.form.get("name")
    same = [t for t in await visit.run("get-teams") if t.name.casefold() == name.strip().casefold()]
    if same and not confirmed(visit):
        return await confirm_page(
            visit,
            title=f"You already have a team named “{same[0].name}”",
            message="Two teams with the same name look alike in the team menu. "
            f"Create another team named “{name.strip()}”?",
            action="/teams",
            button="Create another team",
            back=f"/teams/{same[0].id}",
            resend=visit.form,
            danger=False,
        )
    try:
        team = await visit.run("create-team", {"name": name})
    except ValidationError as error:
        return await render(
            visit,
            "teams/new.html",
            status=400,
            form={"name": name},
            errors=errors_from(error, ("name",)),
        )
    return redirect(f"/teams/{team.id}")


async def team_page(
    visit: Visit, *, status: int = 200, errors: FormErrors | None = None, **extra: Any
) -> Response:
    team_id = visit.path_id("team_id")
    team = await visit.run("get-team", {"id": team_id})
    members = await visit.run("get-team-members", {"teamId": team_id})
    can_manage = Role(team.role).at_least(Role.ADMIN)
    pending = await visit.run("get-team-invitations", {"teamId": team_id}) if can_manage else []
    return await render(
        visit,
        "teams/team.html",
        status=status,
        team=team,
        members=members,
        pending=pending,
        roles=ROLES,
        can_manage=can_manage,
        is_owner=team.role == Role.OWNER,
        errors=errors or FormErrors(),
        notice=notice(visit),
        **extra,
    )


async def show_team(visit: Visit) -> Response:
    shown_once = visit.take_flash(ONCE_SLOT.format(visit.path_id("team_id"))) or {}
    return await team_page(visit, **shown_once)


async def invite(visit: Visit) -> Response:
    """The invitation link is the invitation: it waits in a flash for the team
    page, shown once, and a reload invites nobody twice."""
    values = {name: visit.form.get(name) for name in INVITE_FIELDS}
    try:
        invitation = await visit.run(
            "create-team-invitation", {"teamId": visit.path_id("team_id"), **values}
        )
    except NotFound:
        raise
    except HooklineError as error:
        return await team_page(
            visit, status=error.status, form=values, errors=errors_from(error, INVITE_FIELDS)
        )
    link = (
        f"{visit.services.settings.public_url}/invitations/accept?token="
        f"{quote(invitation.token, safe='')}"
    )
    team_id = visit.path_id("team_id")
    visit.flash(
        ONCE_SLOT.format(team_id),
        {
            "invitation": {
                "email": invitation.email,
                "role": invitation.role,
                "expires_at": invitation.expires_at,
            },
            "invitation_link": link,
        },
    )
    return redirect(f"/teams/{team_id}")


async def change_role(visit: Visit) -> Response:
    team_id = visit.path_id("team_id")
    try:
        await visit.run(
            "update-team-member-role",
            {
                "teamId": team_id,
                "memberId": visit.path_id("member_id"),
                "role": visit.form.get("role"),
            },
        )
    except NotFound:
        raise
    except HooklineError as error:
        return await team_page(visit, status=error.status, errors=errors_from(error, ()))
    return redirect(f"/teams/{team_id}?notice=role-changed")


async def accept_invitation(visit: Visit) -> Response:
    """Anyone may open the link; joining needs the account it was sent to."""
    token = visit.form.get("token") or visit.query("token")
    here = "/invitations/accept?token=" + quote(token, safe="")
    if visit.request.method == "GET" or not visit.signed_in:
        return await render(visit, "teams/accept.html", token=token, here=quote(here, safe=""))
    try:
        team = await visit.run("accept-team-invitation", {"token": token})
    except HooklineError as error:
        return await render(
            visit,
            "teams/accept.html",
            status=error.status,
            token=token,
            here=quote(here, safe=""),
            errors=errors_from(error, ()),
        )
    return redirect(f"/teams/{team.id}?notice=joined")


async def rename_team(visit: Visit) -> Response:
    team_id = visit.path_id("team_id")
    try:
        await visit.run("update-team", {"id": team_id, "name": visit.form.get("name").strip()})
    except NotFound:
        raise
    except HooklineError as error:
        return await team_page(
            visit, status=error.status, errors=errors_from(error, ("name",)), form=visit.form
        )
    return redirect(f"/teams/{team_id}?notice=team-renamed")


async def withdraw_invitation(visit: Visit) -> Response:
    """An open invitation withdrawn: its link no longer lets anyone in."""
    team_id = visit.path_id("team_id")
    try:
        await visit.run("delete-team-invitation", {"id": visit.path_id("invitation_id")})
    except NotFound:
        raise
    except HooklineError as error:
        return await team_page(visit, status=error.status, errors=errors_from(error, ()))
    return redirect(f"/teams/{team_id}?notice=invitation-withdrawn")


async def remove_member(visit: Visit) -> Response:
    team_id, member_id = visit.path_id("team_id"), visit.path_id("member_id")
    if not confirmed(visit):
        members = await visit.run("get-team-members", {"teamId": team_id})
        member = next((m for m in members if m.id == member_id), None)
        if member is None:
            raise NotFound()
        return await confirm_page(
            visit,
            title=f"Remove {member.fullname} from the team?",
            message=f"{member.fullname} ({member.email}) loses access to the team's "
            "projects and webhooks at once. They can be invited again.",
            action=f"/teams/{team_id}/members/{member_id}/remove",
            button="Remove member",
            back=f"/teams/{team_id}",
        )
    try:
        await visit.run("delete-team-member", {"teamId": team_id, "memberId": member_id})
    except NotFound:
        raise
    except HooklineError as error:
        return await team_page(visit, status=error.status, errors=errors_from(error, ()))
    return redirect(f"/teams/{team_id}?notice=member-removed")


async def leave(visit: Visit) -> Response:
    team_id = visit.path_id("team_id")
    if not confirmed(visit):
        team = await visit.run("get-team", {"id": team_id})
        return await confirm_page(
            visit,
            title=f"Leave “{team.name}”?",
            message="You lose access to the team's projects and webhooks; "
            "someone must invite you again to come back.",
            action=f"/teams/{team_id}/leave",
            button="Leave team",
            back=f"/teams/{team_id}",
        )
    try:
        await visit.run("leave-team", {"id": team_id})
    except NotFound:
        raise
    except HooklineError as error:
        return await team_page(visit, status=error.status, errors=errors_from(error, ()))
    return redirect("/?notice=left-team")


async def delete_team(visit: Visit) -> Response:
    team_id = visit.path_id("team_id")
    team = await visit.run("get-team", {"id": team_id})
    if not confirmed(visit):
        return await confirm_page(
            visit,
            title=f"Delete “{team.name}”?",
            message="The team is deleted with everything in it: projects, files, "
            "webhooks and their delivery history. This cannot be undone.",
            action=f"/teams/{team_id}/delete",
            button="Delete team",
            back=f"/teams/{team_id}",
        )
    try:
        await visit.run("delete-team", {"id": team_id})
    except NotFound:
        raise
    except HooklineError as error:
        return await team_page(visit, status=error.status, errors=errors_from(error, ()))
    return redirect("/?notice=team-deleted")
