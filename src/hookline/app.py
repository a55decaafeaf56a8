"""The ASGI application: API, docs, UI, and the delivery worker's lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hookline.delivery.queue import queue_depth
from hookline.delivery.service import Worker
from hookline.logs import AccessLogMiddleware
from hookline.oauth import endpoints as oauth
from hookline.rpc import direct, docs
from hookline.rpc.commands import build_registry
from hookline.rpc.transport import rpc_endpoint
from hookline.services import Services, freeze_startup_heap
from hookline.settings import Settings
from hookline.web import pages, security
from hookline.web.routes import routes as web_routes


async def doc_page(request: Request) -> Response:
    services: Services = request.app.state.services
    page = HTMLResponse(docs.html(request.app.state.registry, services.settings.public_url))
    return security.protect(page)


async def openapi_document(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONResponse(docs.openapi(request.app.state.registry, services.settings.public_url))


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


async def metrics(request: Request) -> Response:
    """Prometheus metrics: queue depth from the database, the rest from the
    worker running in this process (zero under ``serve --no-worker``). With
    ``HOOKLINE_METRICS_TOKEN`` set, only for ``Authorization: Bearer <it>``."""
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if token and not _bearer_matches(request, token):
        return PlainTextResponse(
            "metrics need Authorization: Bearer <HOOKLINE_METRICS_TOKEN>",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    async with services.db.read(bulk=True) as conn:  # counts every delivery
        depth = await queue_depth(conn)
    return PlainTextResponse(services.metrics.render(depth), media_type="text/plain; version=0.0.4")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


_MACHINE_PATHS = (
    "/api/",
    "/healthz",
    "/metrics",
    "/static/",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
    "/.well-known/",
)


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods: plain text for programs (as before),
    a page in the site layout for people."""
    if not isinstance(exc, HTTPException):
        raise exc
    if request.url.path.startswith(_MACHINE_PATHS):
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    response = await pages.http_error(request, exc.status_code)
    response.headers.update(exc.headers or {})
    return response


class HooklineApp(Starlette):
    """Starlette, with commands served first on a path of their own (see
    rpc.direct)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = direct.command_name(scope)
        if name is None:
            await super().__call__(scope, receive, send)
        else:
            await direct.serve(self, name, scope, receive, send)


def create_app(
    settings: Settings, *, services: Services | None = None, run_worker: bool = False
) -> Starlette:
    """The app. Given ``services`` (tests), it uses them as they are; otherwise it
    starts its own on startup (migrating the database) and closes them on shutdown.
    With ``run_worker`` the delivery worker runs in this process for the app's life."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or await Services.start(settings)
        started: Services = app.state.services
        worker = Worker(started) if run_worker else None
        listener = None
        if not started.db.is_sqlite:
            listener = asyncio.create_task(started.identity_cache.listen(started.db.url))
        try:
            if worker is not None:
                await worker.start()
            if owned:
                freeze_startup_heap()
            yield
        finally:
            if worker is not None:
                await worker.stop()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            if owned:
                await app.state.services.close()

    app = HooklineApp(
        routes=[
            *(
                Route(path, rpc_endpoint, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
                # The second is where older Penpot clients call the same commands.
                for path in ("/api/rpc/command/{name}", "/api/main/methods/{name}")
            ),
            Route("/api/_doc", doc_page),
            Route("/api/main/doc", doc_page),
            Route("/api/openapi.json", openapi_document),
            Route("/oauth/token", oauth.token, methods=["GET", "POST"]),
            Route("/oauth/revoke", oauth.revoke, methods=["GET", "POST"]),
            Route("/oauth/introspect", oauth.introspect, methods=["GET", "POST"]),
            Route("/.well-known/oauth-authorization-server", oauth.metadata_endpoint),
            Route("/healthz", health),
            Route("/metrics", metrics),
            *web_routes(),
        ],
        middleware=[Middleware(AccessLogMiddleware)],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.registry = build_registry()
    if services is not None:
        app.state.services = services
    return app
