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
        "fanout_hookline_sqlite_speedup",
        "latency_celery_p99_ms",
        "latency_hookline_postgresql_serve_p99_ms",
        "scaleout_2_workers_eps",
        *(
            f"api_{db}_{load}"
            for db in ("sqlite", "postgresql_serve")
            for load in (
                "healthz_rps",
                "get_profile_anonymous_rps",
                "get_profile_token_rps",
                "anonymous_per_healthz",
                "token_per_anonymous",
            )
        ),
        *(
            f"mixed_{db}_{k}"
            for db in ("sqlite", "postgresql")
            for k in ("rps", "p95_ms", "p99_ms")
        ),
        *(f"delivery_{db}_{k}" for db in ("sqlite", "postgresql") for k in ("eps", "per_ceiling")),
    ):
        value = figures[key]["median"]
        assert math.isfinite(value) and value > 0, key
    assert figures["memory_peak_rss_mb"] > 0
    # Request rates come from wrk, which shows it was not the limit.
    assert result["load_generator"].startswith("wrk")
    assert 0 <= result["cpu"]["api_sqlite_healthz_rps"]["wrk"] < 1
    for db in ("sqlite", "postgresql"):
        assert figures[f"mixed_{db}_http_errors"]["median"] == 0
        assert figures[f"mixed_{db}_socket_errors"]["median"] == 0

    assert all(set(bar) == {"name", "value", "target", "met"} for bar in result["bars"])
    assert all(isinstance(bar["met"], bool) for bar in result["bars"])
    names = {bar["name"] for bar in result["bars"]}
    for title in (
        "anonymous get-profile ÷ /healthz, same client",
        "token get-profile ÷ anonymous get-profile",
        "end to end (create-project → delivered) ÷ relay",
        "delivery alone (recorded backlog, one worker) ÷ ceiling",
        "fan-out: Celery's time ÷ Hookline's (speed-up)",
        "latency p99 ÷ Celery's p99",
    ):
        for db in ("sqlite", "postgresql"):
            assert any(n.startswith(f"{title}, {db}") for n in names), (title, db)
    assert "worker peak RSS while a backlog drains (MB)" in names
    # The withdrawn bars are figures now, not bars.
    assert not any("ceiling" in n and "end to end" in n for n in names)
    assert not any(n.startswith("end to end") and "Celery" in n for n in names)
    assert {b["name"] for b in result["withdrawn_bars"]} >= {
        "end to end, 1 event/request ÷ ceiling, sqlite",
        "end to end, 1 event/request ÷ Celery, sqlite",
    }

    report.write(result, docs, json.loads(report.BEFORE.read_text()))
    page = (docs / "PERFORMANCE.md").read_text()
    assert page.startswith("# Performance")
    assert "| bar | target | before | now | met |" in page
    assert "## Mixed load: 200 clients" in page
    assert "wrk" in page
    assert (docs / "performance.png").stat().st_size > 1000
