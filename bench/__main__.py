"""Run the benchmarks: ``python -m bench`` (full) or ``python -m bench --smoke``.

Everything is started here on 127.0.0.1: a receiver, Hookline on SQLite and on
PostgreSQL, a bare aiohttp sender (the ceiling), a relay that only answers and
forwards (``bench.relay``), a Celery worker (the peer) and wrk (request rates).
Every figure is the median of several runs with its spread; each bar is a
ratio of figures measured in this same run (``bench.bars``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bars, report, scenarios, wrk

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
    delivery_backlog: int
    mixed_seconds: float
    mixed_clients: int = 200
    concurrency: int = 64
    # Ratios of figures taken side by side (end to end ÷ relay, beside a dead
    # webhook ÷ solo, a command ÷ /healthz, a p99 ÷ Celery's): one pair's
    # ratio strays by 10% (the relay's speed by half, a p99 by far more) on
    # this machine, so the median takes more pairs.
    paired_runs: int = 5


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
    delivery_backlog=20_000,
    mixed_seconds=30,
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
    delivery_backlog=200,
    mixed_seconds=1,
    paired_runs=1,
)


PARTS = (
    "throughput",
    "isolation",
    "fanout",
    "latency",
    "api",
    "mixed",
    "delivery",
    "scaleout",
    "memory",
)


def summarize(values: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
    }


async def run(
    sizes: Sizes,
    work: Path,
    only: set[str] | None,
    figures: dict[str, Any],
    cpu: dict[str, dict[str, float]],
) -> None:
    """Fill ``figures``, and ``cpu`` with the CPU share of each process while
    each figure was taken; what was taken stays in them if a part fails."""
    ctx = scenarios.Context(work=work, concurrency=sizes.concurrency)
    ctx.cpu = cpu
    try:
        await ctx.start_common()

        def wanted(name: str) -> bool:
            return only is None or name in only

        if wanted("throughput"):
            figures["ceiling_eps"] = summarize(
                [await ctx.ceiling(sizes.events) for _ in range(sizes.runs)]
            )
            figures["sqlite_record_floor_us"] = summarize(
                [ctx.record_floor(sizes.events) for _ in range(sizes.runs)]
            )
            figures["celery_eps"] = summarize(
                [await ctx.celery_throughput(sizes.events) for _ in range(sizes.runs)]
            )
            relays: list[float] = []
            for db in ("sqlite", "postgresql", "postgresql_serve"):
                # One event per request, each run paired with a relay run
                # taken just before it: the relay's figure drifted by half
                # between runs minutes apart, more than Hookline's did, and a
                # ratio of medians taken apart measured that drift too.
                paired, ones = [], []
                for _ in range(sizes.paired_runs):
                    paired.append(await ctx.relay(sizes.events))
                    ones.append(await ctx.hookline_throughput(db, sizes.events, 1))
                relays += paired
                figures[f"relay_paired_{db}_eps"] = summarize(paired)
                figures[f"hookline_{db}_batch1_eps"] = summarize(ones)
                figures[f"hookline_{db}_per_relay"] = summarize(
                    [h / r for r, h in zip(paired, ones, strict=True)]
                )
                # PostgreSQL with serve's own worker: one event per request only.
                batches = sizes.batch_sizes if db != "postgresql_serve" else ()
                for batch in (b for b in batches if b != 1):
                    values = [
                        await ctx.hookline_throughput(db, sizes.events, batch)
                        for _ in range(sizes.runs)
                    ]
                    figures[f"hookline_{db}_batch{batch}_eps"] = summarize(values)
            figures["relay_eps"] = summarize(relays)
        if wanted("isolation"):
            for db in ("sqlite", "postgresql"):
                # Each run pairs a solo run with one beside the dead endpoint,
                # one right after the other: the machine's speed drifts over
                # a long benchmark, and a ratio of figures taken minutes
                # apart would measure that drift too.
                # The pairs alternate which half runs first, so a drift
                # within a pair weighs on neither side.
                solo, beside = [], []
                for n in range(sizes.paired_runs):
                    if n % 2:
                        beside.append(await ctx.hookline_beside_a_dead_endpoint(db, sizes.events))
                    solo.append(await ctx.hookline_throughput(db, sizes.events, 1))
                    if not n % 2:
                        beside.append(await ctx.hookline_beside_a_dead_endpoint(db, sizes.events))
                figures[f"hookline_{db}_solo_paired_eps"] = summarize(solo)
                figures[f"hookline_{db}_beside_dead_eps"] = summarize(beside)
                figures[f"hookline_{db}_beside_dead_ratio"] = summarize(
                    [b / a for a, b in zip(solo, beside, strict=True)]
                )
        if wanted("fanout"):
            # Round by round, Celery and each database in turn, so that a
            # round's speed-ups compare figures taken within minutes (all of
            # Celery's runs first put a quarter of an hour between them).
            sizes_fanout = (sizes.fanout_webhooks, sizes.fanout_events)
            celery_runs: list[float] = []
            fanouts: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
            for _ in range(sizes.runs):
                celery_runs.append(await ctx.celery_fanout(*sizes_fanout))
                for db, runs_db in fanouts.items():
                    runs_db.append(await ctx.hookline_fanout(db, *sizes_fanout))
            figures["fanout_celery_s"] = summarize(celery_runs)
            for db, runs_db in fanouts.items():
                figures[f"fanout_hookline_{db}_s"] = summarize(runs_db)
                figures[f"fanout_hookline_{db}_speedup"] = summarize(
                    [c / h for c, h in zip(celery_runs, runs_db, strict=True)]
                )
        if wanted("latency"):
            # Run by run, Celery and each Hookline set-up in turn, so that
            # a run's ratios compare figures taken within a minute.
            sides = (
                "celery",
                "hookline_sqlite",
                "hookline_postgresql",
                "hookline_postgresql_serve",
            )
            taken: dict[str, list[dict[str, float]]] = {who: [] for who in sides}
            for _ in range(sizes.paired_runs):
                for who in sides:
                    taken[who].append(
                        await ctx.latency(who, sizes.latency_rate, sizes.latency_seconds)
                    )
            for who, runs in taken.items():
                for pct in ("p50", "p95", "p99"):
                    figures[f"latency_{who}_{pct}_ms"] = summarize([r[pct] for r in runs])
                if who != "celery":
                    figures[f"latency_{who}_per_celery_p99"] = summarize(
                        [r["p99"] / c["p99"] for c, r in zip(taken["celery"], runs, strict=True)]
                    )
        if wanted("api"):
            # Both as `hookline serve` runs by default, worker included: the
            # same set-up on either database, with nothing else starting up.
            for db in ("sqlite", "postgresql_serve"):
                runs_api = [
                    await ctx.api_rates(db, sizes.api_seconds) for _ in range(sizes.paired_runs)
                ]
                for key in runs_api[0]:
                    figures[f"api_{db}_{key}_rps"] = summarize([r[key] for r in runs_api])
                # Ratios run by run: the loads of one run follow each other
                # within seconds on one server.
                figures[f"api_{db}_anonymous_per_healthz"] = summarize(
                    [r["get_profile_anonymous"] / r["healthz"] for r in runs_api]
                )
                figures[f"api_{db}_token_per_anonymous"] = summarize(
                    [r["get_profile_token"] / r["get_profile_anonymous"] for r in runs_api]
                )
        if wanted("mixed"):
            for db in ("sqlite", "postgresql"):
                runs_mixed = [
                    await ctx.mixed(db, sizes.mixed_seconds, sizes.mixed_clients)
                    for _ in range(sizes.runs)
                ]
                for key in runs_mixed[0]:
                    figures[f"mixed_{db}_{key}"] = summarize([r[key] for r in runs_mixed])
        if wanted("delivery"):
            for db in ("sqlite", "postgresql"):
                # Each drain is paired with a ceiling run of as many events
                # taken just before it, like the isolation part's pairs.
                ceilings, drains = [], []
                for _ in range(sizes.runs):
                    ceilings.append(
                        await ctx.ceiling(sizes.delivery_backlog, f"delivery_{db}_ceiling_eps")
                    )
                    drains.append(await ctx.delivery_alone(db, sizes.delivery_backlog))
                figures[f"delivery_{db}_ceiling_eps"] = summarize(ceilings)
                figures[f"delivery_{db}_eps"] = summarize(drains)
                figures[f"delivery_{db}_per_ceiling"] = summarize(
                    [d / c for c, d in zip(ceilings, drains, strict=True)]
                )
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


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it all runs")
    parser.add_argument("--only", help="comma-separated: " + ",".join(PARTS))
    for option in ("runs", "events", "fanout_webhooks", "fanout_events", "backlog"):
        parser.add_argument(
            "--" + option.replace("_", "-"),
            type=int,
            help=f"override the {option.replace('_', ' ')} of the chosen size",
        )
    parser.add_argument(
        "--out",
        type=Path,
        help="where the results file goes: bench/results (a smoke run: its scratch directory)",
    )
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
    if only is not None and only - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(only - set(PARTS)))}")
    # Smoke figures say nothing about speed: they stay out of bench/results.
    out = args.out or (work if args.smoke else ROOT / "bench" / "results")
    started = time.monotonic()
    figures: dict[str, Any] = {}
    cpu: dict[str, dict[str, float]] = {}
    failure = None
    try:
        asyncio.run(run(sizes, work, only, figures, cpu))
    except Exception as error:
        # The figures taken before the failure are kept, in a file of their
        # own that says so; docs/PERFORMANCE.md is left as it was.
        traceback.print_exc()
        failure = f"{type(error).__name__}: {error}"
    result = {
        "date": stamp.isoformat(),
        "smoke": args.smoke,
        "sizes": asdict(sizes),
        "machine": {"cpus": scenarios.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - started, 1),
        "load_generator": wrk.version(),
        "bars": bars.compute(figures),
        "withdrawn_bars": bars.compute(figures, bars.WITHDRAWN),
        "figures": figures,
        "cpu": cpu,
    }
    out.mkdir(parents=True, exist_ok=True)
    if failure is not None:
        result["failed"] = failure
        path = out / f"{stamp.strftime('%Y-%m-%dT%H%M')}-incomplete.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"the benchmark stopped ({failure}); figures taken so far: {path}")
        return 1
    name = stamp.strftime("%Y-%m-%d") + ("-smoke" if args.smoke else "")
    path = out / f"{name}.json"
    if path.exists():
        # A second run on one day keeps the first one's figures (they may be
        # the "before" of docs/PERFORMANCE.md).
        path = out / f"{stamp.strftime('%Y-%m-%dT%H%M')}{'-smoke' if args.smoke else ''}.json"
    result["file"] = path.name
    path.write_text(json.dumps(result, indent=2) + "\n")
    if not args.smoke:
        report.write(result, args.docs, report.load_before(result))
    print(json.dumps({"results": str(path), "bars": result["bars"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
