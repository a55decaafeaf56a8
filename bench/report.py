"""docs/PERFORMANCE.md and its chart, from one results file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The share of the ceiling the throughput bars ask for.
CEILING_SHARE = 0.40

# Hand-written: what limits the figures, kept beside the code that measures them.
ANALYSIS = Path(__file__).resolve().parent / "ANALYSIS.md"

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


def _fmt(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        # Ratios and milliseconds below 10 need more than one decimal.
        digits = 3 if abs(value["median"]) < 10 else 1
        low, high = value["min"], value["max"]
        return f"{value['median']:.{digits}f}", f"{low:.{digits}f} - {high:.{digits}f}"
    if isinstance(value, float):
        return f"{value:.1f}", ""
    return str(value), ""


def chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = result["figures"]
    keys = [k for k in figures if k.endswith("_eps") and isinstance(figures[k], dict)]
    values = [figures[k]["median"] for k in keys]
    errors = [
        [figures[k]["median"] - figures[k]["min"] for k in keys],
        [figures[k]["max"] - figures[k]["median"] for k in keys],
    ]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(keys) + 1.5))
    ax.barh(range(len(keys)), values, xerr=errors, color="#3b6ea8")
    ax.set_yticks(range(len(keys)), [_label(k) for k in keys], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("events per second (median, whiskers: min-max)")
    ax.set_title("Hookline delivery throughput, one run on this machine")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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


def _relay_note(figures: dict[str, Any]) -> list[str]:
    """How far the relay (no database, no authentication, no signature) gets
    towards the ceiling, and what is left of 40% of the ceiling's time per
    event once the relay's work and the database's raw writes are paid."""
    relay, ceiling = figures.get("relay_eps"), figures.get("ceiling_eps")
    if not (isinstance(relay, dict) and isinstance(ceiling, dict) and ceiling["median"]):
        return []
    share = relay["median"] / ceiling["median"]
    text = (
        "The relay (`bench/relay.py`) answers each command and posts its event on, with"
        " nothing else: no database, no authentication, no signature. It reaches"
        f" {relay['median']:,.0f} events/s, {share:.0%} of the ceiling: a bound on what any"
        " stack that answers a command and then delivers its event can show on the bars"
        " measured against the ceiling, on this machine."
    )
    record = figures.get("sqlite_record_floor_us")
    if isinstance(record, dict):
        budget = 1e6 / (CEILING_SHARE * ceiling["median"])
        text += (
            f" At {CEILING_SHARE:.0%} of the ceiling an event may take {budget:.0f} µs;"
            f" the relay takes {1e6 / relay['median']:.0f} µs of that, and raw sqlite3,"
            f" with no framework, takes {record['median']:.0f} µs more to write the event's"
            " rows (the project, the event, its delivery) and commit."
        )
    return ["", text]


def write(result: dict[str, Any], docs: Path) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    chart(result, docs / "performance.png")
    lines = [
        "# Performance",
        "",
        f"Measured {result['date'][:10]} by `make bench` on {result['machine']['cpus']} CPUs"
        f" (Python {result['machine']['python']}), in {result['seconds']:.0f} s. Everything ran on"
        f" 127.0.0.1{'' if result.get('parts') else ' in one run'}: the receiver, Hookline on"
        " SQLite (`hookline serve`), on"
        " PostgreSQL in two set-ups (`hookline serve --no-worker` plus `hookline worker`"
        " processes, named `postgresql`; and `hookline serve` with its own worker, as it runs"
        " by default, named `postgresql_serve`), a bare aiohttp"
        " sender (the ceiling), a relay that answers each command and posts its event on"
        " (`bench/relay.py`), and a Celery worker with Redis (the peer, default prefork pool"
        " and concurrency, as Celery's documentation advises). Each figure is the median of"
        f" {result['sizes']['runs']} runs; the spread is min - max. Raw figures:"
        f" `bench/results/{result['date'][:10]}.json`." + _parts(result),
        "",
        "Sizes: "
        + ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in result["sizes"].items())
        + ".",
        "",
        "## Bars",
        "",
        "| bar | value | target | met |",
        "|---|---|---|---|",
    ]
    for bar in result["bars"]:
        lines.append(
            f"| {bar['name']} | {bar['value']:.3g} | {bar['target']} |"
            f" {'yes' if bar['met'] else '**no**'} |"
        )
    lines += _relay_note(result["figures"])
    lines += ["", "## Figures", "", "| measurement | median | spread |", "|---|---|---|"]
    for key, value in result["figures"].items():
        median, spread = _fmt(value)
        lines.append(f"| {_label(key)} | {median} | {spread} |")
    lines += ["", "![throughput](performance.png)", ""]
    if ANALYSIS.exists():
        lines += ["", ANALYSIS.read_text().strip(), ""]
    (docs / "PERFORMANCE.md").write_text("\n".join(lines))
