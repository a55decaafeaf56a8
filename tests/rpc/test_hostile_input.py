"""Hostile params answer 400 with {type, code, hint}, on both databases, and
log one line without a traceback: nesting past the limit, lone surrogates,
integers past their column, offsets past any page, times without a zone or
past year 9999, durations past any clock, NaN and Infinity, NUL in keys."""

from __future__ import annotations

import logging
from typing import Any

import pydantic
import pytest

from hookline.codec import MAX_DEPTH
from hookline.rpc.commands import build_registry
from hookline.rpc.models import INT_COLUMN_MAX
from tests.helpers import Api, ApiFactory
from tests.rpc.hostile import (
    DEPTHS,
    TRANSIT,
    Raw,
    Workspace,
    body,
    cursor,
    nested,
    post_raw,
    workspace,
)

COMMANDS = list(build_registry())


def _schemas(node: Any) -> Any:
    """Every subschema of a JSON schema, the schema included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda spec: spec.name)
def test_every_integer_param_is_bounded_by_its_column(spec: Any) -> None:
    """Integers reach INTEGER columns (32 bits on PostgreSQL): each integer
    param, at any depth, is declared with bounds inside that range. One
    declared ``int64`` (milliseconds of an expiration, which become an
    instant) is never stored as it is, and is bounded within 64 bits."""
    for schema in _schemas(spec.params.model_json_schema()):
        if schema.get("type") == "integer":
            limit = 2**63 - 1 if schema.get("format") == "int64" else INT_COLUMN_MAX
            top = schema.get("maximum", schema.get("exclusiveMaximum"))
            bottom = schema.get("minimum", schema.get("exclusiveMinimum"))
            assert top is not None and top <= limit, (spec.name, schema)
            assert bottom is not None and bottom >= -limit - 1, (spec.name, schema)


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda spec: spec.name)
def test_every_time_param_needs_a_zone(spec: Any) -> None:
    properties = spec.params.model_json_schema().get("properties", {})
    for alias, schema in properties.items():
        if not any(s.get("format") == "date-time" for s in _schemas(schema)):
            continue
        for when in ("2026-01-01T00:00:00", "0001-01-01T00:00:00+01:00"):
            with pytest.raises(pydantic.ValidationError) as info:
                spec.params.model_validate({alias: when})
            assert any(alias in map(str, e["loc"]) for e in info.value.errors())


@pytest.fixture
async def ws(api_factory: ApiFactory) -> Workspace:
    return await workspace(api_factory)


def assert_refused(response: Any, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    answer: dict[str, Any] = response.json()
    assert set(answer) >= {"type", "code", "hint"}
    assert answer["type"] == "validation"
    if code is not None:
        assert answer["code"] == code, answer
    return answer


def assert_one_quiet_line(caplog: pytest.LogCaptureFixture) -> None:
    records = [r for r in caplog.records if r.name.startswith("hookline")]
    assert [r for r in records if r.exc_info] == []
    assert len(records) <= 1, [r.getMessage() for r in records]
    assert len(caplog.text) < 2000


@pytest.mark.parametrize("depth", DEPTHS)
async def test_deep_json_is_refused_before_decoding(
    api: Api, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    content = body({"email": "a@example.com", "password": "x" * 8, "fullname": nested(depth)})
    with caplog.at_level(logging.INFO):
        response = await post_raw(api, "register-profile", content)
    assert_refused(response, "nesting-too-deep")
    assert_one_quiet_line(caplog)


@pytest.mark.parametrize("depth", DEPTHS)
async def test_deep_transit_is_refused_before_decoding(
    api: Api, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    content = b'["^ ","~:email","a@example.com","~:extra",' + str(nested(depth)).encode() + b"]"
    with caplog.at_level(logging.INFO):
        response = await post_raw(api, "register-profile", content, TRANSIT)
    assert_refused(response, "nesting-too-deep")
    assert_one_quiet_line(caplog)


async def test_nesting_up_to_the_limit_is_accepted(ws: Workspace) -> None:
    changes = Raw("[" + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "]")
    content = body({"id": ws.file["id"], "revn": 0, "changes": changes})
    response = await post_raw(ws.owner, "update-file", content)
    assert response.status_code == 200, response.text
    too_deep = Raw("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    content = body({"id": ws.file["id"], "revn": 1, "changes": too_deep})
    assert_refused(await post_raw(ws.owner, "update-file", content), "nesting-too-deep")


async def test_brackets_inside_strings_are_not_nesting(ws: Workspace) -> None:
    content = body({"id": ws.file["id"], "revn": 0, "changes": ['[{"\\"' * 200]})
    assert (await post_raw(ws.owner, "update-file", content)).status_code == 200


@pytest.mark.parametrize(
    "email",
    [Raw('"\\ud800@example.com"'), Raw('"a\\udfff@example.com"')],
)
async def test_lone_surrogates_are_refused(api: Api, email: Raw) -> None:
    content = body({"email": email, "password": "correct horse", "fullname": "A"})
    answer = assert_refused(await post_raw(api, "register-profile", content))
    assert "email" in answer["hint"]


async def test_surrogates_encoded_in_utf8_are_malformed(api: Api) -> None:
    content = b'{"email": "\xed\xa0\x80@example.com", "password": "correct horse", "fullname": "A"}'
    assert_refused(await post_raw(api, "register-profile", content), "malformed-json")


async def test_surrogates_in_nested_keys_are_refused(ws: Workspace) -> None:
    content = body({"id": ws.file["id"], "revn": 0, "changes": [Raw('{"\\udc00": 1}')]})
    assert_refused(await post_raw(ws.owner, "update-file", content))


@pytest.mark.parametrize("revn", [2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30])
async def test_revisions_past_the_column_are_refused(ws: Workspace, revn: int) -> None:
    status, answer = await ws.owner.error(
        "update-file", {"id": ws.file["id"], "revn": revn, "changes": []}
    )
    assert status == 400 and answer["code"] == "params-validation", answer


@pytest.mark.parametrize("offset", [2**31, 2**63, 2**64])
async def test_cursors_past_any_page_are_refused(ws: Workspace, offset: int) -> None:
    status, answer = await ws.owner.error(
        "get-webhook-deliveries", {"webhookId": ws.webhook["id"], "cursor": cursor(offset)}
    )
    assert status == 400 and answer["code"] == "invalid-cursor", answer


@pytest.mark.parametrize(
    "when",
    [
        "2026-01-01T00:00:00",
        "2026-01-01",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-23:59",
        "2026-01-01T00:00:00+24:00",
    ],
)
@pytest.mark.parametrize("command", ["get-webhook-deliveries", "recover-webhook-deliveries"])
async def test_times_need_a_zone_and_a_year_in_range(
    ws: Workspace, command: str, when: str
) -> None:
    for field in ("since", "until"):
        params = {"webhookId": ws.webhook["id"], "since": "2026-01-01T00:00:00Z", field: when}
        status, answer = await ws.owner.error(command, params)
        assert status == 400 and answer["code"] == "params-validation", answer
        assert field in answer["hint"]


async def test_times_with_any_zone_are_accepted(ws: Workspace) -> None:
    params = {
        "webhookId": ws.webhook["id"],
        "since": "2026-01-01T00:00:00+23:59",
        "until": "2026-01-02T00:00:00-23:59",
    }
    assert (await ws.owner.call("get-webhook-deliveries", params))["total"] == 0
    assert (await ws.owner.call("recover-webhook-deliveries", params))["count"] == 0


@pytest.mark.parametrize(
    "expiration",
    ["9" * 30 + "h", "PT" + "9" * 30 + ".5S", "P" + "9" * 30 + "W", "9" * 5000 + "m", "PT1e9S"],
)
async def test_durations_past_any_clock_are_refused(ws: Workspace, expiration: str) -> None:
    status, answer = await ws.owner.error(
        "create-access-token", {"name": "t", "expiration": expiration}
    )
    assert status == 400 and answer["code"] == "params-validation", answer
    assert len(answer["hint"]) < 200


@pytest.mark.parametrize(
    "number",
    [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999"), "NaN", "inf", "-Infinity"],
)
async def test_nan_and_infinity_are_refused(ws: Workspace, number: Any) -> None:
    content = body({"fileId": ws.file["id"], "content": "here", "position": {"x": number, "y": 1}})
    assert_refused(await post_raw(ws.owner, "create-comment-thread", content))


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_nan_and_infinity_are_refused_inside_documents(ws: Workspace, number: str) -> None:
    for changes in (f"[{number}]", f'[{{"a": {{"b": {number}}}}}]'):
        content = body({"id": ws.file["id"], "revn": 0, "changes": Raw(changes)})
        assert_refused(await post_raw(ws.owner, "update-file", content))


@pytest.mark.parametrize("special", ["~zNaN", "~zINF", "~z-INF", "~f1e999", "~bAAAA", "~#x"])
async def test_transit_values_json_cannot_hold_are_refused(ws: Workspace, special: str) -> None:
    value = '["~#x", 1]' if special == "~#x" else f'"{special}"'
    content = (
        f'["^ ","~:file-id","~u{ws.file["id"]}","~:content","here",'
        f'"~:position",["^ ","~:x",{value},"~:y",1]]'
    ).encode()
    response = await post_raw(ws.owner, "create-comment-thread", content, TRANSIT)
    assert response.status_code == 400, response.text


async def test_transit_uuids_and_instants_inside_documents_are_stored(ws: Workspace) -> None:
    content = (
        f'["^ ","~:id","~u{ws.file["id"]}","~:revn",0,'
        f'"~:changes",["~u{ws.team["id"]}","~m1767225600000",["~#set",[1]]]]'
    ).encode()
    response = await post_raw(ws.owner, "update-file", content, TRANSIT)
    assert response.status_code == 200, response.text
    stored = await ws.owner.call("get-file", {"id": ws.file["id"]})
    assert stored["data"]["changes"][0] == ws.team["id"]
    assert stored["data"]["changes"][1].startswith("2026-01-01T00:00:00")


@pytest.mark.parametrize(
    "changes",
    [
        Raw('[{"a\\u0000b": 1}]'),
        Raw('[{"a": {"b\\u0000": [1]}}]'),
        Raw('[{"a": ["x\\u0000"]}]'),
    ],
)
async def test_nul_anywhere_is_refused(ws: Workspace, changes: Raw) -> None:
    content = body({"id": ws.file["id"], "revn": 0, "changes": changes})
    answer = assert_refused(await post_raw(ws.owner, "update-file", content))
    assert "NUL" in answer["hint"]


async def test_query_strings_are_checked_like_bodies(ws: Workspace) -> None:
    response = await ws.owner.client.get(
        "/api/rpc/command/get-webhook-deliveries",
        params={"webhookId": ws.webhook["id"], "since": "2026-01-01T00:00:00"},
    )
    assert_refused(response)
    response = await ws.owner.client.get(
        "/api/rpc/command/get-webhook-deliveries",
        params={"webhookId": ws.webhook["id"], "search": "a\x00b"},
    )
    assert_refused(response)
