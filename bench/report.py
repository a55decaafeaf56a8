"""docs/PERFORMANCE.md and its chart, from one results file, beside the figures
from before issue 18 (``BEFORE``). Regenerate from any results file with
``python -m bench.report bench/results/<date>.json``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench import bars

ROOT = Path(__file__).resolve().parent.parent
# The figures before issue 18's work on the command path: the "before" of
# every before/after column.
BEFORE = ROOT / "bench" / "results" / "2026-11-30.json"
# Hand-written: what limits the figures, kept beside the code that measures them.
ANALYSIS = Path(__file__).resolve().parent / "ANALYSIS.md"

# The mixed load before this part existed: tests/reliability/test_load.py, with
# httpx as the client and the server logging at DEBUG (docs/RELIABILITY.md).
MIXED_BEFORE = "54 req/s, p50 3,400 ms, p95 10,400 ms, p99 13,800 ms (httpx, server at DEBUG)"

# Bars whose "before" was measured differently from "now", and how.
BEFORE_NOTES = {
    "anonymous get-profile ÷ /healthz, same client": (
        "not in the results file: issue 18's probe with wrk on SQLite gave about 0.12"
    ),
    "token get-profile ÷ anonymous get-profile": (
        "SQLite only, with the benchmark's aiohttp client (32 tasks) instead of wrk"
    ),
    "delivery alone (recorded backlog, one worker) ÷ ceiling": (
        "PostgreSQL only, from the `scaleout` part: a backlog raised through the API,"
        " 8 in flight per webhook (the default) instead of 64"
    ),
}

LABELS = {
    "ceiling_eps": "Ceiling: bare aiohttp sender (events/s)",
    "relay_eps": "Relay: answer each command, post its event on (events/s)",
    "sqlite_record_floor_us": "Raw sqlite3: one event's rows written and committed (µs)",
    "celery_eps": "Celery peer (events/s)",
    "fanout_celery_s": "Fan-out, Celery peer (s until all arrived)",
    "memory_peak_rss_mb": "Worker peak RSS while the backlog drains (MB)",
    "memory_drain_s": "Backlog drain time (s)",
}


def _label(key: str) -> str:
    if key in LABELS:
        return LABELS[key]
    return key.replace("_", " ")


def _median(value: Any) -> float | None:
    if isinstance(value, dict):
        return float(value["median"])
    if isinstance(value, int | float):
        return float(value)
    return None


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{value:,.0f}"  # counts
    # Ratios and milliseconds below 10 need more than one decimal.
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"


def _spread(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return f"{_num(value['min'])} - {_num(value['max'])}"


def restated(result: dict[str, Any]) -> dict[str, Any]:
    """The figures, and for a results file from before issue 18 (taken without
    wrk) the figures today's bars read, where it measured the same thing
    another way (``BEFORE_NOTES``)."""
    figures: dict[str, Any] = result["figures"]
    if "load_generator" in result:
        return figures
    out = dict(figures)
    token = _median(figures.get("api_get_profile_token_rps"))
    anonymous = _median(figures.get("api_get_profile_anonymous_rps"))
    if token and anonymous and "api_sqlite_token_per_anonymous" not in figures:
        out["api_sqlite_token_per_anonymous"] = token / anonymous
    drained = _median(figures.get("scaleout_1_workers_eps"))
    ceiling = _median(figures.get("ceiling_eps"))
    if drained and ceiling and "delivery_postgresql_per_ceiling" not in figures:
        out["delivery_postgresql_per_ceiling"] = drained / ceiling
    return out


def _cpu(result: dict[str, Any], key: str) -> str:
    """Each process's CPU while ``key`` was measured, busiest first."""
    shares = result.get("cpu", {}).get(key)
    if not shares:
        return ""
    busy = sorted(((v, k) for k, v in shares.items() if v >= 0.05), reverse=True)
    return ", ".join(f"{name} {value:.2f}" for value, name in busy)


