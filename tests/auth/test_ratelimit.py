from __future__ import annotations

import pytest

from hookline.auth.ratelimit import FailureLimiter, address_key
from hookline.errors import RateLimited


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_eleventh_attempt_is_refused_until_the_window_moves() -> None:
    tick = Ticker()
    limiter = FailureLimiter(10, 60, monotonic=tick)
    for _ in range(10):
        limiter.check("k")
        limiter.record_failure("k")
    with pytest.raises(RateLimited) as info:
        limiter.check("k")
    assert info.value.retry_after == 60
    tick.now += 30
    with pytest.raises(RateLimited) as info:
        limiter.check("k")
    assert info.value.retry_after == 30
    tick.now += 30.5
    limiter.check("k")
    limiter.check("other")


def test_reset_and_key_cap() -> None:
    limiter = FailureLimiter(1, 60, monotonic=Ticker(), max_keys=3)
    limiter.record_failure("a")
    limiter.reset("a")
    limiter.check("a")
    for key in "bcdef":
        limiter.record_failure(key)
    assert len(limiter._failures) <= 3


def test_parallel_attempts_are_counted_before_the_work_and_successes_forgiven() -> None:
    limiter = FailureLimiter(3, 60, monotonic=Ticker())
    stamps = [limiter.attempt("k", "ip") for _ in range(3)]
    with pytest.raises(RateLimited):
        limiter.attempt("k")
    limiter.forgive(stamps[0], "ip")
    limiter.attempt("ip")
    with pytest.raises(RateLimited):
        limiter.attempt("ip")


def test_ipv6_counts_per_64() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") == "ip:2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "ip:192.0.2.1"
    assert address_key("") == "ip:"
