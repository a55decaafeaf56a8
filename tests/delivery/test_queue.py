"""How a claim shares the worker's room between webhooks, on SQLite (one
transaction) and on PostgreSQL (each lease a statement of its own on the
leasing connection, as the worker claims there)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import delete, select, update

from hookline.clock import SystemClock
from hookline.delivery import queue
from hookline.delivery.queue import Claimed, Result
from hookline.storage.database import Database
from hookline.storage.tables import deliveries, delivery_attempts, webhooks
from tests.seeding import seed_due_deliveries


async def claim(url: str, limit: int, room: dict[UUID, int]) -> list[UUID]:
    db = Database(url)
    now = SystemClock().now()

    def room_for(hook: UUID, _size: int) -> int:
        return room.get(hook, 1000)

    taken: list[Claimed]
    try:
        if db.is_sqlite:
            async with db.write() as conn:
                taken = await queue.claim(
                    conn,
                    owner="test",
                    now=now,
                    lease_s=30,
                    limit=limit,
                    postgres=False,
                    room_for=room_for,
                )
        else:
            leasing = await db.connect_async_commits()
            try:
                taken = await queue.claim_pg(
                    leasing, owner="test", now=now, lease_s=30, limit=limit, room_for=room_for
                )
            finally:
                await leasing.close()
    finally:
        await db.dispose()
    assert all(item.event.name == "create-project" for item in taken)
    return [item.webhook.id for item in taken]


async def test_the_webhook_due_longest_goes_first_within_its_room(database_url: str) -> None:
    now = SystemClock().now()
    newer, older = await seed_due_deliveries(
        database_url, [now - timedelta(seconds=1), now - timedelta(seconds=9)], 5
    )
    assert await claim(database_url, 3, {}) == [older] * 3
    # The rest of the older one's, then the newer one's, until the limit.
    assert sorted(await claim(database_url, 4, {})) == sorted([older] * 2 + [newer] * 2)
    # Leased: not claimed again.
    assert sorted(await claim(database_url, 10, {})) == [newer] * 3


async def test_a_webhook_without_room_is_passed_over_however_large_its_backlog(
    database_url: str,
) -> None:
    now = SystemClock().now()
    (stuck,) = await seed_due_deliveries(database_url, [now - timedelta(minutes=5)], 2000)
    healthy, other = await seed_due_deliveries(database_url, [now, now], 10)
    taken = await claim(database_url, 100, {stuck: 0, other: 4})
    assert taken.count(healthy) == 10 and taken.count(other) == 4 and stuck not in taken
    # Room again: its oldest come first.
    assert await claim(database_url, 5, {}) == [stuck] * 5


def sent(items: list[Claimed], at: datetime, **overrides: Any) -> Result:
    """A request that carried ``items`` and succeeded."""
    values: dict[str, Any] = {
        "items": items,
        "message_id": f"msg_{items[0].delivery_id.hex}",
        "sent_at": at,
        "url": "https://example.com/",
        "request_headers": {"webhook-id": "msg_1", "content-type": "application/json"},
        "bodies": [f'{{"n": {n}, "text": "é\\u2028"}}' for n in range(len(items))],
        "ok": True,
        "status": 204,
        "response_headers": {"server": "test"},
        "response_body": "",
        "duration_ms": 7,
        "error_code": None,
        "retry_after_s": None,
    }
    values.update(overrides)
    return Result(**values)


@pytest.mark.postgres
async def test_record_sent_writes_what_record_writes(postgres_url: str) -> None:
    """On PostgreSQL the outcomes of requests that all succeeded are one
    statement (record_sent): the rows it leaves are those record leaves."""
    now = SystemClock().now()
    (one, two) = await seed_due_deliveries(postgres_url, [now, now], 3)
    db = Database(postgres_url)
    statements = await db.connect_statements()
    try:
        async with db.write() as conn:
            taken = await queue.claim(conn, owner="t", now=now, lease_s=30, limit=10, postgres=True)
            await conn.execute(update(webhooks).values(error_count=3, error_code="timeout"))
        by_hook = {h: [i for i in taken if i.webhook.id == h] for h in (one, two)}
        at = now + timedelta(seconds=1)
        # Each webhook: one request of a single delivery, one batch of two.
        results = {
            h: [sent(items[:1], at), sent(items[1:], at, response_headers=None)]
            for h, items in by_hook.items()
        }
        # A delivery deleted meanwhile (its webhook was): written by neither.
        gone = by_hook[two][0].delivery_id
        async with db.write() as conn:
            await conn.execute(
                delete(delivery_attempts).where(delivery_attempts.c.delivery_id == gone)
            )
            await conn.execute(delete(deliveries).where(deliveries.c.id == gone))
        async with db.write() as conn:
            await queue.record(conn, results[one], now, schedule=(1.0,), disable_after=5)
        assert queue.all_sent(results[two])
        await queue.record_sent(statements, results[two], now)
        with pytest.raises(ValueError):
            await queue.record_sent(statements, [sent(taken[:1], at, ok=False, status=500)], now)
        async with db.read() as conn:
            rows = {
                row.webhook_id: row
                for row in await conn.execute(select(webhooks.c.id.label("webhook_id"), webhooks))
            }
            delivery_rows = list(await conn.execute(select(deliveries).order_by(deliveries.c.id)))
            attempt_rows = list(
                await conn.execute(
                    select(delivery_attempts, deliveries.c.webhook_id)
                    .join(deliveries)
                    .order_by(delivery_attempts.c.delivery_id)
                )
            )
    finally:
        await statements.close()
        await db.dispose()

    def comparable(row: Any, *leave_out: str) -> dict[str, Any]:
        return {k: v for k, v in row._mapping.items() if k not in leave_out}

    hook_one, hook_two = (
        comparable(rows[h], "id", "webhook_id", "name", "created_at") for h in (one, two)
    )
    assert hook_one == hook_two
    assert (hook_one["error_count"], hook_one["error_code"], hook_one["last_triggered_at"]) == (
        0,
        None,
        at,
    )
    marked = {
        h: [
            comparable(r, "id", "event_id", "webhook_id")
            for r in delivery_rows
            if r.webhook_id == h
        ]
        for h in (one, two)
    }
    assert len(marked[one]) == 3 and len(marked[two]) == 2
    assert marked[one][1:] == marked[two]
    assert marked[two][0]["status"] == "succeeded" and marked[two][0]["lease_owner"] is None
    tried = {
        h: [
            comparable(r, "id", "delivery_id", "webhook_id")
            for r in attempt_rows
            if r.webhook_id == h
        ]
        for h in (one, two)
    }
    assert len(tried[one]) == 3 and len(tried[two]) == 2
    assert tried[one][1:] == tried[two]
    assert [t["request_body"] for t in tried[two]] == [
        '{"n": 0, "text": "é\\u2028"}',
        '{"n": 1, "text": "é\\u2028"}',
    ]


async def _counted(conn: Any, query: str) -> int:
    """A count from the server's statistics, once this connection's own
    have been flushed to them."""
    await conn.execute("SELECT pg_stat_force_next_flush()")
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(await conn.fetchval(query))


async def _deliveries_read_in_full(conn: Any) -> int:
    """Rows of ``deliveries`` read by sequential scans so far."""
    return await _counted(
        conn,
        "SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables WHERE relname = 'deliveries'",
    )


@pytest.mark.postgres
async def test_record_sent_looks_deliveries_up_by_key_however_the_table_grew(
    postgres_url: str,
) -> None:
    """A plan kept from when the table was small (PostgreSQL keeps a
    prepared statement's generic plan after five runs) would read every row
    of ``deliveries`` at each run once it has grown; record_sent's
    connection plans index lookups only, so a grown table is searched by its
    key."""
    now = SystemClock().now()
    db = Database(postgres_url)
    statements = await db.connect_statements()
    try:
        for _ in range(8):  # past the five runs after which a plan is kept
            await seed_due_deliveries(postgres_url, [now], 2)
            async with db.write() as conn:
                taken = await queue.claim(
                    conn, owner="t", now=now, lease_s=30, limit=10, postgres=True
                )
            await queue.record_sent(statements, [sent(taken, now)], now)
        await seed_due_deliveries(postgres_url, [now], 20_000)
        (hook,) = await seed_due_deliveries(postgres_url, [now - timedelta(minutes=1)], 2)
        async with db.write() as conn:
            taken = await queue.claim(conn, owner="t", now=now, lease_s=30, limit=2, postgres=True)
        assert {item.webhook.id for item in taken} == {hook}
        before = await _deliveries_read_in_full(statements)
        await queue.record_sent(statements, [sent(taken, now)], now)
        assert await _deliveries_read_in_full(statements) - before < 1_000
    finally:
        await statements.close()
        await db.dispose()


async def _deliveries_rows_read(conn: Any) -> int:
    """Rows and index entries of ``deliveries`` read so far, by any scan."""
    return await _counted(
        conn,
        "SELECT coalesce(t.seq_tup_read, 0) + coalesce(sum(i.idx_tup_read), 0)"
        " FROM pg_stat_user_tables t JOIN pg_stat_user_indexes i USING (relid)"
        " WHERE t.relname = 'deliveries' GROUP BY t.seq_tup_read",
    )


async def _delivery_ids(url: str, hooks: list[UUID]) -> list[UUID]:
    db = Database(url)
    try:
        async with db.read() as conn:
            rows = await conn.execute(
                select(deliveries.c.id).where(deliveries.c.webhook_id.in_(hooks))
            )
            return [row.id for row in rows]
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_claim_named_looks_deliveries_up_by_key_beside_a_backlog(
    postgres_url: str,
) -> None:
    """A dead endpoint's backlog keeps many deliveries due. The plan kept
    after five runs, made while the table was small, searched every due
    delivery for the few a notification named (7,500 buffers a lease in a
    benchmark); named deliveries are looked up by their key, whatever is
    due beside them."""
    now = SystemClock().now()
    db = Database(postgres_url)
    leasing = await db.connect_async_commits(by_key=True)
    try:
        for _ in range(8):  # past the five runs after which a plan is kept
            hooks = await seed_due_deliveries(postgres_url, [now], 2)
            ids = await _delivery_ids(postgres_url, hooks)
            taken = await queue.claim_named(leasing, ids, owner="t", now=now, lease_s=30)
            assert len(taken) == 2
        await seed_due_deliveries(postgres_url, [now - timedelta(minutes=1)], 20_000)
        hooks = await seed_due_deliveries(postgres_url, [now], 2)
        ids = await _delivery_ids(postgres_url, hooks)
        before = await _deliveries_rows_read(leasing)
        taken = await queue.claim_named(leasing, ids, owner="t", now=now, lease_s=30)
        assert sorted(item.delivery_id for item in taken) == sorted(ids)
        assert await _deliveries_rows_read(leasing) - before < 1_000
    finally:
        await leasing.close()
        await db.dispose()


@pytest.mark.postgres
async def test_claim_named_looks_deliveries_up_by_key_from_its_first_run(
    postgres_url: str,
) -> None:
    """Planned for the values of its first runs, the statement could still
    pick the due index when the backlog was there first; its connection
    keeps one plan, made without the values."""
    now = SystemClock().now()
    await seed_due_deliveries(postgres_url, [now - timedelta(minutes=1)], 2_000)
    db = Database(postgres_url)
    leasing = await db.connect_async_commits(by_key=True)
    try:
        for _ in range(3):
            hooks = await seed_due_deliveries(postgres_url, [now], 1)
            ids = await _delivery_ids(postgres_url, hooks)
            before = await _deliveries_rows_read(leasing)
            taken = await queue.claim_named(leasing, ids, owner="t", now=now, lease_s=30)
            assert [item.delivery_id for item in taken] == ids
            assert await _deliveries_rows_read(leasing) - before < 100
    finally:
        await leasing.close()
        await db.dispose()
