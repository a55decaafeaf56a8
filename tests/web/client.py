"""A browser stand-in for the fast UI tests: an httpx client over the
in-memory ASGI app that reads CSRF tokens from pages and submits forms."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from tests.helpers import Api, ApiFactory

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def text(page: str) -> str:
    """The page's text without tags, unescaped, with spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", page.replace("<wbr>", ""))
    return " ".join(html.unescape(without_tags).split())


class WebClient:
    def __init__(self, client: httpx.AsyncClient, api: Api | None = None) -> None:
        self.client = client
        self.api = api

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def token(self) -> str:
        """This browser's CSRF token, as any page with a form shows it."""
        page = await self.get("/login")
        if page.is_redirect:  # signed in: the log-out form carries it
            page = await self.get("/events")
        return csrf_token(page.text)

    async def submit(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        """POST a form the way the page would, CSRF token included."""
        fields = {"csrf_token": await self.token(), **(data or {})}
        return await self.client.post(path, data=fields)

    async def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        """POST without adding a CSRF token."""
        return await self.client.post(path, data=data or {})


class WebFactory:
    def __init__(self, api_factory: ApiFactory) -> None:
        self.api_factory = api_factory

    async def anonymous(self) -> WebClient:
        api = await self.api_factory.anonymous()
        return WebClient(api.client, api)

    async def user(self, name: str | None = None) -> WebClient:
        """A registered person signed in with a session cookie."""
        api = await self.api_factory.user(name)
        return WebClient(api.client, api)

    async def of(self, api: Api) -> WebClient:
        return WebClient(api.client, api)
