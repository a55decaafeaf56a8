from __future__ import annotations

import asyncio
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
    # The default team made at registration comes first.
    assert [t["id"] for t in await owner.call("get-teams")] == [owner.default_team_id, team["id"]]
    renamed = await owner.call("update-team", {"id": team["id"], "name": "Product"})
    assert renamed["name"] == "Product"
    await owner.call("delete-team", {"id": team["id"]})
    assert [t["id"] for t in await owner.call("get-teams")] == [owner.default_team_id]
    status, _ = await owner.error("get-team", {"id": team["id"]})
    assert status == 404


async def test_other_teams_are_invisible(api_factory: ApiFactory) -> None:
    a = await api_factory.user()
    b = await api_factory.user()
    await a.call("create-team", {"name": "A's"})
    assert [t["id"] for t in await b.call("get-teams")] == [b.default_team_id]


async def test_invitation_flow(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("viewer",))
    listed = await members["owner"].call("get-team-members", {"teamId": team["id"]})
    assert [(m["role"]) for m in listed] == ["owner", "viewer"]
    roles = {t["id"]: t["role"] for t in await members["viewer"].call("get-teams")}
    assert roles == {members["viewer"].default_team_id: "owner", team["id"]: "viewer"}


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
    assert [t["id"] for t in await owner.call("get-teams")] == [owner.default_team_id]


async def test_members_leave_and_admins_cannot_remove_owners(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("admin", "viewer"))
    status, _ = await members["admin"].error(
        "delete-team-member", {"teamId": team["id"], "memberId": members["owner"].id}
    )
    assert status == 403
    await members["viewer"].call("leave-team", {"id": team["id"]})
    status, _ = await members["viewer"].error("get-team", {"id": team["id"]})
    assert status == 404


async def _invite(api: Api, team: dict[str, Any], email: str, role: str = "editor") -> Any:
    return await api.call(
        "create-team-invitation", {"teamId": team["id"], "email": email, "role": role}
    )


async def test_invitations_are_listed_and_withdrawn(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("admin", "editor"))
    owner, admin = members["owner"], members["admin"]
    guest = await api_factory.user("guest")
    first = await _invite(owner, team, guest.profile["email"])
    second = await _invite(admin, team, "later@example.com", "viewer")
    for manager in (owner, admin):
        listed = await manager.call("get-team-invitations", {"teamId": team["id"]})
        assert [(i["id"], i["invitedBy"]) for i in listed] == [
            (first["id"], owner.id),
            (second["id"], admin.id),
        ]
        assert all("token" not in i for i in listed), "the token is shown once"
    status, body = await members["editor"].error("get-team-invitations", {"teamId": team["id"]})
    assert (status, body["code"]) == (403, "insufficient-permissions")
    await admin.call("delete-team-invitation", {"id": first["id"]})
    status, body = await guest.error("accept-team-invitation", {"token": first["token"]})
    assert (status, body["code"]) == (404, "invitation-not-found")
    listed = await owner.call("get-team-invitations", {"teamId": team["id"]})
    assert [i["id"] for i in listed] == [second["id"]]
    status, _ = await members["editor"].error("delete-team-invitation", {"id": second["id"]})
    assert status == 403
    other_owner = await api_factory.user("elsewhere")
    await other_owner.call("create-team", {"name": "Elsewhere"})
    for call in (
        other_owner.error("delete-team-invitation", {"id": second["id"]}),
        other_owner.error("get-team-invitations", {"teamId": team["id"]}),
    ):
        status, body = await call
        assert (status, body["type"]) == (404, "not-found")
    assert len(await owner.call("get-team-invitations", {"teamId": team["id"]})) == 1


async def test_only_owners_withdraw_invitations_to_owner(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("admin",))
    invitation = await _invite(members["owner"], team, "boss@example.com", "owner")
    status, _ = await members["admin"].error("delete-team-invitation", {"id": invitation["id"]})
    assert status == 403
    await members["owner"].call("delete-team-invitation", {"id": invitation["id"]})


async def test_an_invitation_dies_with_its_creators_rights(api_factory: ApiFactory) -> None:
    """A removed admin cannot come back through an invitation they wrote for
    themselves, and a demoted one's invitations stop working."""
    team, members = await team_with_members(api_factory, ("admin", "deputy"))
    owner, admin, deputy = members["owner"], members["admin"], members["deputy"]
    await owner.call(
        "update-team-member-role", {"teamId": team["id"], "memberId": deputy.id, "role": "admin"}
    )
    guest = await api_factory.user("guest")
    comeback = await _invite(admin, team, admin.profile["email"], "admin")
    by_deputy = await _invite(deputy, team, guest.profile["email"], "admin")
    by_deputy_low = await _invite(deputy, team, "low@example.com", "viewer")
    await owner.call("delete-team-member", {"teamId": team["id"], "memberId": admin.id})
    status, body = await admin.error("accept-team-invitation", {"token": comeback["token"]})
    assert (status, body["code"]) == (404, "invitation-not-found")
    assert [t["id"] for t in await admin.call("get-teams")] == [admin.default_team_id]
    await owner.call(
        "update-team-member-role", {"teamId": team["id"], "memberId": deputy.id, "role": "editor"}
    )
    status, body = await guest.error("accept-team-invitation", {"token": by_deputy["token"]})
    assert (status, body["code"]) == (404, "invitation-not-found")
    assert await owner.call("get-team-invitations", {"teamId": team["id"]}) == []
    # Promoted again, the deputy may grant those roles again.
    await owner.call(
        "update-team-member-role", {"teamId": team["id"], "memberId": deputy.id, "role": "admin"}
    )
    listed = await owner.call("get-team-invitations", {"teamId": team["id"]})
    assert {i["id"] for i in listed} == {by_deputy["id"], by_deputy_low["id"]}


