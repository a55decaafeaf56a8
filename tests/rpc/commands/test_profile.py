from __future__ import annotations

import logging

import pytest

from hookline.auth.sessions import COOKIE_NAME
from tests.helpers import Api, ApiFactory


async def test_register_login_get_profile(api: Api) -> None:
    created = await api.call(
        "register-profile",
        {"email": "Ann@Example.com", "password": "long enough", "fullname": " Ann "},
    )
    assert created["email"] == "ann@example.com"
    assert created["fullname"] == "Ann"
    assert "password" not in str(created).lower()
    response = await api.post(
        "login-with-password", {"email": "ann@example.com", "password": "long enough"}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = await api.call("get-profile")
    assert me["id"] == created["id"]


async def test_anonymous_profile(api: Api) -> None:
    me = await api.call("get-profile")
    assert me["id"] == "00000000-0000-0000-0000-000000000000"
    assert me["fullname"] == "Anonymous User"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"email": "not-an-email", "password": "12345678", "fullname": "A"}, "email"),
        ({"email": "a@example.com", "password": "short", "fullname": "A"}, "password"),
        ({"email": "a@example.com", "password": "12345678", "fullname": "   "}, "fullname"),
        ({"email": "a@example.com", "password": "12345678", "fullname": "x" * 251}, "fullname"),
    ],
)
async def test_register_validation(api: Api, params: dict[str, str], field: str) -> None:
    status, body = await api.error("register-profile", params)
    assert status == 400
    assert [d["field"] for d in body["details"]] == [field]


async def test_email_must_be_unique(api: Api) -> None:
    params = {"email": "dup@example.com", "password": "12345678", "fullname": "A"}
    await api.call("register-profile", params)
    status, body = await api.error("register-profile", {**params, "email": "DUP@example.com"})
    assert (status, body["code"]) == (400, "email-already-exists")


async def test_wrong_password(api: Api) -> None:
    await api.call(
        "register-profile", {"email": "w@example.com", "password": "12345678", "fullname": "W"}
    )
    status, body = await api.error(
        "login-with-password", {"email": "w@example.com", "password": "wrong-one"}
    )
    assert (status, body["code"]) == (400, "wrong-credentials")
    status, body = await api.error(
        "login-with-password", {"email": "nobody@example.com", "password": "wrong-one"}
    )
    assert (status, body["code"]) == (400, "wrong-credentials")


async def test_login_rate_limit_per_account(api_factory: ApiFactory) -> None:
    api = await api_factory.anonymous()
    await api.call(
        "register-profile", {"email": "rl@example.com", "password": "12345678", "fullname": "R"}
    )
    for _ in range(10):
        status, _ = await api.error(
            "login-with-password", {"email": "rl@example.com", "password": "bad-password"}
        )
        assert status == 400
    response = await api.post(
        "login-with-password", {"email": "rl@example.com", "password": "12345678"}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["code"] == "too-many-attempts"


async def test_login_rate_limit_per_address(api_factory: ApiFactory) -> None:
    api = await api_factory.anonymous(client=("10.1.2.3", 1000))
    for n in range(10):
        await api.error("login-with-password", {"email": f"x{n}@example.com", "password": "p"})
    status, _body = await api.error(
        "login-with-password", {"email": "other@example.com", "password": "p"}
    )
    assert status == 429
    other = await api_factory.anonymous(client=("10.1.2.4", 1000))
    status, _ = await other.error(
        "login-with-password", {"email": "other@example.com", "password": "p"}
    )
    assert status == 400


async def test_login_gives_a_new_session_and_logout_ends_it(api_factory: ApiFactory) -> None:
    user = await api_factory.user("fix")
    old_key = user.client.cookies[COOKIE_NAME]
    user.client.cookies.clear()
    response = await user.post(
        "login-with-password",
        {"email": user.profile["email"], "password": "correct horse"},
        headers={"cookie": f"{COOKIE_NAME}={old_key}"},
    )
    new_key = response.cookies[COOKIE_NAME]
    assert new_key != old_key
    # The session the request came with is gone: a planted id is never promoted.
    anon = await api_factory.anonymous()
    stale = await anon.client.get(
        "/api/rpc/command/get-profile", headers={"cookie": f"{COOKIE_NAME}={old_key}"}
    )
    assert stale.json()["fullname"] == "Anonymous User"
    assert (await user.call("get-profile"))["id"] == user.id
    await user.call("logout")
    assert (await user.call("get-profile"))["fullname"] == "Anonymous User"


async def test_update_profile(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    updated = await user.call("update-profile", {"fullname": "New Name"})
    assert updated["fullname"] == "New Name"
    anon = await api_factory.anonymous()
    status, body = await anon.error("update-profile", {"fullname": "x"})
    assert (status, body["code"]) == (401, "authentication-required")


async def test_update_password(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    _status, body = await user.error(
        "update-profile-password", {"oldPassword": "wrong", "password": "new password"}
    )
    assert body["code"] == "old-password-not-match"
    await user.call(
        "update-profile-password", {"oldPassword": "correct horse", "password": "new password"}
    )
    other = await api_factory.anonymous()
    await other.call(
        "login-with-password", {"email": user.profile["email"], "password": "new password"}
    )


async def test_delete_profile(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    member = await api_factory.user()
    shared = await owner.call("create-team", {"name": "Shared"})
    invitation = await owner.call(
        "create-team-invitation",
        {"teamId": shared["id"], "email": member.profile["email"], "role": "editor"},
    )
    await member.call("accept-team-invitation", {"token": invitation["token"]})
    _status, body = await owner.error("delete-profile", {"password": "correct horse"})
    assert body["code"] == "owner-of-shared-team"
    await member.call("delete-profile", {"password": "correct horse"})
    assert (await member.call("get-profile"))["fullname"] == "Anonymous User"
    assert [m["id"] for m in await owner.call("get-team-members", {"teamId": shared["id"]})] == [
        owner.id
    ]


async def test_passwords_never_logged(
    api_factory: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await api_factory.user(password="very-secret-password")
    assert "very-secret-password" not in caplog.text
