"""The ``hookline`` command as a user runs it: real processes, real HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

HOOKLINE = [sys.executable, "-m", "hookline"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["HOOKLINE_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout}s")


def post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    proc = subprocess.Popen(
        [*HOOKLINE, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", proc)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_serve_on_sqlite_default_then_restart_keeps_sessions(
    tmp_path: Path, serve: tuple[subprocess.Popen[bytes], str]
) -> None:
    proc, base = serve
    profile = post(
        f"{base}/api/rpc/command/register-profile",
        {"email": "ada@example.com", "password": "correct horse", "fullname": "Ada"},
    )
    assert profile["email"] == "ada@example.com"
    assert (tmp_path / "data" / "hookline.db").exists(), "the database lives in the data dir"
    key = tmp_path / "data" / "secret_key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "correct horse" not in output
    assert key.read_text().strip() not in output


def read_until(proc: subprocess.Popen[bytes], text: str, timeout: float = 30) -> list[str]:
    """Lines of the process's output up to the first holding ``text``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if not line:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"{text!r} never appeared in: {lines}")


@contextlib.contextmanager
def worker_process(tmp_path: Path, database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """``hookline worker`` with its output on a pipe; killed if still running."""
    proc = subprocess.Popen(
        [*HOOKLINE, "worker"],
        cwd=tmp_path,
        env=env_for(tmp_path, HOOKLINE_DATABASE_URL=database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_worker_starts_connects_and_stops_on_sigterm(tmp_path: Path, database_url: str) -> None:
    with worker_process(tmp_path, database_url) as proc:
        read_until(proc, "worker started")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_migrate_then_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [*HOOKLINE, "migrate"],
        cwd=tmp_path,
        env=env_for(tmp_path),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    bad = subprocess.run(
        [*HOOKLINE, "serve"],
        cwd=tmp_path,
        env=env_for(tmp_path, HOOKLINE_DATABASE_URL="mysql://nowhere/db"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert b"HOOKLINE_DATABASE_URL" in bad.stderr
    assert b"Traceback" not in bad.stderr


@pytest.mark.parametrize("command", ["migrate", "worker"])
def test_an_unreachable_database_is_a_clear_error_after_the_wait(
    tmp_path: Path, command: str
) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/hookline"
    started = time.monotonic()
    done = subprocess.run(
        [*HOOKLINE, command],
        cwd=tmp_path,
        env=env_for(tmp_path, HOOKLINE_DATABASE_URL=nowhere, HOOKLINE_DATABASE_WAIT_S="1.5"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - started >= 1.5, "it waited for the database first"
    assert b"database unreachable; trying again" in done.stderr
    assert b"hookline: the database cannot be reached:" in done.stderr
    assert b"Traceback" not in done.stderr


class Forwarder(socketserver.ThreadingTCPServer):
    """A TCP relay on 127.0.0.1 to PostgreSQL: a database that appears late."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        super().__init__(("127.0.0.1", port), _Relay)


class _Relay(socketserver.BaseRequestHandler):
    server: Forwarder

    def handle(self) -> None:
        upstream = socket.create_connection(self.server.target)
        client: socket.socket = self.request

        def pump(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := src.recv(65536):
                    dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join()
        upstream.close()


@pytest.mark.postgres
def test_worker_started_before_the_database_waits_for_it(tmp_path: Path, postgres_url: str) -> None:
    real = urllib.parse.urlsplit(postgres_url)
    port = free_port()
    late = real._replace(netloc=f"{real.username}@127.0.0.1:{port}").geturl()
    relay: Forwarder | None = None
    try:
        with worker_process(tmp_path, late) as proc:
            read_until(proc, "database unreachable; trying again")
            relay = Forwarder(port, (real.hostname or "127.0.0.1", real.port or 5432))
            threading.Thread(target=relay.serve_forever, daemon=True).start()
            read_until(proc, "worker started")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
    finally:
        if relay is not None:
            relay.shutdown()
            relay.server_close()


def run_hookline(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*HOOKLINE, command],
        cwd=tmp_path,
        env=env_for(tmp_path, **env),
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_a_lost_secret_key_file_is_not_silently_replaced(
    tmp_path: Path, serve: tuple[subprocess.Popen[bytes], str]
) -> None:
    """A database holding sessions sealed with one key, and its key file gone:
    every command refuses to start (status 2, a clear message) instead of
    writing a new key, until the key is back or given on purpose."""
    proc, base = serve
    account = {"email": "ada@example.com", "password": "correct horse"}
    post(f"{base}/api/rpc/command/register-profile", {**account, "fullname": "Ada"})
    post(f"{base}/api/rpc/command/login-with-password", account)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    key_file = tmp_path / "data" / "secret_key"
    original = key_file.read_text()
    key_file.unlink()
    for command in ("migrate", "worker", "serve"):
        refused = run_hookline(tmp_path, command)
        assert refused.returncode == 2, refused.stderr
        assert b"hookline: configuration error:" in refused.stderr
        assert b"sealed with another secret key" in refused.stderr
        assert b"HOOKLINE_SECRET_KEY" in refused.stderr
        assert b"Traceback" not in refused.stderr
        assert not key_file.exists(), "no new key is left behind to be taken for the old"
    key_file.write_text(original)
    assert run_hookline(tmp_path, "migrate").returncode == 0
    # Given on purpose, a new key starts, and from then on it is the key.
    new_key = "a-new-key-chosen-on-purpose-0123456789"
    assert run_hookline(tmp_path, "migrate", HOOKLINE_SECRET_KEY=new_key).returncode == 0
    refused = run_hookline(tmp_path, "migrate")
    assert refused.returncode == 2, refused.stderr
    assert f"the secret key in {key_file} is not the one".encode() in refused.stderr
