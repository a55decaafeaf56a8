"""The load generator for request rates: wrk (Debian's ``wrk`` package), one
thread, a fixed number of connections.

wrk is C on epoll: on this machine it answers ten thousand requests a second
with a fraction of one CPU, where a Python client (aiohttp, let alone httpx)
would spend a whole CPU and become the figure it measures. Every rate that is
compared with another one is taken with the same settings.

Each run gets a Lua script: the request (or, for a mix, a function that picks
one) and a ``done`` hook that prints wrk's own summary as one JSON line."""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
from pathlib import Path
from typing import Any

WRK = "wrk"
THREADS = 1
# Longer than any answer we expect: a slower one is counted as a timeout, not
# as a latency, and would hide the tail.
TIMEOUT_S = 30

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d,'
    .. ' "write_errors": %d, "http_errors": %d, "timeouts": %d,'
    .. ' "p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def _lua(value: str) -> str:
    """A Lua string literal (JSON's escapes are Lua's for what we send)."""
    return json.dumps(value)


def one_request(method: str, headers: dict[str, str], body: str | None) -> str:
    """The script for the same request over and over."""
    lines = [f"wrk.method = {_lua(method)}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{_lua(name)}] = {_lua(value)}")
    if body is not None:
        lines.append(f"wrk.body = {_lua(body)}")
    return "\n".join(lines) + "\n" + _DONE


def numbered_request(path: str, headers: dict[str, str], body_prefix: str, suffix: str) -> str:
    """POSTs whose body is ``body_prefix .. n .. suffix``, n counting up: for
    commands that create something with a distinct name each time."""
    header_table = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
    return (
        f"""
local n = 0
local headers = {{{header_table}}}
request = function()
  n = n + 1
  return wrk.format("POST", {_lua(path)}, headers, {_lua(body_prefix)} .. n .. {_lua(suffix)})
end
"""
        + _DONE
    )


def mix(choices: list[tuple[float, str, dict[str, str], str]], numbered: str) -> str:
    """Requests drawn at random with the given weights: each choice is
    (weight, path, headers, body). ``numbered`` in a body is replaced by a
    counter, so that created things get distinct names."""
    rows = []
    cumulative = 0.0
    for weight, path, headers, body in choices:
        cumulative += weight
        header_table = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
        rows.append(f"  {{{cumulative!r}, {_lua(path)}, {{{header_table}}}, {_lua(body)}}},")
    table = "\n".join(rows)
    return (
        f"""
local choices = {{
{table}
}}
local total = {cumulative!r}
local n = 0
init = function(args)
  math.randomseed(os.time())
end
request = function()
  local roll = math.random() * total
  for _, c in ipairs(choices) do
    if roll <= c[1] then
      n = n + 1
      local body = string.gsub(c[4], {_lua(numbered)}, tostring(n))
      return wrk.format("POST", c[2], c[3], body)
    end
  end
end
"""
        + _DONE
    )


def available() -> bool:
    return shutil.which(WRK) is not None


def version() -> str:
    """wrk's version line, for the results file ("wrk missing" if it is)."""
    if not available():
        return "wrk missing"
    done = subprocess.run([WRK, "-v"], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).splitlines()[0].split(" Copyright")[0].strip()


async def run(
    url: str, script: str, connections: int, seconds: float, work: Path
) -> dict[str, Any]:
    """Run wrk against ``url`` (the script may change the path) and answer its
    figures: requests/s, latency percentiles in ms, error counts, and the CPU
    wrk itself used (a share of one CPU, to show it was not the limit)."""
    if not available():
        raise RuntimeError("wrk is missing: install Debian's 'wrk' package (make bench does)")
    path = work / f"wrk-{id(script)}-{connections}.lua"
    # The script may hold a bench account's token: it lives only for the run.
    path.write_text(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = await asyncio.create_subprocess_exec(
            WRK,
            f"--threads={THREADS}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            f"--timeout={TIMEOUT_S}s",
            f"--script={path}",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
    finally:
        path.unlink()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {text[-2000:]}")
    line = next((ln for ln in reversed(text.splitlines()) if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {text[-2000:]}")
    raw = json.loads(line)
    seconds_run = raw["duration_us"] / 1e6
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "rps": raw["requests"] / seconds_run,
        "requests": raw["requests"],
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "http_errors": raw["http_errors"],
        "socket_errors": errors,
        "wrk_cpu": cpu / seconds_run,
    }
