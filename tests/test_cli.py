"""The ``hookline`` command as a user runs it: real processes, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
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


def test_worker_starts_connects_and_stops_on_sigterm(tmp_path: Path, database_url: str) -> None:
    proc = subprocess.Popen(
        [*HOOKLINE, "worker"],
        cwd=tmp_path,
        env=env_for(tmp_path, HOOKLINE_DATABASE_URL=database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
            lines.append(line)
            if "worker started" in line or not line:
                break
        assert any("worker started" in line for line in lines), lines
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


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
