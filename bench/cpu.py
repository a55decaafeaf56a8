"""How much CPU each process used while a figure was taken, as a share of one
CPU: the process near 1.0 is what limits the figure (on two CPUs, anything
that needs more than one process busy is limited by the machine)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import psutil


def _seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


@contextmanager
def shares(processes: Mapping[str, psutil.Process], out: dict[str, float]) -> Iterator[None]:
    """Fill ``out`` with each process's CPU share over the ``with`` block."""
    began = {name: _seconds(p) for name, p in processes.items()}
    started = time.monotonic()
    yield
    wall = time.monotonic() - started
    for name, process in processes.items():
        out[name] = round((_seconds(process) - began[name]) / wall, 2) if wall > 0 else 0.0
