from __future__ import annotations

import pytest

from hookline.webhooks.secrets import (
    SecretUnavailable,
    new_secret,
    seal,
    secret_bytes,
    unseal,
)

KEY = b"k" * 40


def test_secret_format_and_round_trip() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret_bytes(secret)) == 32
    stored = seal(KEY, secret)
    assert secret not in stored
    assert unseal(KEY, stored) == secret
    assert seal(KEY, secret) != stored, "a fresh nonce each time"


def test_wrong_key_or_tampering_is_refused() -> None:
    stored = seal(KEY, new_secret())
    with pytest.raises(SecretUnavailable):
        unseal(b"other" * 8, stored)
    with pytest.raises(SecretUnavailable):
        unseal(KEY, stored[:-4] + "AAAA")
    with pytest.raises(SecretUnavailable):
        unseal(KEY, "v0:abc")
