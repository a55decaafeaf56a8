"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256>`` over
``{webhook-id}.{webhook-timestamp}.{body}``, one per valid secret."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from hookline.webhooks.secrets import secret_bytes


@functools.lru_cache(maxsize=1024)
def _key(secret: str) -> bytes:
    # Decoded once per secret: every request of a webhook signs with it.
    return secret_bytes(secret)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.digest(_key(secret), signed, hashlib.sha256)
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures: two while a rotated secret still overlaps."""
    return " ".join(signature(s, message_id, timestamp, body) for s in secrets)
