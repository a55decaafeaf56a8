"""The do-it-yourself peer: a Celery task per webhook call, POSTing with
``requests`` and retrying on failure, as a Python team would write it.

The worker runs with Celery's default prefork pool and its default concurrency
(the number of CPUs), as Celery's documentation advises."""

from __future__ import annotations

import os

import requests
from celery import Celery

BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/15")

app = Celery("bench_peer", broker=BROKER)
app.conf.update(
    task_acks_late=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(bind=True, max_retries=9, default_retry_delay=5)  # type: ignore[misc]
def deliver(self: object, url: str, body: str) -> int:
    try:
        response = requests.post(
            url, data=body, headers={"content-type": "application/json"}, timeout=15
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        raise self.retry(exc=exc) from exc  # type: ignore[attr-defined]
    return response.status_code