async def test_a_demoted_owners_owner_invitations_are_void(api_factory: ApiFactory) -> None:
    team, members = await team_with_members(api_factory, ("admin",))
    owner, admin = members["owner"], members["admin"]
    await owner.call(
        "update-team-member-role", {"teamId": team["id"], "memberId": admin.id, "role": "owner"}
    )
    heir = await api_factory.user("heir")
    helper = await api_factory.user("helper")
    as_owner = await _invite(owner, team, heir.profile["email"], "owner")
    as_admin = await _invite(owner, team, helper.profile["email"], "admin")
    await owner.call(
        "update-team-member-role", {"teamId": team["id"], "memberId": owner.id, "role": "admin"}
    )
    status, _ = await heir.error("accept-team-invitation", {"token": as_owner["token"]})
    assert status == 404
    joined = await helper.call("accept-team-invitation", {"token": as_admin["token"]})
    assert joined["role"] == "admin"


async def test_parallel_accepts_of_one_invitation_let_one_in(api_factory: ApiFactory) -> None:
    """Ten clients of the invitee accept one invitation at the same moment, each
    on a connection of its own: one joins, the others are told it was used."""
    owner = await api_factory.user("owner")
    team = await owner.call("create-team", {"name": "T"})
    guest = await api_factory.user("guest")
    invitation = await _invite(owner, team, guest.profile["email"])
    clients = [guest] + [
        await api_factory.anonymous(cookies=guest.client.cookies) for _ in range(9)
    ]
    responses = await asyncio.gather(
        *(c.post("accept-team-invitation", {"token": invitation["token"]}) for c in clients)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [404] * 9, [r.text for r in responses]
    assert all(
        r.json()["code"] == "invitation-not-found" for r in responses if r.status_code == 404
    )
    listed = await owner.call("get-team-members", {"teamId": team["id"]})
    assert sorted(m["role"] for m in listed) == ["editor", "owner"]


async def _two_owners(api_factory: ApiFactory) -> tuple[dict[str, Any], Api, Api]:
    team, members = await team_with_members(api_factory, ("admin",))
    owner, second = members["owner"], members["admin"]
    await owner.call(
        "update-team-member-role", {"teamId": team["id"], "memberId": second.id, "role": "owner"}
    )
    return team, owner, second


async def _owners(api: Api, team: dict[str, Any]) -> list[str]:
    members = await api.call("get-team-members", {"teamId": team["id"]})
    return [m["id"] for m in members if m["role"] == "owner"]


async def test_two_owners_stepping_down_at_once_keep_an_owner(api_factory: ApiFactory) -> None:
    """Both owners demote themselves, or both leave, at the same moment (each
    on a connection of its own): one of them is refused as the last owner.
    Three rounds of each, since a race may go either way."""
    for _ in range(3):
        team, a, b = await _two_owners(api_factory)
        step_down = [
            api.post(
                "update-team-member-role",
                {"teamId": team["id"], "memberId": api.id, "role": "admin"},
            )
            for api in (a, b)
        ]
        responses = await asyncio.gather(*step_down)
        assert sorted(r.status_code for r in responses) == [200, 400], [r.text for r in responses]
        assert len(await _owners(a, team)) == 1
        team, a, b = await _two_owners(api_factory)
        leave = [api.post("leave-team", {"id": team["id"]}) for api in (a, b)]
        responses = await asyncio.gather(*leave)
        assert sorted(r.status_code for r in responses) == [204, 400], [r.text for r in responses]
        stayed = a if responses[1].status_code == 204 else b
        assert await _owners(stayed, team) == [stayed.id]


async def test_an_invitation_withdrawn_while_accepted_is_one_or_the_other(
    api_factory: ApiFactory,
) -> None:
    """Withdrawn and accepted at the same moment: either the guest joined and
    the withdrawal finds nothing, or it was withdrawn and the guest is told so."""
    owner = await api_factory.user("owner")
    team = await owner.call("create-team", {"name": "T"})
    for _ in range(3):
        guest = await api_factory.user("guest")
        invitation = await _invite(owner, team, guest.profile["email"])
        accepted, withdrawn = await asyncio.gather(
            guest.post("accept-team-invitation", {"token": invitation["token"]}),
            owner.post("delete-team-invitation", {"id": invitation["id"]}),
        )
        outcome = (accepted.status_code, withdrawn.status_code)
        assert outcome in ((200, 404), (404, 204)), (accepted.text, withdrawn.text)
        joined = guest.id in {
            m["id"] for m in await owner.call("get-team-members", {"teamId": team["id"]})
        }
        assert joined is (accepted.status_code == 200)
