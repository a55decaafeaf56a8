"""The benchmarks still run: a smoke-sized pass of every scenario produces
numbers and a report. How fast is for ``make bench``, never for tests."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_runs_and_reports(tmp_path: Path) -> None:
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        pytest.skip("needs PostgreSQL, Redis and a minute or two; runs in CI (CI=true)")
    out, docs = tmp_path / "results", tmp_path / "docs"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out), "--docs", str(docs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("*-smoke.json")
    result = json.loads(path.read_text())
    figures = result["figures"]
    for key in (
        "ceiling_eps",
        "relay_eps",
        "sqlite_record_floor_us",
        "celery_eps",
        "hookline_sqlite_batch1_eps",
        "hookline_postgresql_batch10_eps",
        "hookline_postgresql_serve_batch1_eps",
        "hookline_sqlite_beside_dead_eps",
        "hookline_sqlite_solo_paired_eps",
        "hookline_sqlite_beside_dead_ratio",
        "fanout_hookline_postgresql_s",
        "latency_celery_p99_ms",
        "latency_hookline_postgresql_serve_p99_ms",
        "api_get_profile_token_rps",
        "scaleout_2_workers_eps",
    ):
        value = figures[key]["median"]
        assert math.isfinite(value) and value > 0, key
    assert figures["memory_peak_rss_mb"] > 0
    names = {bar["name"] for bar in result["bars"]}
    assert any("vs ceiling" in name for name in names)
    assert all(isinstance(bar["met"], bool) for bar in result["bars"])
    report.write(result, docs)
    assert (docs / "PERFORMANCE.md").read_text().startswith("# Performance")
    assert (docs / "performance.png").stat().st_size > 1000
