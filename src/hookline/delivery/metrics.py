"""Delivery metrics in the Prometheus text format, kept in process."""

from __future__ import annotations

from collections import Counter

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.in_flight = 0
        self.bucket_counts = [0] * len(BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0
        # Background tasks of the worker that raised, by task (see delivery.tasks).
        self.task_failures: Counter[str] = Counter()

    def observe(self, outcome: str, seconds: float, requests: int = 1) -> None:
        self.attempts[outcome] += requests
        self.duration_sum += seconds
        self.duration_count += 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.bucket_counts[i] += 1

    def render(self, depth: dict[str, int]) -> str:
        lines = [
            "# HELP hookline_deliveries Deliveries by state (queue depth).",
            "# TYPE hookline_deliveries gauge",
        ]
        for state in ("pending", "retrying", "paused", "succeeded", "failed"):
            lines.append(f'hookline_deliveries{{state="{state}"}} {depth.get(state, 0)}')
        lines += [
            "# HELP hookline_delivery_attempts_total Delivery attempts by outcome.",
            "# TYPE hookline_delivery_attempts_total counter",
        ]
        for outcome in sorted(set(self.attempts) | {"success"}):
            lines.append(
                f'hookline_delivery_attempts_total{{outcome="{outcome}"}} {self.attempts[outcome]}'
            )
        lines += [
            "# HELP hookline_delivery_duration_seconds Time per delivery request.",
            "# TYPE hookline_delivery_duration_seconds histogram",
        ]
        for bound, count in zip(BUCKETS, self.bucket_counts, strict=True):
            lines.append(f'hookline_delivery_duration_seconds_bucket{{le="{bound}"}} {count}')
        lines += [
            f'hookline_delivery_duration_seconds_bucket{{le="+Inf"}} {self.duration_count}',
            f"hookline_delivery_duration_seconds_sum {self.duration_sum:.6f}",
            f"hookline_delivery_duration_seconds_count {self.duration_count}",
            "# HELP hookline_deliveries_in_flight Requests being sent now.",
            "# TYPE hookline_deliveries_in_flight gauge",
            f"hookline_deliveries_in_flight {self.in_flight}",
            "# HELP hookline_worker_task_failures_total Background tasks of the worker that"
            " raised (logged, and the worker kept running).",
            "# TYPE hookline_worker_task_failures_total counter",
        ]
        for task in sorted(self.task_failures):
            lines.append(
                f'hookline_worker_task_failures_total{{task="{task}"}} {self.task_failures[task]}'
            )
        return "\n".join(lines) + "\n"
