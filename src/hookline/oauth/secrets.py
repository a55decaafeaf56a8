"""The values OAuth hands out, and the keyed hashes we keep of them.

Access tokens (``hlo_``), refresh tokens (``hlr_``) and client secrets
(``hlc_``) have the shape of personal tokens (``hookline.auth.tokens``):
recognisable prefix, random part, checksum. Codes are short-lived and only
ever travel in a redirect, so they are plain random strings. Every kind is
hashed under a purpose of its own, so a value of one kind never passes as
another."""

from __future__ import annotations

import secrets

from hookline.auth import tokens
from hookline.auth.hashing import keyed_hash

ACCESS_PREFIX = "hlo_"
REFRESH_PREFIX = "hlr_"
SECRET_PREFIX = "hlc_"  # noqa: S105 (a prefix, not a secret)
PREFIXES = (ACCESS_PREFIX, REFRESH_PREFIX, SECRET_PREFIX)

_PURPOSES = {
    ACCESS_PREFIX: "oauth-access-token",
    REFRESH_PREFIX: "oauth-refresh-token",
    SECRET_PREFIX: "oauth-client-secret",
}
CODE_PURPOSE = "oauth-code"
CLIENT_ID_LENGTH = 24


def new_value(prefix: str) -> str:
    return tokens.new_token(prefix)


def well_formed(value: str, prefix: str) -> bool:
    return tokens.well_formed(value, prefix)


def value_hash(server_secret: bytes, value: str, prefix: str) -> str:
    return keyed_hash(server_secret, value, purpose=_PURPOSES[prefix])


def new_client_id() -> str:
    return "".join(secrets.choice(tokens.ALPHABET) for _ in range(CLIENT_ID_LENGTH))


def plausible_client_id(value: str) -> bool:
    """Whether ``value`` could be a client id: anything else is refused
    before the database sees it (PostgreSQL text cannot even hold a NUL)."""
    return len(value) == CLIENT_ID_LENGTH and all(c in tokens.ALPHABET for c in value)


def new_code() -> str:
    return secrets.token_urlsafe(32)


def code_hash(server_secret: bytes, code: str) -> str:
    return keyed_hash(server_secret, code, purpose=CODE_PURPOSE)
