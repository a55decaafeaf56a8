"""The ``hookline`` command: serve, worker, migrate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine, Iterator
from typing import Any

import uvicorn

from hookline import __version__, logs
from hookline.settings import KEY_FILE_NAME, Settings, SettingsError, load_settings
from hookline.storage import key_check, revision
from hookline.storage.database import Database, DatabaseUnreachable, when_reachable

log = logging.getLogger("hookline.cli")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"hookline: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _migrate(settings: Settings) -> None:
    """Bring the schema up to date, waiting for the database to be reachable,
    and make sure the secret key is the one its data was sealed with."""

    async def upgrade() -> None:
        db = Database(settings.database_url)
        try:
            await revision.upgrade(db)
            await key_check.verify_secret_key(db, settings)
        finally:
            await db.dispose()

    try:
        await when_reachable(upgrade, what="migrate", wait_s=settings.database_wait_s)
    except key_check.SecretKeyMismatch as exc:
        if settings.key_source == "generated":
            # Leave no new key behind: the next start must not take it as the key.
            (settings.data_dir / KEY_FILE_NAME).unlink(missing_ok=True)
        print(f"hookline: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    logs.configure(settings.log_level)
    asyncio.run(_migrate(settings))
    log.info("migrations applied", extra={"database": settings.database_url.split(":", 1)[0]})
    return 0


KEEP_ALIVE_S = 75


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after a graceful shutdown, which makes the process
    look killed; a clean stop on SIGTERM or SIGINT exits with status 0 instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


def server_config(app: Any, settings: Settings, host: str, port: int) -> uvicorn.Config:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise;
    # anyone could then choose the address that rate limits and "last used
    # from" see, through any local proxy that passes the header on. Only the
    # proxies in HOOKLINE_TRUSTED_PROXIES are believed.
    trusted = [str(network) for network in settings.trusted_proxies]
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
        # Longer than clients keep idle connections (httpx: 5 s), so a request
        # sent on a reused connection does not meet the server closing it.
        timeout_keep_alive=KEEP_ALIVE_S,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from hookline.app import create_app

    settings = _settings()
    logs.configure(settings.log_level)
    asyncio.run(_migrate(settings))
    app = create_app(settings, run_worker=not args.no_worker)
    log.info(
        "serving",
        extra={"url": f"http://{args.host}:{args.port}", "worker": not args.no_worker},
    )
    server = _Server(server_config(app, settings, args.host, args.port))
    server.run()
    return 0 if server.started else 1


def _run_fast(main: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop where it is installed (as ``serve`` does through uvicorn)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def cmd_worker(args: argparse.Namespace) -> int:
    from hookline.delivery.service import run_worker_process

    settings = _settings()
    logs.configure(settings.log_level)
    asyncio.run(_migrate(settings))
    return _run_fast(run_worker_process(settings))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hookline", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hookline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API, the UI and (unless --no-worker) delivery")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=6060)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="serve API and UI only; delivery runs in `hookline worker` processes",
    )
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run a standalone delivery worker")
    worker.set_defaults(func=cmd_worker)
    mig = sub.add_parser("migrate", help="apply database migrations and exit")
    mig.set_defaults(func=cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except DatabaseUnreachable as error:
        print(f"hookline: the database cannot be reached: {error}", file=sys.stderr)
        return 1
    return result
