"""Counting failures (wrong passwords, bad tokens) and costly attempts
(sign-ups) in a sliding window."""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable

from hookline.errors import RateLimited


@functools.lru_cache(maxsize=4096)
def address_key(client_ip: str) -> str:
    """The key an address is counted under. An IPv6 client usually holds a
    whole /64 and may pick any address in it, so IPv6 counts per /64."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return f"ip:{client_ip}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


class FailureLimiter:
    """Allows ``limit`` failures per key within ``window_s``; the next attempt is
    refused with 429 until the oldest failure leaves the window. Kept in memory:
    each process counts its own attempts."""

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._monotonic = monotonic
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def check(self, *keys: str) -> None:
        """Raise RateLimited if any key has used up its failures."""
        now = self._monotonic()
        for key in keys:
            failures = self._recent(key, now)
            if failures is not None and len(failures) >= self.limit:
                raise RateLimited(math.ceil(failures[0] + self.window_s - now))

    def record_failure(self, *keys: str) -> None:
        self._count(self._monotonic(), keys)

    def attempt(self, *keys: str) -> float:
        """Check and count an attempt at once, before the work it guards: with
        no await between the two, concurrent attempts in this process cannot
        all pass the check before any is counted. Answers the attempt's stamp
        for ``forgive`` should it succeed."""
        self.check(*keys)
        now = self._monotonic()
        self._count(now, keys)
        return now

    def forgive(self, stamp: float, *keys: str) -> None:
        """Take back an attempt counted by ``attempt`` that turned out well."""
        for key in keys:
            failures = self._failures.get(key)
            if failures is not None and stamp in failures:
                failures.remove(stamp)

    def _count(self, now: float, keys: tuple[str, ...]) -> None:
        if len(self._failures) >= self._max_keys:
            self._evict(now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def _evict(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= self._max_keys:
            self._failures.pop(next(iter(self._failures)))
