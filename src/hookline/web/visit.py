"""One request to a UI page: who is asking, their browser's CSRF binding, the
form they sent, and a way to run commands as them through ``execute``, so the
UI checks nothing the API does not check in the same place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from starlette.requests import Request

from hookline.auth.identity import Identity, identify
from hookline.auth.sessions import COOKIE_NAME
from hookline.errors import NotFound
from hookline.rpc.context import CallInfo
from hookline.rpc.execute import execute
from hookline.rpc.registry import Registry
from hookline.rpc.transport import client_ip
from hookline.services import Services
from hookline.web import csrf, flash
from hookline.web.forms import FormData

# Cookie values longer than this are nobody's session or CSRF key.
_MAX_KEY_LENGTH = 100


@dataclass
class Visit:
    request: Request
    services: Services
    registry: Registry
    identity: Identity | None
    call: CallInfo
    csrf_binding: str
    # A pre-session key to store in the browser (its first visit).
    new_anonymous_key: str | None = None
    form: FormData = field(default_factory=FormData)

    @property
    def csrf_token(self) -> str:
        return csrf.token_for(self.services.settings.secret_key, self.csrf_binding)

    @property
    def signed_in(self) -> bool:
        return self.identity is not None

    @property
    def secure_cookies(self) -> bool:
        return self.services.settings.public_url.startswith("https://")

    async def run(self, command: str, params: dict[str, Any] | None = None) -> Any:
        """Run a command as this visitor, with the API's validation and checks."""
        spec = self.registry.get(command)
        if spec is None:
            raise LookupError(f"the UI names an unknown command {command!r}")
        return await execute(
            self.services, self.registry, spec, params or {}, self.identity, self.call
        )

    def path_id(self, name: str) -> UUID:
        """An id from the URL; anything that is not one is simply not found."""
        try:
            return UUID(str(self.request.path_params[name]))
        except (KeyError, ValueError):
            raise NotFound() from None

    def flash(self, name: str, value: dict[str, Any]) -> None:
        """Keep a one-time value for the page this POST redirects to."""
        flash.store.put(self.csrf_binding, name, value)

    def take_flash(self, name: str) -> dict[str, Any] | None:
        return flash.store.take(self.csrf_binding, name)

    def query(self, name: str) -> str:
        return self.request.query_params.get(name, "").strip()


def _cookie(request: Request, name: str) -> str | None:
    value = request.cookies.get(name)
    return value if value and len(value) <= _MAX_KEY_LENGTH else None


async def open_visit(request: Request) -> Visit:
    services: Services = request.app.state.services
    session_key = _cookie(request, COOKIE_NAME)
    call = CallInfo(client_ip=client_ip(request), session_key=session_key)
    identity = await identify(
        services, authorization=None, session_key=session_key, client_ip=call.client_ip
    )
    new_key = None
    binding = session_key or _cookie(request, csrf.ANONYMOUS_COOKIE)
    if binding is None:
        binding = new_key = csrf.new_anonymous_key()
    return Visit(
        request=request,
        services=services,
        registry=request.app.state.registry,
        identity=identity,
        call=call,
        csrf_binding=binding,
        new_anonymous_key=new_key,
    )
