"""Fuzz every command documented in /api/openapi.json with schemathesis, with
and without credentials: no 5xx, and every answer matches its documented schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.reliability.harness import Client, Server, hookline_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Domain rules (a taken e-mail, wrong credentials) answer 400 by Penpot's error
# table although the params are schema-valid, so that check does not apply.
EXCLUDED_CHECKS = "positive_data_acceptance"
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(tmp_path, hookline_env(tmp_path, HOOKLINE_LOG_LEVEL="WARNING"))
    await server.start()
    yield server
    server.stop()


def schemathesis(base: str, *headers: str) -> subprocess.CompletedProcess[str]:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is a dev dependency"
    argv = [
        st, "--config-file", str(CONFIG), "run", f"{base}/api/openapi.json",
        "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
        "--phases", "examples,fuzzing", "--max-examples", "20", "--max-time", "60",
        "--seed", "1", "--exclude-path-regex", "logout",
    ]  # fmt: skip
    for header in headers:
        argv += ["-H", header]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def failures(output: str) -> str:
    """The failing cases (they come before the summary's warnings), then the
    summary: enough to reproduce one without the full report."""
    start = output.find("FAILURES")
    head = output[start : start + 8000] if start >= 0 else ""
    return head + "\n...\n" + output[-3000:]


async def test_fuzz_without_credentials(server: Server) -> None:
    done = schemathesis(server.base)
    assert done.returncode == 0, failures(done.stdout)


async def test_fuzz_with_a_token(server: Server) -> None:
    client = Client(server.base)
    try:
        await client.sign_up("fuzz@example.com")
    finally:
        await client.aclose()
    done = schemathesis(server.base, f"Authorization: Token {client.token}")
    assert done.returncode == 0, failures(done.stdout)
