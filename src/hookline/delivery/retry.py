"""What an attempt's outcome means for its delivery, decided in one place:
sent, try again on the schedule, give up at once, or stop the webhook."""

from __future__ import annotations

import random
from enum import StrEnum

RETRY_AFTER_MAX_S = 24 * 3600.0
# Client errors that say "not now" rather than "never": worth retrying.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    # The receiver refuses this content, or the address is blocked: the same
    # request would fail the same way, so it is not retried (still a failure
    # toward auto-disable).
    PERMANENT = "permanent"
    # 410 Gone: the receiver asks for no more; the webhook is disabled.
    GONE = "gone"


def classify(ok: bool, status: int | None, error_code: str | None) -> Verdict:
    if ok:
        return Verdict.SENT
    if status == 410:
        return Verdict.GONE
    if status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX:
        return Verdict.PERMANENT
    if error_code is not None and error_code.startswith("blocked-request"):
        return Verdict.PERMANENT
    return Verdict.RETRY


def retry_delay(
    schedule: tuple[float, ...], attempts: int, retry_after_s: float | None
) -> float | None:
    """Seconds until the next attempt after ``attempts`` failed ones; None when
    the schedule is used up."""
    if attempts > len(schedule):
        return None
    if retry_after_s is not None:
        return min(max(retry_after_s, 1.0), RETRY_AFTER_MAX_S)
    base = schedule[attempts - 1]
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
