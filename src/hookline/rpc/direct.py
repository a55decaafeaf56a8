"""Commands straight to their endpoint, past Starlette's middleware and router.

Every request through Starlette crosses two exception middlewares and the
router (which tries each route's pattern in turn), and builds its request
object twice: about as much Python per request as a command that needs no
query spends on itself. Commands are most of the traffic, so the app
(hookline.app) recognises their two paths first and serves them with only
what they use: the access log, and a last guard that answers an unexpected
error with a 500 of our own, never a traceback. Every other request goes
through Starlette unchanged."""

from __future__ import annotations

import logging
from typing import Any

from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from hookline.logs import AccessLogMiddleware
from hookline.rpc.transport import error_response, rpc_endpoint, unexpected_error

log = logging.getLogger("hookline.rpc")

# Where commands are called (the second: older Penpot clients), and the
# methods their routes take; anything else is the router's to answer.
PREFIXES = ("/api/rpc/command/", "/api/main/methods/")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})


def command_name(scope: Scope) -> str | None:
    """The command a request calls, when it is one for the direct path."""
    if scope["type"] != "http" or scope["method"] not in METHODS:
        return None
    path = get_route_path(scope)
    for prefix in PREFIXES:
        if path.startswith(prefix):
            name = path[len(prefix) :]
            # As the routes' ``{name}`` matches: one non-empty segment.
            return name if name and "/" not in name else None
    return None


async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
    started = False

    async def sending(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        response = await rpc_endpoint(Request(scope, receive, sending))
        await response(scope, receive, sending)
    except Exception:
        # rpc_endpoint answers every error it meets; this is for what fails
        # around it (sending the answer, say).
        log.exception("request failed", extra={"path": scope["path"]})
        if not started:
            await error_response(unexpected_error(), False)(scope, receive, send)


serve_command: Any = AccessLogMiddleware(_serve)


async def serve(app: Any, name: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve a command request of ``app`` (which the endpoint reads its
    services and registry from)."""
    scope["app"] = app
    scope["path_params"] = {"name": name}
    await serve_command(scope, receive, send)
