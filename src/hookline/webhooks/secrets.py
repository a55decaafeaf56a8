"""Webhook signing secrets: generated in the Standard Webhooks form and kept
encrypted at rest (AES-256-GCM under a key derived from the server secret)."""

from __future__ import annotations

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
_VERSION = "v1"


def new_secret() -> str:
    """``whsec_`` and base64 of 32 random bytes, as Standard Webhooks suggests."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key bytes a signature is computed with."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def _key(server_secret: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"hookline webhook secrets"
    ).derive(server_secret)


def seal(server_secret: bytes, secret: str) -> str:
    """Encrypt a signing secret for storage."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(server_secret)).encrypt(nonce, secret.encode(), _VERSION.encode())
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


class SecretUnavailable(Exception):
    """The stored secret cannot be decrypted (the server secret changed)."""


def unseal(server_secret: bytes, stored: str) -> str:
    version, _, payload = stored.partition(":")
    if version != _VERSION:
        raise SecretUnavailable("unknown secret format")
    try:
        raw = base64.urlsafe_b64decode(payload)
        opened = AESGCM(_key(server_secret)).decrypt(raw[:12], raw[12:], _VERSION.encode())
    except (InvalidTag, ValueError):
        raise SecretUnavailable("the secret cannot be decrypted with this server key") from None
    return opened.decode()
