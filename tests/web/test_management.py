"""What the API already lets people do, now in the UI: rename, leave and
delete a team, remove a member; change one's name and password; rotate an
access token."""

from __future__ import annotations

import re

from tests.helpers import ApiFactory, team_with_members
from tests.web.client import WebFactory, text

TOKEN = re.compile(r'id="new-token" type="text" value="(hlp_[^"]+)"')


async def test_team_rename_remove_leave_delete(web: WebFactory, api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("editor", "viewer"))
    owner = await web.of(members["owner"])
    base = f"/teams/{team['id']}"
    renamed = await owner.submit(f"{base}/rename", {"name": "Studio"})
    assert renamed.headers["location"] == f"{base}?notice=team-renamed"
    assert (await members["owner"].call("get-team", {"id": team["id"]}))["name"] == "Studio"
    viewer_id = members["viewer"].id
    asked = await owner.submit(f"{base}/members/{viewer_id}/remove")
    assert asked.status_code == 200 and "Remove" in asked.text
    removed = await owner.submit(f"{base}/members/{viewer_id}/remove", {"confirm": "yes"})
    assert removed.headers["location"] == f"{base}?notice=member-removed"
    ids = [m["id"] for m in await members["owner"].call("get-team-members", {"teamId": team["id"]})]
    assert viewer_id not in ids
    editor = await web.of(members["editor"])
    page = (await editor.get(base)).text
    assert "/remove" not in page and "Delete team" not in page and "Leave team" in page
    left = await editor.submit(f"{base}/leave", {"confirm": "yes"})
    assert left.status_code == 303
    assert (await editor.get(base)).status_code == 404
    refused = await owner.submit(f"{base}/leave", {"confirm": "yes"})
    assert refused.status_code == 400 and "last owner" in text(refused.text)
    gone = await owner.submit(f"{base}/delete", {"confirm": "yes"})
    assert gone.status_code == 303
    assert (await owner.get(base)).status_code == 404


async def test_the_default_team_offers_no_leave_delete_or_invitation(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    base = f"/teams/{person.api.default_team_id}"
    page = text((await person.get(base)).text)
    assert "Your default team is yours alone" in page
    for action in ("Leave team", "Delete team", "Create invitation", "Danger zone"):
        assert action not in page, action
    assert "Rename" in page  # it may be renamed
    # Sent anyway, each is refused on the team page, and the team stays.
    for path, words in (
        ("/delete", "A default team cannot be deleted"),
        ("/leave", "last owner"),
    ):
        refused = await person.submit(f"{base}{path}", {"confirm": "yes"})
        assert refused.status_code == 400 and words in text(refused.text), path
    invited = await person.submit(
        f"{base}/invitations", {"email": "friend@example.com", "role": "editor"}
    )
    assert invited.status_code == 400 and "create a team to work with others" in text(invited.text)
    assert (await person.get(base)).status_code == 200


async def test_profile_name_and_password(web: WebFactory, api_factory: ApiFactory) -> None:
    person = await web.user()
    assert person.api is not None
    page = await person.get("/settings/profile")
    assert person.api.profile["email"] in page.text
    done = await person.submit("/settings/profile", {"fullname": "Ada L."})
    assert done.headers["location"] == "/settings/profile?notice=profile-updated"
    assert (await person.api.call("get-profile"))["fullname"] == "Ada L."
    wrong = await person.submit(
        "/settings/profile/password", {"oldPassword": "nope", "password": "a new password"}
    )
    assert wrong.status_code >= 400 and "a new password" not in wrong.text
    changed = await person.submit(
        "/settings/profile/password",
        {"oldPassword": "correct horse", "password": "a new password"},
    )
    assert changed.headers["location"] == "/settings/profile?notice=password-changed"


async def test_rotate_a_token(web: WebFactory) -> None:
    person = await web.user()
    assert person.api is not None
    created = await person.api.call("create-access-token", {"name": "ci"})
    path = f"/settings/tokens/{created['id']}/rotate"
    asked = await person.submit(path)
    assert "Rotate this token?" in asked.text
    rotated = await person.submit(path, {"confirm": "yes"})
    assert rotated.headers["location"] == "/settings/tokens"
    shown = TOKEN.search((await person.get("/settings/tokens")).text)
    assert shown and shown.group(1) != created["token"]
    assert TOKEN.search((await person.get("/settings/tokens")).text) is None
