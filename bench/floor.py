"""The database's share of an event, with no framework: the microseconds raw
``sqlite3`` takes to write what a ``create-project`` command records (the
project, its event, one delivery) in one transaction, on Hookline's own schema
(a database ``hookline migrate`` made) and settings (WAL, ``synchronous=NORMAL``).

Beside the relay's time per event, it tells how much of the ceiling a stack
that records each event durably before answering can reach on this machine,
whatever its code looks like."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

_PROJECT = (
    "INSERT INTO projects (id, team_id, name, is_pinned, created_at, modified_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_EVENT = (
    "INSERT INTO events (id, name, team_id, profile_id, props, coalesce_key, created_at,"
    " tracked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_DELIVERY = (
    "INSERT INTO deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def record_microseconds(path: Path, events: int) -> float:
    """Mean microseconds per event to write its three rows and commit."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # No team or webhook rows exist here: this measures the writes alone.
        conn.execute("PRAGMA foreign_keys=OFF")
        team, webhook = uuid.uuid4().hex, uuid.uuid4().hex
        started = time.perf_counter()
        for seq in range(events):
            project, event, delivery = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
            now = datetime.now(UTC).isoformat(" ")
            name = f"bench-{seq}"
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_PROJECT, (project, team, name, 0, now, now))
            props = json.dumps({"teamId": team, "name": name})
            conn.execute(_EVENT, (event, "create-project", team, None, props, None, now, now))
            conn.execute(_DELIVERY, (delivery, webhook, event, "pending", 0, now, now, now))
            conn.execute("COMMIT")
        return 1e6 * (time.perf_counter() - started) / events
    finally:
        conn.close()
