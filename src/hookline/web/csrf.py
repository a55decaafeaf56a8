"""CSRF tokens: an HMAC of the browser's session key (or, before sign-in, of a
random pre-session cookie) under the server secret. A forged form from another
site cannot read the cookie, so it cannot compute the token."""

from __future__ import annotations

import hashlib
import hmac
import secrets

FIELD = "csrf_token"
# Set for visitors without a session so the sign-in and sign-up forms are
# protected too; it carries no authority of its own.
ANONYMOUS_COOKIE = "hookline_csrf"
_PURPOSE = b"hookline-csrf-v1\0"


def new_anonymous_key() -> str:
    return secrets.token_urlsafe(32)


def token_for(secret: bytes, binding: str) -> str:
    """The token every form of this browser carries."""
    return hmac.new(secret, _PURPOSE + binding.encode(), hashlib.sha256).hexdigest()


def is_valid(secret: bytes, binding: str, given: str | None) -> bool:
    """Constant-time comparison, so the token cannot be guessed byte by byte."""
    if not binding or not given:
        return False
    return hmac.compare_digest(token_for(secret, binding).encode(), given.encode())
