"""The SQLite write lock: one holder at a time, urgent waiters first."""

from __future__ import annotations

import asyncio

from hookline.storage.database import PriorityLock


async def test_urgent_waiters_go_first_and_each_group_keeps_its_order() -> None:
    lock = PriorityLock()
    order: list[str] = []
    holding = 0

    async def take(name: str, urgent: bool) -> None:
        nonlocal holding
        async with lock.held(urgent):
            holding += 1
            assert holding == 1
            order.append(name)
            await asyncio.sleep(0)
            holding -= 1

    async with lock.held():
        tasks = [asyncio.create_task(take(f"api-{n}", False)) for n in range(3)]
        tasks += [asyncio.create_task(take(f"worker-{n}", True)) for n in range(2)]
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == ["worker-0", "worker-1", "api-0", "api-1", "api-2"]


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    lock = PriorityLock()
    async with lock.held():
        waiting = asyncio.create_task(lock._acquire(False))
        await asyncio.sleep(0)
        waiting.cancel()
    await asyncio.sleep(0)
    async with asyncio.timeout(1):
        async with lock.held(True):
            pass


async def test_cancelled_just_after_being_handed_the_lock_passes_it_on() -> None:
    lock = PriorityLock()
    async with lock.held():
        first = asyncio.create_task(lock._acquire(False))
        second = asyncio.create_task(lock._acquire(False))
        await asyncio.sleep(0)
    first.cancel()  # the lock was handed to it, but it never ran
    await asyncio.sleep(0)
    async with asyncio.timeout(1):
        await second
    lock._release()