def chart(result: dict[str, Any], before: dict[str, Any] | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    now = result["figures"]
    old = before["figures"] if before else {}
    keys = [k for k in now if k.endswith(("_eps", "_rps")) and isinstance(now[k], dict)]
    keys += [k for k in old if k.endswith(("_eps", "_rps")) and k not in now]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(keys) + 1.5))
    height = 0.4 if before else 0.8
    rows = range(len(keys))
    if before:
        ax.barh(
            [r - height / 2 for r in rows],
            [_median(old.get(k)) or 0 for k in keys],
            height,
            color="#b0b0b0",
            label=f"before ({before['date'][:10]})",
        )
    ax.barh(
        [r + (height / 2 if before else 0) for r in rows],
        [_median(now.get(k)) or 0 for k in keys],
        height,
        color="#3b6ea8",
        label=f"now ({result['date'][:10]})",
    )
    ax.set_yticks(list(rows), [_label(k) for k in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("events or requests per second (median)")
    ax.set_title("Hookline throughput and request rates on this machine")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _intro(result: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    date = result["date"][:10]
    sizes = result["sizes"]
    text = (
        f"Measured {date} by `make bench` on {result['machine']['cpus']} CPUs"
        f" (Python {result['machine']['python']}), in {result['seconds']:.0f} s. Everything ran"
        " on 127.0.0.1: the receiver, Hookline on SQLite (`hookline serve`), on PostgreSQL in"
        " two set-ups (`hookline serve --no-worker` plus `hookline worker` processes, named"
        " `postgresql`; and `hookline serve` with its own worker, as it runs by default, named"
        " `postgresql_serve`), a bare aiohttp sender (the ceiling), a relay that answers each"
        " command and posts its event on (`bench/relay.py`), and a Celery worker with Redis"
        " (the peer, default prefork pool and concurrency, as Celery's documentation"
        f" advises). Each figure is the median of {sizes['runs']} runs; the spread is"
        " min - max. A bar whose two figures come from different stacks is the median of"
        " ratios taken run by run, each Hookline run right after its baseline's (end to"
        " end after a relay run, latency after a Celery run, delivery alone after a"
        " ceiling run, beside a dead webhook after a solo run): the baselines' speed moved"
        " by up to half between runs minutes apart, more than Hookline's did."
        + _paired(sizes)
        + f" Raw figures: `bench/results/{result.get('file', date + '.json')}`."
    )
    lines = ["# Performance", "", text + _parts(result)]
    generator = result.get("load_generator")
    if generator:
        lines += [
            "",
            f"**Load generator.** Request rates (`api`, `mixed`) are taken with {generator}"
            " (Debian's `wrk` package), one thread, 32 connections for `api` and"
            f" {sizes.get('mixed_clients', 200)} for `mixed`, the same settings for every"
            " route compared. wrk is C: it uses a small share of one CPU at these rates (its"
            " share is shown beside each figure), so the server, not the client, sets them."
            " Commands raised for the end-to-end figures come from the benchmark's own"
            " aiohttp client, 32 at a time, and so do the relay's: the relay's figure is"
            " what that client and the receiver reach when the server does nothing but"
            " answer and forward. httpx is used for no load.",
        ]
    if "load_generator" not in result:
        lines += [
            "",
            "These are the figures from before issue 18, read with today's bars (they were"
            " taken before wrk was the load generator; the notes beneath the bars say what"
            " was measured another way). `make bench` writes its own figures beside them.",
        ]
    if before:
        lines += [
            "",
            f'**Before and now.** "Before" is `bench/results/{BEFORE.name}`,'
            " the figures before issue 18's work on the command path, read with today's"
            " bars; a bar it has no figures for shows —, and a bar it measured another way"
            " says how beneath the table.",
        ]
    lines += [
        "",
        "Sizes: "
        + ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in sizes.items())
        + ".",
    ]
    return lines


def _paired(sizes: dict[str, Any]) -> str:
    """Says how many pairs the side-by-side ratios take, where the run says."""
    pairs = sizes.get("paired_runs")
    if not pairs or pairs == sizes.get("runs"):
        return ""
    return (
        " Figures taken side by side for a ratio (one event per request and the relay,"
        " beside a dead webhook and solo, request rates and `/healthz`, latency and"
        f" Celery's) are the median of {pairs} runs, and"
        " their ratios the median of those pairs (the pairs beside a dead webhook alternate"
        " which half runs first): one pair's ratio strays by a tenth, a p99's by more."
        " Fan-out's speed-ups are the median of its rounds, Celery and each database in"
        " turn."
    )


def _parts(result: dict[str, Any]) -> str:
    """Says so when the results file joins figures from more than one run."""
    parts = result.get("parts")
    if not parts:
        return ""
    listed = "; ".join(
        f"{name} ({part['date'][:16]}, {part['seconds']:.0f} s): "
        + (part["figures"] if isinstance(part["figures"], str) else ", ".join(part["figures"]))
        for name, part in parts.items()
    )
    return f" The figures come from {len(parts)} runs, each at the sizes below: {listed}."


def _bar_table(
    result: dict[str, Any],
    before: dict[str, Any] | None,
    rows: list[dict[str, Any]],
    old: dict[str, float],
) -> list[str]:
    head = ["bar", "target", *(["before", "now"] if before else ["value"]), "met"]
    if "cpu" in result:
        head.append("CPU share while measured (now)" if before else "CPU share while measured")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for bar in rows:
        found = bars.find(bar["name"])
        op, cpu = ("", "")
        if found is not None:
            spec, setup = found
            op = spec.op
            if spec.cpu:
                cpu = _cpu(result, spec.cpu.format(db=setup))
        cells = [bar["name"], f"{op} {bar['target']:g}"]
        if before:
            cells.append(_num(old.get(bar["name"])))
        cells += [_num(bar["value"]), "yes" if bar["met"] else "**no**"]
        if "cpu" in result:
            cells.append(cpu)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _mixed(result: dict[str, Any]) -> list[str]:
    figures = result["figures"]
    setups = [db for db in bars.SETUPS if f"mixed_{db}_rps" in figures]
    if not setups:
        return []
    clients = result["sizes"].get("mixed_clients", 200)
    seconds = result["sizes"].get("mixed_seconds")
    lines = [
        "",
        f"## Mixed load: {clients} clients",
        "",
        f"{clients} wrk connections for {seconds} s per run, each request drawn at random:"
        " 35% `create-project` (an event to the team's webhook), 30% `get-profile`, 20%"
        " `get-projects`, 15% `get-webhook-deliveries`, with the tokens of 10 accounts."
        f" Latency is wrk's, over all requests. Before: {MIXED_BEFORE}.",
        "",
        "| set-up | requests/s | p50 ms | p95 ms | p99 ms | HTTP errors | socket errors"
        " | CPU share while measured |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for db in setups:
        cells = [
            _num(_median(figures.get(f"mixed_{db}_{k}")))
            for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "http_errors", "socket_errors")
        ]
        lines.append(f"| {bars.SETUPS[db]} | {' | '.join(cells)} | {_cpu(result, f'mixed_{db}')} |")
    return lines


def write(result: dict[str, Any], docs: Path, before: dict[str, Any] | None = None) -> None:
    """docs/PERFORMANCE.md and docs/performance.png for ``result``, beside
    ``before`` (none: a single column)."""
    docs.mkdir(parents=True, exist_ok=True)
    chart(result, before, docs / "performance.png")
    old_figures = restated(before) if before else {}
    old_bars = {b["name"]: b["value"] for b in bars.compute(old_figures)}
    old_bars.update({b["name"]: b["value"] for b in bars.compute(old_figures, bars.WITHDRAWN)})
    lines = _intro(result, before)
    lines += ["", "## Bars", ""]
    lines += _bar_table(result, before, bars.compute(restated(result)), old_bars)
    old_style = before if before else (None if "load_generator" in result else result)
    if old_style is not None:
        when = old_style["date"][:10]
        notes = [f"- {title}: {when}, {note}." for title, note in BEFORE_NOTES.items()]
        lines += ["", *notes]
    lines += [
        "",
        "### Withdrawn bars, still reported",
        "",
        "Issue 18 withdrew these: on two CPUs, no stack that answers a command and then"
        " delivers it reaches them (the relay, which does nothing else, reaches about half"
        " the ceiling).",
        "",
    ]
    lines += _bar_table(result, before, bars.compute(result["figures"], bars.WITHDRAWN), old_bars)
    lines += _mixed(result)
    now = result["figures"]
    old = before["figures"] if before else {}
    if before:
        lines += [
            "",
            "## Figures",
            "",
            "| measurement | before | now | spread (now) |",
            "|---|---|---|---|",
        ]
        keys = [*now, *(k for k in old if k not in now)]
        for key in keys:
            lines.append(
                f"| {_label(key)} | {_num(_median(old.get(key)))} | {_num(_median(now.get(key)))}"
                f" | {_spread(now.get(key))} |"
            )
    else:
        lines += ["", "## Figures", "", "| measurement | median | spread |", "|---|---|---|"]
        for key, value in now.items():
            lines.append(f"| {_label(key)} | {_num(_median(value))} | {_spread(value)} |")
    lines += ["", "![throughput](performance.png)", ""]
    if ANALYSIS.exists():
        lines += ["", ANALYSIS.read_text().strip(), ""]
    (docs / "PERFORMANCE.md").write_text("\n".join(lines))


def load_before(result: dict[str, Any]) -> dict[str, Any] | None:
    """The "before" file, unless ``result`` is that file itself."""
    if not BEFORE.exists():
        return None
    before: dict[str, Any] = json.loads(BEFORE.read_text())
    return None if before["date"] == result["date"] else before


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    result = json.loads(args.results.read_text())
    write(result, args.docs, load_before(result))


if __name__ == "__main__":
    main()
