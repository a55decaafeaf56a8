from __future__ import annotations

from typing import Any

import pytest

from hookline.clock import FrozenClock
from tests.helpers import Api, ApiFactory, team_with_members

CALLERS = ("owner", "admin", "editor", "viewer", "outsider")
RANK = {"viewer": 0, "editor": 1, "admin": 2, "owner": 3}


def _params(command: str, team: dict[str, Any], target: Api) -> dict[str, Any]:
    return {
        "get-team": {"id": team["id"]},
        "get-team-members": {"teamId": team["id"]},
        "update-team": {"id": team["id"], "name": "Renamed"},
        "create-team-invitation": {"teamId": team["id"], "email": "new@example.com"},
        "update-team-member-role": {"teamId": team["id"], "memberId": target.id, "role": "editor"},
        "delete-team-member": {"teamId": team["id"], "memberId": target.id},
        "delete-team": {"id": team["id"]},
    }[command]


MINIMUM = {
    "get-team": "viewer",
    "get-team-members": "viewer",
    "update-team": "admin",
    "create-team-invitation": "admin",
    "update-team-member-role": "admin",
    "delete-team-member": "admin",
    "delete-team": "owner",
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("command", sorted(MINIMUM))
async def test_permission_matrix(api_factory: ApiFactory, command: str, caller: str) -> None:
    team, members = await team_with_members(api_factory, ("admin", "editor", "viewer", "target"))
    api = members[caller] if caller != "outsider" else await api_factory.user("outsider")
    params = _params(command, team, members["target"])
    response = await api.post(command, params)
    if caller == "outsider":
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "not-found"
    elif RANK[caller] >= RANK[MINIMUM[command]]:
        assert response.status_code in (200, 204), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "insufficient-permissions"


async def test_team_lifecycle(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "  Design  "})
    assert team["name"] == "Design" and team["role"] == "owner"
    assert [t["id"] for t in await owner.call("get-teams")] == [team["id"]]
    renamed = await owner.call("update-team", {"id": team["id"], "name": "Product"})
    assert renamed["name"] == "Product"
    await owner.call("delete-team", {"id": team["id"]})
    assert await owner.call("get-teams") == []
    status, _ = await owner.error("get-team", {"id": team["id"]})
    assert status == 404


async def test_other_teams_are_invisible(api_factory: ApiFactory) -> None:
    a = await api_factory.user()
    b = await api_factory.user()
    await a.call("create-team", {"name": "A's"})
    assert await b.call("get-teams") == []


async def test_invitation_flow(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("viewer",))
    listed = await members["owner"].call("get-team-members", {"teamId": team["id"]})
    assert [(m["role"]) for m in listed] == ["owner", "viewer"]
    assert (await members["viewer"].call("get-teams"))[0]["role"] == "viewer"


async def test_invitation_for_another_email(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    invitation = await owner.call(
        "create-team-invitation", {"teamId": team["id"], "email": "someone@example.com"}
    )
    intruder = await api_factory.user()
    status, body = await intruder.error("accept-team-invitation", {"token": invitation["token"]})
    assert (status, body["code"]) == (400, "invitation-email-mismatch")
    status, body = await intruder.error("accept-team-invitation", {"token": "made-up"})
    assert status == 404


async def test_invitation_expires(api_factory: ApiFactory) -> None:
    clock = FrozenClock()
    api_factory.services.clock = clock
    owner = await api_factory.user()
    guest = await api_factory.user()
    team = await owner.call("create-team", {"name": "T"})
    invitation = await owner.call(
        "create-team-invitation", {"teamId": team["id"], "email": guest.profile["email"]}
    )
    clock.advance(days=8)
    _status, body = await guest.error("accept-team-invitation", {"token": invitation["token"]})
    assert body["code"] == "invitation-expired"


async def test_only_owners_make_owners(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("admin", "editor"))
    admin, editor = members["admin"], members["editor"]
    status, _ = await admin.error(
        "update-team-member-role", {"teamId": team["id"], "memberId": editor.id, "role": "owner"}
    )
    assert status == 403
    status, _ = await admin.error(
        "create-team-invitation", {"teamId": team["id"], "email": "x@example.com", "role": "owner"}
    )
    assert status == 403
    await members["owner"].call(
        "update-team-member-role", {"teamId": team["id"], "memberId": editor.id, "role": "owner"}
    )


async def test_last_owner_rules(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("admin",))
    owner, admin = members["owner"], members["admin"]
    status, body = await owner.error("leave-team", {"id": team["id"]})
    assert (status, body["code"]) == (400, "owner-cant-leave-team")
    status, body = await owner.error(
        "update-team-member-role", {"teamId": team["id"], "memberId": owner.id, "role": "admin"}
    )
    assert body["code"] == "last-owner"
    await owner.call(
        "update-team-member-role", {"teamId": team["id"], "memberId": admin.id, "role": "owner"}
    )
    await owner.call("leave-team", {"id": team["id"]})
    assert await owner.call("get-teams") == []


async def test_members_leave_and_admins_cannot_remove_owners(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("admin", "viewer"))
    status, _ = await members["admin"].error(
        "delete-team-member", {"teamId": team["id"], "memberId": members["owner"].id}
    )
    assert status == 403
    await members["viewer"].call("leave-team", {"id": team["id"]})
    status, _ = await members["viewer"].error("get-team", {"id": team["id"]})
    assert status == 404
