"""Keyed hashes for secrets we must recognise but never store: session keys,
access tokens, invitation tokens."""

from __future__ import annotations

import functools
import hmac


@functools.lru_cache(maxsize=64)
def _purpose_key(server_secret: bytes, purpose: str) -> bytes:
    return hmac.digest(server_secret, purpose.encode(), "sha256")


def keyed_hash(server_secret: bytes, value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from the server secret for
    one purpose, so a hash of one kind can never be replayed as another. (The
    derived key is kept: every token-authenticated request computes one.)"""
    return hmac.digest(_purpose_key(server_secret, purpose), value.encode(), "sha256").hex()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
