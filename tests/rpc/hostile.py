"""Hostile request shapes, and a workspace for them to reach the database:
a team with a project, a file, a comment thread and a webhook, owned by a
person who also holds an access token."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from tests.helpers import Api, ApiFactory

JSON = "application/json"
TRANSIT = "application/transit+json"
DEPTHS = (1000, 490)


class Raw(str):
    """JSON text to splice into a body as it is: deep nesting, NaN, 1e999,
    escapes that ``json.dumps`` would not write."""


def body(params: dict[str, Any]) -> bytes:
    """``params`` as a JSON object, with ``Raw`` values spliced in verbatim."""
    spliced: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            marker = f"@@raw{len(spliced)}@@"
            spliced[json.dumps(marker)] = str(value)
            return marker
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(params))
    for marker, raw in spliced.items():
        text = text.replace(marker, raw)
    return text.encode()


def nested(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


async def post_raw(api: Api, name: str, content: bytes, media: str = JSON, **kw: Any) -> Any:
    return await api.client.post(
        f"/api/rpc/command/{name}", content=content, headers={"content-type": media}, **kw
    )


@dataclass
class Workspace:
    owner: Api
    token: str
    token_id: str
    team: dict[str, Any]
    project: dict[str, Any]
    file: dict[str, Any]
    thread: dict[str, Any]
    webhook: dict[str, Any]
    delivery_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Token {self.token}"}


async def workspace(factory: ApiFactory) -> Workspace:
    owner = await factory.user("owner")
    team = await owner.call("create-team", {"name": "Team"})
    webhook = await owner.call(
        "create-webhook", {"teamId": team["id"], "uri": "http://127.0.0.1:9/hook"}
    )
    project = await owner.call("create-project", {"teamId": team["id"], "name": "Project"})
    file = await owner.call("create-file", {"projectId": project["id"], "name": "File"})
    thread = await owner.call("create-comment-thread", {"fileId": file["id"], "content": "hi"})
    token = await owner.call("create-access-token", {"name": "hostile"})
    history = await owner.call("get-webhook-deliveries", {"webhookId": webhook["id"]})
    return Workspace(
        owner,
        token["token"],
        token["id"],
        team,
        project,
        file,
        thread,
        webhook,
        history["items"][0]["id"],
    )
