"""Teams: the switcher, the team page, invitations and accepting them."""

from __future__ import annotations

import html
import re
import uuid

from tests.helpers import ApiFactory, team_with_members
from tests.web.client import WebFactory, text


async def test_invite_and_accept(web: WebFactory) -> None:
    owner = await web.user("owner")
    created = await owner.submit("/teams", {"name": "Design"})
    team_path = created.headers["location"]
    invitee = await web.user("invitee")
    email = invitee.api.profile["email"] if invitee.api else ""
    sent = await owner.submit(f"{team_path}/invitations", {"email": email, "role": "viewer"})
    assert sent.status_code == 303 and sent.headers["location"] == team_path
    page = await owner.get(team_path)
    assert page.headers["cache-control"] == "no-store"
    link = re.search(r'id="invitation-link" type="text" value="([^"]+)"', page.text)
    assert link, "the invitation link is not shown"
    url = html.unescape(link.group(1))
    assert url.startswith("http://127.0.0.1:6060/invitations/accept?token=")
    path = url.removeprefix("http://127.0.0.1:6060")
    signed_out = await (await web.anonymous()).get(path)
    assert "Sign in, or create an account" in text(signed_out.text)
    assert "/login?next=%2Finvitations%2Faccept%3Ftoken%3D" in signed_out.text
    stranger = await web.user("stranger")
    refused = await stranger.submit("/invitations/accept", {"token": url.split("token=")[1]})
    assert refused.status_code == 400 and "for another e-mail address" in refused.text
    offer = await invitee.get(path)
    assert "Join the team" in offer.text
    joined = await invitee.submit("/invitations/accept", {"token": url.split("token=")[1]})
    assert joined.headers["location"] == f"{team_path}?notice=joined"
    team_page = await invitee.get(joined.headers["location"])
    assert "You joined the team." in team_page.text
    assert "Owners and admins invite people." in team_page.text
    assert "/invitations" not in team_page.text.split("</header>")[1]
    assert "/role" not in team_page.text


async def test_invitation_errors_next_to_fields(web: WebFactory) -> None:
    owner = await web.user()
    team_path = (await owner.submit("/teams", {"name": "T"})).headers["location"]
    page = await owner.submit(f"{team_path}/invitations", {"email": "nope", "role": "boss"})
    assert page.status_code == 400
    assert 'id="invite-email-error"' in page.text and 'id="invite-role-error"' in page.text


async def test_change_a_role_and_switch_teams(web: WebFactory, api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("viewer",))
    owner = await web.of(members["owner"])
    other_team = await members["owner"].call("create-team", {"name": "Another"})
    page = await owner.get(f"/teams/{team['id']}")
    assert f'href="/teams/{other_team["id"]}"' in page.text  # the switcher
    viewer_id = members["viewer"].id
    changed = await owner.submit(
        f"/teams/{team['id']}/members/{viewer_id}/role", {"role": "editor"}
    )
    assert changed.headers["location"] == f"/teams/{team['id']}?notice=role-changed"
    roles = await members["owner"].call("get-team-members", {"teamId": team["id"]})
    assert {m["id"]: m["role"] for m in roles}[viewer_id] == "editor"
    refused = await owner.submit(
        f"/teams/{team['id']}/members/{members['owner'].id}/role", {"role": "viewer"}
    )
    assert refused.status_code == 400 and "A team needs an owner" in refused.text


async def test_foreign_teams_are_not_found(web: WebFactory, api_factory: ApiFactory) -> None:
    team, _members = await team_with_members(api_factory, ())
    outsider = await web.user()
    for path in (f"/teams/{team['id']}", f"/teams/{team['id']}/webhooks"):
        response = await outsider.get(path)
        assert response.status_code == 404 and "Not found" in response.text
    for path in (f"/teams/{uuid.uuid4()}", "/teams/not-a-uuid"):
        assert (await outsider.get(path)).status_code == 404
    posted = await outsider.submit(
        f"/teams/{team['id']}/invitations", {"email": "x@example.com", "role": "owner"}
    )
    assert posted.status_code == 404
    posted = await outsider.submit(
        f"/teams/{team['id']}/members/{uuid.uuid4()}/role", {"role": "owner"}
    )
    assert posted.status_code == 404


async def test_open_invitations_are_listed_and_withdrawn(web: WebFactory) -> None:
    owner = await web.user("owner")
    guest = await web.user("guest")
    email = guest.api.profile["email"] if guest.api and guest.api.profile else ""
    created = await owner.submit("/teams", {"name": "Design"})
    team_path = created.headers["location"]
    sent = await owner.submit(f"{team_path}/invitations", {"email": email, "role": "editor"})
    assert sent.status_code == 303
    page = await owner.get(team_path)
    link = re.search(r'id="invitation-link" type="text" value="([^"]+)"', page.text)
    assert link
    token = html.unescape(link.group(1)).split("token=")[1]
    page = await owner.get(team_path)  # the link was shown once; the list stays
    assert email in text(page.text) and "Waiting to be accepted" in page.text
    action = re.search(r'action="(/teams/[^"]+/invitations/[^"]+/withdraw)"', page.text)
    assert action
    withdrawn = await owner.submit(action.group(1), {})
    assert withdrawn.headers["location"] == f"{team_path}?notice=invitation-withdrawn"
    page = await owner.get(withdrawn.headers["location"])
    assert "The invitation was withdrawn" in page.text
    assert email not in text(page.text)
    refused = await guest.submit("/invitations/accept", {"token": token})
    assert refused.status_code == 404
