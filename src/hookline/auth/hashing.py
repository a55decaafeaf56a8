"""Keyed hashes for secrets we must recognise but never store: session keys,
access tokens, invitation tokens."""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(server_secret: bytes, value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from the server secret for
    one purpose, so a hash of one kind can never be replayed as another."""
    key = hmac.new(server_secret, purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
