"""Property: whatever hostile shape any param of any command takes (commands
from the registry, anonymous and with a token, in a JSON body, a Transit body
or the query string), the answer is never a 5xx, and a refusal is
{type, code, hint}. Valid ids of a real workspace stand beside the hostile
values, so those reach the handlers and the database, not only the parsers."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.rpc.commands import build_registry
from hookline.rpc.registry import CommandSpec
from tests.helpers import ApiFactory
from tests.rpc.hostile import DEPTHS, JSON, TRANSIT, Raw, Workspace, body, cursor, nested, workspace

COMMANDS = list(build_registry())
# Commands that would end the workspace (or its token) for the examples after
# them: their ids are never the workspace's.
DESTRUCTIVE = ("delete-", "leave-team", "rotate-access-token", "update-team-member-role")

HOSTILE: list[Any] = [
    *(nested(depth) for depth in (*DEPTHS, 65)),
    Raw('{"a":' * 70 + "1" + "}" * 70),
    Raw('"\\ud800"'),
    Raw('"a\\udfff@example.com"'),
    Raw('{"\\ud800": 1}'),
    Raw('[{"k": {"n\\u0000": "v"}}]'),
    "a\x00b",
    {"a\x00": 1},
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e999"),
    Raw("-1e999"),
    "NaN",
    "-inf",
    {"x": Raw("NaN"), "y": 1},
    [Raw("Infinity")],
    2**31 - 1,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    Raw("9" * 5000),
    -1,
    0.5,
    "2026-01-01T00:00:00",
    "2026-01-01",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "2026-01-01T00:00:00+23:59",
    "9" * 30 + "h",
    "PT" + "9" * 30 + ".5S",
    "P" + "9" * 20 + "W",
    cursor(2**63),
    cursor(2**31),
    cursor(-1),
    "!!",
    "",
    "x" * 6000,
    "²",
    "٣",
    "http://²/",
    "~zNaN",
    True,
    None,
    [],
    {},
    [None],
    "00000000-0000-0000-0000-000000000000",
]
# Transit's own ways of saying what JSON cannot (plain strings in JSON bodies).
TRANSIT_ONLY = [
    Raw('"~zNaN"'),
    Raw('"~zINF"'),
    Raw('"~f1e999"'),
    Raw('"~bAAAA"'),
    Raw('["~#x",1]'),
    Raw('"~m99999999999999999"'),
    Raw('"~t9999-12-31T23:59:59-23:59"'),
    Raw('"~uno"'),
    Raw('["~#cmap",[1,2]]'),
    Raw('["~#set",["~zNaN"]]'),
    # Penpot's tagged values, malformed or out of range.
    Raw('["~#duration","~i99999999999999999999999"]'),
    Raw('["~#duration",-1]'),
    Raw('["~#duration","~dNaN"]'),
    Raw('{"~#duration":"720h"}'),
    Raw('["~#uri",5]'),
    Raw('{"~#uri":"http://²/"}'),
    Raw('["~#uri","http://127.0.0.1:9/hook"]'),
]
ABSENT, BASELINE = object(), object()


def _transit(value: Any) -> str:
    """``value`` as Transit JSON text, ``Raw`` spliced in verbatim."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        pairs = [f"{json.dumps('~:' + str(k))},{_transit(v)}" for k, v in value.items()]
        return '["^ "' + "".join("," + p for p in pairs) + "]"
    if isinstance(value, list):
        return "[" + ",".join(_transit(v) for v in value) + "]"
    if isinstance(value, str) and value[:1] in ("~", "^", "`"):
        value = "~" + value
    return json.dumps(value)


def _query_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Raw):
        return str(value)
    return json.dumps(value)


@st.composite
def hostile_calls(draw: st.DrawFn) -> tuple[CommandSpec, dict[str, Any], str]:
    spec = draw(st.sampled_from(COMMANDS))
    via = draw(st.sampled_from(["json", "transit", "query"]))
    pool = HOSTILE + TRANSIT_ONLY if via == "transit" else HOSTILE
    hostile = st.sampled_from(pool)
    choice = st.one_of(st.just(ABSENT), st.just(BASELINE), hostile, hostile)
    params = {name: draw(choice) for name in spec.params.model_fields}
    if not [v for v in params.values() if v is not ABSENT and v is not BASELINE]:
        params["extra"] = draw(hostile)
    return spec, params, via


def _object_id(ws: Workspace, command: str, profile_id: str) -> Any:
    """The workspace's object a command's ``id`` names."""
    if command.startswith(DESTRUCTIVE):
        return str(uuid.uuid4())
    for noun, value in (
        ("access-token", ws.token_id),
        ("delivery", ws.delivery_id),
        ("webhook", ws.webhook["id"]),
        ("file", ws.file["id"]),
        ("project", ws.project["id"]),
        ("team", ws.team["id"]),
    ):
        if noun in command:
            return value
    return profile_id


def _baseline(ws: Workspace, spec: CommandSpec, name: str) -> Any:
    profile_id = ws.owner.id
    values: dict[str, Any] = {
        "id": _object_id(ws, spec.name, profile_id),
        "team_id": ws.team["id"],
        "project_id": ws.project["id"],
        "file_id": ws.file["id"],
        "thread_id": ws.thread["id"],
        "webhook_id": ws.webhook["id"],
        "member_id": profile_id,
        "ids": [ws.file["id"]],
        "name": "Name",
        "fullname": "Name",
        "email": "hostile@example.com",
        "password": "correct horse",
        "old_password": "correct horse",
        "uri": "http://127.0.0.1:9/hook",
        "content": "hello",
        "position": {"x": 1.5, "y": 2},
        "revn": 0,
        "changes": [{"type": "set", "value": [1, "two", None]}],
        "since": "2026-01-01T00:00:00Z",
        "until": "2026-01-02T00:00:00+01:00",
        "expiration": "720h",
        "role": "viewer",
    }
    return values.get(name, ABSENT)


def _params(ws: Workspace, spec: CommandSpec, drawn: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    fields = spec.params.model_fields
    for name, value in drawn.items():
        if value is BASELINE:
            value = _baseline(ws, spec, name)
        if value is not ABSENT:
            field = fields.get(name)
            params[field.alias if field is not None and field.alias else name] = value
    return params


@pytest.fixture
async def ws(api_factory: ApiFactory) -> Workspace:
    return await workspace(api_factory)


@pytest.mark.parametrize("caller", ["anonymous", "token"])
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=hostile_calls())
async def test_no_hostile_shape_makes_a_5xx(
    ws: Workspace, caller: str, call: tuple[CommandSpec, dict[str, Any], str]
) -> None:
    spec, drawn, via = call
    params = _params(ws, spec, drawn)
    headers = ws.auth if caller == "token" else {}
    path = f"/api/rpc/command/{spec.name}"
    client = ws.owner.client
    cookies = client.cookies
    client.cookies = {}  # type: ignore[assignment]
    try:
        if via == "query":
            query = urlencode(
                {k: _query_value(v) for k, v in params.items()}, errors="surrogatepass"
            )
            method = "GET" if spec.is_query else "POST"
            response = await client.request(method, f"{path}?{query}", headers=headers)
        else:
            content = body(params) if via == "json" else _transit(params).encode()
            media = JSON if via == "json" else TRANSIT
            response = await client.post(
                path, content=content, headers={**headers, "content-type": media}
            )
    finally:
        client.cookies = cookies
    assert response.status_code < 500, (spec.name, via, params, response.text)
    if response.status_code >= 400:
        answer = response.json()
        assert {"type", "code", "hint"} <= set(answer), answer
