"""Run the benchmarks: ``python -m bench`` (full) or ``python -m bench --smoke``.

Everything is started here on 127.0.0.1: a receiver, Hookline on SQLite and on
PostgreSQL, a bare aiohttp sender (the ceiling) and a Celery worker (the peer).
Every figure is the median of several runs with its spread; each comparison
is a ratio of figures measured in this same run."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report, scenarios

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    runs: int
    events: int
    batch_sizes: tuple[int, ...]
    fanout_webhooks: int
    fanout_events: int
    latency_rate: float
    latency_seconds: float
    api_seconds: float
    backlog: int
    scaleout_events: int
    concurrency: int = 64


FULL = Sizes(
    runs=3,
    events=20_000,
    batch_sizes=(1, 10, 100),
    fanout_webhooks=500,
    fanout_events=100,
    latency_rate=200,
    latency_seconds=15,
    api_seconds=8,
    backlog=1_000_000,
    scaleout_events=20_000,
)
SMOKE = Sizes(
    runs=1,
    events=60,
    batch_sizes=(1, 10),
    fanout_webhooks=4,
    fanout_events=5,
    latency_rate=20,
    latency_seconds=1,
    api_seconds=0.5,
    backlog=500,
    scaleout_events=60,
)


def summarize(values: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
    }


async def run(sizes: Sizes, work: Path, only: set[str] | None) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    ctx = scenarios.Context(work=work, concurrency=sizes.concurrency)
    try:
        await ctx.start_common()

        def wanted(name: str) -> bool:
            return only is None or name in only

        if wanted("throughput"):
            figures["ceiling_eps"] = summarize(
                [await ctx.ceiling(sizes.events) for _ in range(sizes.runs)]
            )
            figures["relay_eps"] = summarize(
                [await ctx.relay(sizes.events) for _ in range(sizes.runs)]
            )
            figures["sqlite_record_floor_us"] = summarize(
                [ctx.record_floor(sizes.events) for _ in range(sizes.runs)]
            )
            figures["celery_eps"] = summarize(
                [await ctx.celery_throughput(sizes.events) for _ in range(sizes.runs)]
            )
            for db in ("sqlite", "postgresql", "postgresql_serve"):
                # PostgreSQL with serve's own worker: one event per request only.
                batches = sizes.batch_sizes if db != "postgresql_serve" else (1,)
                for batch in batches:
                    values = [
                        await ctx.hookline_throughput(db, sizes.events, batch)
                        for _ in range(sizes.runs)
                    ]
                    figures[f"hookline_{db}_batch{batch}_eps"] = summarize(values)
        if wanted("isolation"):
            for db in ("sqlite", "postgresql"):
                # Each run pairs a solo run with one beside the dead endpoint,
                # one right after the other: the machine's speed drifts over
                # a long benchmark, and a ratio of figures taken minutes
                # apart would measure that drift too.
                solo, beside = [], []
                for _ in range(sizes.runs):
                    solo.append(await ctx.hookline_throughput(db, sizes.events, 1))
                    beside.append(await ctx.hookline_beside_a_dead_endpoint(db, sizes.events))
                figures[f"hookline_{db}_solo_paired_eps"] = summarize(solo)
                figures[f"hookline_{db}_beside_dead_eps"] = summarize(beside)
                figures[f"hookline_{db}_beside_dead_ratio"] = summarize(
                    [b / a for a, b in zip(solo, beside, strict=True)]
                )
        if wanted("fanout"):
            figures["fanout_celery_s"] = summarize(
                [
                    await ctx.celery_fanout(sizes.fanout_webhooks, sizes.fanout_events)
                    for _ in range(sizes.runs)
                ]
            )
            for db in ("sqlite", "postgresql"):
                figures[f"fanout_hookline_{db}_s"] = summarize(
                    [
                        await ctx.hookline_fanout(db, sizes.fanout_webhooks, sizes.fanout_events)
                        for _ in range(sizes.runs)
                    ]
                )
        if wanted("latency"):
            for who in (
                "hookline_sqlite",
                "hookline_postgresql",
                "hookline_postgresql_serve",
                "celery",
            ):
                runs = [
                    await ctx.latency(who, sizes.latency_rate, sizes.latency_seconds)
                    for _ in range(sizes.runs)
                ]
                for pct in ("p50", "p95", "p99"):
                    figures[f"latency_{who}_{pct}_ms"] = summarize([r[pct] for r in runs])
        if wanted("api"):
            runs_api = [await ctx.api_rates(sizes.api_seconds) for _ in range(sizes.runs)]
            for key in runs_api[0]:
                figures[f"api_{key}_rps"] = summarize([r[key] for r in runs_api])
        if wanted("scaleout"):
            for workers in (1, 2):
                figures[f"scaleout_{workers}_workers_eps"] = summarize(
                    [await ctx.scaleout(workers, sizes.scaleout_events) for _ in range(sizes.runs)]
                )
        if wanted("memory"):
            figures["memory_backlog"] = sizes.backlog
            peak, seconds = await ctx.backlog_memory(sizes.backlog)
            figures["memory_peak_rss_mb"] = peak
            figures["memory_drain_s"] = seconds
    finally:
        await ctx.close()
    return figures


# How each Hookline set-up is named in bars.
DATABASES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql (serve --no-worker + hookline worker)",
    "postgresql_serve": "postgresql (serve with its own worker)",
}


def bars(figures: dict[str, Any]) -> list[dict[str, Any]]:
    def med(key: str) -> float | None:
        value = figures.get(key)
        return float(value["median"]) if isinstance(value, dict) else None

    out: list[dict[str, Any]] = []

    def bar(name: str, value: float | None, target: float, higher: bool = True) -> None:
        if value is None:
            return
        met = value >= target if higher else value < target
        out.append({"name": name, "value": round(value, 3), "target": target, "met": met})

    ceiling, celery = med("ceiling_eps"), med("celery_eps")
    for key, db in DATABASES.items():
        one = med(f"hookline_{key}_batch1_eps")
        if one is not None and ceiling:
            bar(f"throughput {db}, 1 event/request vs ceiling", one / ceiling, report.CEILING_SHARE)
        if one is not None and celery:
            bar(f"throughput {db}, 1 event/request vs Celery", one / celery, 3.0)
        beside = med(f"hookline_{key}_beside_dead_ratio")
        if beside is not None:
            bar(f"{db}: healthy webhook beside a dead one vs solo", beside, 0.90)
        fan, fan_celery = med(f"fanout_hookline_{key}_s"), med("fanout_celery_s")
        if fan and fan_celery:
            bar(f"fan-out {db} vs Celery (speed-up)", fan_celery / fan, 3.0)
        p99, p99_celery = (
            med(f"latency_hookline_{key}_p99_ms"),
            med("latency_celery_p99_ms"),
        )
        if p99 is not None and p99_celery:
            bar(f"latency p99 {db} / Celery p99", p99 / p99_celery, 1.0, higher=False)
    token, anonymous = med("api_get_profile_token_rps"), med("api_get_profile_anonymous_rps")
    if token and anonymous:
        bar("get-profile with token vs anonymous", token / anonymous, 0.85)
    if "memory_peak_rss_mb" in figures:
        bar(
            "worker peak RSS while a backlog drains (MB)",
            figures["memory_peak_rss_mb"],
            300,
            higher=False,
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it all runs")
    parser.add_argument(
        "--only", help="comma-separated: throughput,isolation,fanout,latency,api,scaleout,memory"
    )
    for option in ("runs", "events", "fanout_webhooks", "fanout_events", "backlog"):
        parser.add_argument(
            "--" + option.replace("_", "-"),
            type=int,
            help=f"override the {option.replace('_', ' ')} of the chosen size",
        )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    overrides = {
        option: getattr(args, option)
        for option in ("runs", "events", "fanout_webhooks", "fanout_events", "backlog")
        if getattr(args, option) is not None
    }
    sizes = replace(sizes, events=overrides.pop("events", sizes.events), **overrides)
    sizes = replace(sizes, scaleout_events=sizes.events)
    stamp = datetime.now(UTC)
    work = ROOT / "bench" / "results" / "tmp" / stamp.strftime("%Y%m%dT%H%M%S")
    work.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    started = time.monotonic()
    figures = asyncio.run(run(sizes, work, only))
    result = {
        "date": stamp.isoformat(),
        "smoke": args.smoke,
        "sizes": asdict(sizes),
        "machine": {"cpus": scenarios.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - started, 1),
        "bars": bars(figures),
        "figures": figures,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = stamp.strftime("%Y-%m-%d") + ("-smoke" if args.smoke else "")
    path = args.out / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    if not args.smoke:
        report.write(result, args.docs)
    print(json.dumps({"results": str(path), "bars": result["bars"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
