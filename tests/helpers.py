"""Test clients: HTTP over an in-memory ASGI transport, one cookie jar per user."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import httpx

from hookline.app import create_app
from hookline.services import Services

_counter = itertools.count(1)


class ApiError(AssertionError):
    pass


class Api:
    def __init__(self, client: httpx.AsyncClient, profile: dict[str, Any] | None = None) -> None:
        self.client = client
        self.profile = profile or {}

    @property
    def id(self) -> str:
        return str(self.profile["id"])

    @property
    def default_team_id(self) -> str:
        """The team registration made for this profile."""
        return str(self.profile["defaultTeamId"])

    async def post(
        self, name: str, params: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.post(f"/api/rpc/command/{name}", json=params or {}, **kw)

    async def call(self, name: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a command and answer its result; fail the test on an error."""
        response = await self.post(name, params, **kw)
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            raise ApiError(f"{name} answered {response.status_code}: {response.text}")
        return response.json()

    async def error(
        self, name: str, params: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        """POST a command that must fail; answer (status, error body)."""
        response = await self.post(name, params, **kw)
        if response.status_code < 400:
            raise ApiError(
                f"{name} should have failed, got {response.status_code}: {response.text}"
            )
        body: dict[str, Any] = json.loads(response.content)
        return response.status_code, body


class ApiFactory:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.app = create_app(services.settings, services=services)
        self._clients: list[httpx.AsyncClient] = []
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """What the app's lifespan does that the ASGI transport skips: on
        PostgreSQL, listen for identity changes so the cache is in play."""
        if not self.services.db.is_sqlite:
            cache = self.services.identity_cache
            self._listener = asyncio.create_task(cache.listen(self.services.db.url))
            async with asyncio.timeout(10):
                while not cache.enabled:
                    await asyncio.sleep(0.01)

    def _client(self, **kw: Any) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=self.app, client=kw.pop("client", ("127.0.0.1", 5000))
            ),
            base_url="http://testserver",
            **kw,
        )
        self._clients.append(client)
        return client

    async def anonymous(self, **kw: Any) -> Api:
        return Api(self._client(**kw))

    async def user(self, name: str | None = None, password: str = "correct horse") -> Api:
        """A new registered profile, logged in with a session cookie."""
        name = name or f"user{next(_counter)}"
        email = f"{name}-{next(_counter)}@example.com"
        api = Api(self._client())
        await api.call("register-profile", {"email": email, "password": password, "fullname": name})
        api.profile = await api.call("login-with-password", {"email": email, "password": password})
        return api

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


async def team_with_members(
    factory: ApiFactory, roles: tuple[str, ...] = ("admin", "editor", "viewer")
) -> tuple[dict[str, Any], dict[str, Api]]:
    """A team owned by a new user, with one new member per label in ``roles``
    (a role name, or any other label for one more viewer). Answers the team and
    the clients by label (``owner`` included)."""
    owner = await factory.user("owner")
    team = await owner.call("create-team", {"name": "Team"})
    members = {"owner": owner}
    for label in roles:
        role = label if label in ("owner", "admin", "editor", "viewer") else "viewer"
        member = await factory.user(label)
        invitation = await owner.call(
            "create-team-invitation",
            {"teamId": team["id"], "email": member.profile["email"], "role": role},
        )
        await member.call("accept-team-invitation", {"token": invitation["token"]})
        members[label] = member
    return team, members
