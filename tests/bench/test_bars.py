"""The bars read from a results file: the figures before issue 18, restated,
give the values the issue quotes, and the withdrawn bars are figures only."""

from __future__ import annotations

import json
from pathlib import Path

from bench import bars, report


def _before() -> dict[str, float]:
    result = json.loads(report.BEFORE.read_text())
    return {b["name"]: b["value"] for b in bars.compute(report.restated(result))}


def test_the_figures_before_issue_18_give_the_values_it_quotes() -> None:
    values = _before()
    sqlite, pg = "sqlite", bars.SETUPS["postgresql"]
    assert values[f"token get-profile ÷ anonymous get-profile, {sqlite}"] == 0.927
    assert values[f"end to end (create-project → delivered) ÷ relay, {sqlite}"] == 0.1
    assert values[f"delivery alone (recorded backlog, one worker) ÷ ceiling, {pg}"] == 0.165
    assert values[f"fan-out: Celery's time ÷ Hookline's (speed-up), {sqlite}"] == 4.313
    assert values[f"fan-out: Celery's time ÷ Hookline's (speed-up), {pg}"] == 5.147
    assert values[f"latency p99 ÷ Celery's p99, {sqlite}"] == 0.761
    assert values[f"latency p99 ÷ Celery's p99, {pg}"] == 0.898
    assert values["worker peak RSS while a backlog drains (MB)"] == 151.246


def test_withdrawn_bars_are_reported_apart() -> None:
    result = json.loads(report.BEFORE.read_text())
    names = set(_before())
    assert not any("÷ ceiling" in n and n.startswith("end to end") for n in names)
    assert not any("÷ Celery" in n and n.startswith("end to end") for n in names)
    withdrawn = {b["name"]: b for b in bars.compute(result["figures"], bars.WITHDRAWN)}
    assert withdrawn["end to end, 1 event/request ÷ ceiling, sqlite"]["value"] == 0.05
    assert withdrawn["end to end, 1 event/request ÷ Celery, sqlite"]["met"] is False


def test_each_bar_is_met_the_way_its_target_reads() -> None:
    figures = {
        "latency_hookline_sqlite_p99_ms": {"median": 1.0},
        "latency_celery_p99_ms": {"median": 2.0},
        "memory_peak_rss_mb": 150.0,
    }
    computed = {b["name"]: b for b in bars.compute(figures)}
    assert computed["latency p99 ÷ Celery's p99, sqlite"]["met"] is True  # 0.5 ≤ 0.5
    assert computed["worker peak RSS while a backlog drains (MB)"]["met"] is False  # not < 150
    assert all(set(b) == {"name", "value", "target", "met"} for b in computed.values())


def test_paired_figures_give_the_median_of_their_pairs_ratios() -> None:
    """A relay run taken just before each Hookline run: the bar is the
    median of the pairs' ratios, not the ratio of the two medians (which
    would count the baseline's drift between runs)."""
    relay = [4000.0, 2000.0, 3000.0]
    hookline = [1000.0, 900.0, 600.0]
    ratios = [h / r for r, h in zip(relay, hookline, strict=True)]  # .25 .45 .2
    figures = {
        "relay_eps": {"median": 3000.0},
        "hookline_sqlite_batch1_eps": {"median": 900.0},
        "hookline_sqlite_per_relay": {"median": sorted(ratios)[1]},
    }
    computed = {b["name"]: b for b in bars.compute(figures)}
    bar = computed["end to end (create-project → delivered) ÷ relay, sqlite"]
    assert bar["value"] == 0.25 and bar["met"] is False
    del figures["hookline_sqlite_per_relay"]  # a results file from before the pairs
    computed = {b["name"]: b for b in bars.compute(figures)}
    bar = computed["end to end (create-project → delivered) ÷ relay, sqlite"]
    assert bar["value"] == 0.3 and bar["met"] is True


def test_fan_out_takes_the_median_of_its_rounds_speed_ups() -> None:
    celery = [90.0, 60.0, 80.0]
    hookline = [10.0, 9.0, 8.0]
    speedups = sorted(c / h for c, h in zip(celery, hookline, strict=True))  # 6.7 9 10
    figures = {
        "fanout_celery_s": {"median": 80.0},
        "fanout_hookline_sqlite_s": {"median": 9.0},
        "fanout_hookline_sqlite_speedup": {"median": speedups[1]},
    }
    name = "fan-out: Celery's time ÷ Hookline's (speed-up), sqlite"
    bar = {b["name"]: b for b in bars.compute(figures)}[name]
    assert bar["value"] == 9.0 and bar["met"] is True
    del figures["fanout_hookline_sqlite_speedup"]  # a results file from before the rounds
    bar = {b["name"]: b for b in bars.compute(figures)}[name]
    assert bar["value"] == 8.889 and bar["met"] is True


def test_the_page_shows_before_and_now_side_by_side(tmp_path: Path) -> None:
    before = json.loads(report.BEFORE.read_text())
    now = {
        **before,
        "date": "2026-12-01T00:00:00+00:00",
        "load_generator": "wrk 4.1.0",
        "cpu": {"hookline_sqlite_batch1_eps": {"hookline serve": 0.99, "receiver": 0.2}},
    }
    report.write(now, tmp_path, before)
    page = (tmp_path / "PERFORMANCE.md").read_text()
    assert "| bar | target | before | now | met | CPU share while measured (now) |" in page
    assert "hookline serve 0.99, receiver 0.20" in page
    assert "wrk 4.1.0" in page
