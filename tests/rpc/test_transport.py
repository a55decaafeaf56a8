from __future__ import annotations

import json
import logging

import pytest

from hookline.rpc.commands import GROUPS
from hookline.rpc.context import Context
from hookline.rpc.models import Empty
from hookline.rpc.registry import CommandGroup, Registry
from tests.helpers import Api, ApiFactory

TRANSIT = "application/transit+json"


async def test_unknown_command_is_404(api: Api) -> None:
    status, body = await api.error("no-such-command")
    assert status == 404
    assert body == {
        "type": "not-found",
        "code": "command-not-found",
        "hint": "there is no command named 'no-such-command'",
    }


async def test_get_only_for_get_commands(api: Api) -> None:
    response = await api.client.get("/api/rpc/command/create-team")
    assert response.status_code == 405
    assert response.json()["code"] == "method-not-allowed"
    response = await api.client.put("/api/rpc/command/get-profile")
    assert response.status_code == 405


async def test_get_command_answers_get_and_head(api: Api) -> None:
    response = await api.client.get("/api/rpc/command/get-profile")
    assert response.status_code == 200
    assert response.json()["fullname"] == "Anonymous User"
    assert (await api.client.head("/api/rpc/command/get-profile")).status_code == 200


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.client.post(
        "/api/rpc/command/register-profile",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed-json"


async def test_malformed_transit_is_400(api: Api) -> None:
    response = await api.client.post(
        "/api/rpc/command/register-profile",
        content=b'["^ ","~:email"',
        headers={"content-type": TRANSIT},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed-transit"


async def test_body_must_be_an_object(api: Api) -> None:
    response = await api.client.post("/api/rpc/command/register-profile", json=[1, 2])
    assert response.status_code == 400
    assert response.json()["code"] == "params-validation"


async def test_unsupported_media_type_is_415(api: Api) -> None:
    response = await api.client.post(
        "/api/rpc/command/register-profile",
        content=b"email=a",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported-media-type"


async def test_missing_and_wrong_params_name_the_fields(api: Api) -> None:
    status, body = await api.error("register-profile", {"email": "x@example.com", "fullname": 3})
    assert status == 400
    assert body["code"] == "params-validation"
    fields = {d["field"] for d in body["details"]}
    assert fields == {"password", "fullname"}


async def test_oversized_body_is_413(api_factory: ApiFactory) -> None:
    api = await api_factory.anonymous()
    limit = api_factory.services.settings.max_body_bytes
    big = json.dumps({"fullname": "x" * (limit + 10)})
    response = await api.client.post(
        "/api/rpc/command/register-profile",
        content=big,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload-too-large"


async def test_oversized_body_without_content_length_is_413(api_factory: ApiFactory) -> None:
    api = await api_factory.anonymous()
    limit = api_factory.services.settings.max_body_bytes

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(limit // 4096 + 2):
            yield b"x" * 4096

    response = await api.client.post(
        "/api/rpc/command/register-profile",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


async def test_kebab_and_camel_keys_and_query_params(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Kebab"})
    by_kebab = await owner.client.get(
        "/api/rpc/command/get-team-members", params={"team-id": team["id"]}
    )
    by_camel = await owner.client.get(
        "/api/rpc/command/get-team-members", params={"teamId": team["id"]}
    )
    assert by_kebab.status_code == by_camel.status_code == 200
    assert by_kebab.json() == by_camel.json()
    body = await owner.call("get-team-members", {"team-id": team["id"]})
    assert body == by_camel.json()


async def test_body_overrides_query(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    team = await owner.call("create-team", {"name": "Body wins"})
    response = await owner.client.post(
        "/api/rpc/command/get-team", params={"id": "not-a-uuid"}, json={"id": team["id"]}
    )
    assert response.status_code == 200


async def test_transit_request_and_response(api_factory: ApiFactory) -> None:
    owner = await api_factory.user()
    response = await owner.client.post(
        "/api/rpc/command/create-team",
        content=b'["^ ","~:name","Transit team"]',
        headers={"content-type": TRANSIT, "accept": TRANSIT},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(TRANSIT)
    import io

    from transit.reader import Reader

    data = Reader("json").read(io.StringIO(response.text))
    keys = {str(k) for k in data}
    assert {"id", "name", "role", "created-at", "updated-at"} <= keys


async def test_transit_error_body(api: Api) -> None:
    response = await api.client.post(
        "/api/rpc/command/create-team", json={"name": "x"}, headers={"accept": TRANSIT}
    )
    assert response.status_code == 401
    assert response.text.startswith('["^ ","~:type","authentication"')


async def test_empty_result_is_204(api_factory: ApiFactory) -> None:
    user = await api_factory.user()
    response = await user.post("logout")
    assert response.status_code == 204
    assert response.content == b""


async def test_unexpected_failure_is_500_without_traceback(
    api_factory: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broken = CommandGroup()

    @broken.command("explode", params=Empty, result=None, auth=False)
    async def explode(ctx: Context, params: Empty) -> None:
        """Fails."""
        raise RuntimeError("secret internals")

    api_factory.app.state.registry = Registry((*GROUPS, broken))
    api = await api_factory.anonymous()
    with caplog.at_level(logging.ERROR, logger="hookline.rpc"):
        response = await api.post("explode")
    assert response.status_code == 500
    assert response.json()["type"] == "internal"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


async def test_nul_characters_are_bad_params_not_database_errors(
    api_factory: ApiFactory,
) -> None:
    owner = await api_factory.user()
    status, body = await owner.error("create-team", {"name": "a\u0000b"})
    assert (status, body["code"]) == (400, "params-validation")
    assert body["details"] == [{"field": "name", "message": "must not contain NUL characters"}]
    anonymous = await api_factory.anonymous()
    status, body = await anonymous.error(
        "login-with-password", {"email": "a\u0000@example.com", "password": "x" * 8}
    )
    assert status == 400 and body["details"][0]["field"] == "email"


async def test_a_failure_around_the_endpoint_is_500_without_traceback(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands skip Starlette's error middleware (rpc.direct): what fails
    outside the endpoint's own handling still answers a 500 of ours."""
    from hookline.rpc import direct

    async def broken(request: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(direct, "rpc_endpoint", broken)
    with caplog.at_level(logging.ERROR, logger="hookline.rpc"):
        response = await api.client.post("/api/rpc/command/get-profile", json={})
    assert response.status_code == 500
    assert response.json() == {
        "type": "internal",
        "code": "unexpected-error",
        "hint": "something went wrong on our side; it is logged",
    }
    assert "secret internals" not in response.text
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


async def test_paths_beside_the_commands_are_the_routers(api: Api) -> None:
    """Only ``<prefix><name>`` with a route's methods goes the direct way;
    the rest is answered as the router answers it."""
    assert (await api.client.options("/api/rpc/command/get-profile")).status_code == 405
    for path in ("/api/rpc/command/", "/api/rpc/command/get-profile/x", "/api/rpc/commandx"):
        assert (await api.client.get(path)).status_code == 404, path
    response = await api.client.get("/api/main/methods/get-profile")
    assert response.status_code == 200 and response.json()["fullname"] == "Anonymous User"


async def test_commands_are_in_the_access_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hookline.access"):
        await api.client.post("/api/rpc/command/get-profile?token=x", json={})
    (record,) = [r for r in caplog.records if r.name == "hookline.access"]
    assert (record.method, record.path, record.status, record.command) == (  # type: ignore[attr-defined]
        "POST",
        "/api/rpc/command/get-profile",
        200,
        "get-profile",
    )
