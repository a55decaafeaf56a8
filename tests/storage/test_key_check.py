"""The secret key's check value: a key other than the one the data was
sealed with is refused, unless it was given on purpose."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from hookline.services import Services
from hookline.settings import KeySource
from hookline.storage.key_check import SecretKeyMismatch, verify_secret_key
from tests.helpers import ApiFactory

KEY_A = b"a" * 48
KEY_B = b"b" * 48


async def verify(services: Services, key: bytes, source: KeySource) -> None:
    settings = replace(services.settings, secret_key=key, key_source=source)
    await verify_secret_key(services.db, settings)


async def test_without_sealed_data_any_key_is_recorded(services: Services) -> None:
    await verify(services, KEY_A, "generated")
    await verify(services, KEY_A, "file")
    await verify(services, KEY_B, "generated")
    await verify(services, KEY_B, "file")


async def test_sealed_data_refuses_another_key_unless_given_on_purpose(
    services: Services, api_factory: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await verify(services, KEY_A, "generated")
    await api_factory.user()  # a session, sealed with the key
    await verify(services, KEY_A, "file")
    sources: tuple[KeySource, ...] = ("file", "generated")
    for source in sources:
        with pytest.raises(SecretKeyMismatch, match="Put the original key file back"):
            await verify(services, KEY_B, source)
    with caplog.at_level(logging.WARNING, logger="hookline.storage.key_check"):
        await verify(services, KEY_B, "environment")
    assert "no longer work" in caplog.text
    await verify(services, KEY_B, "file")
    with pytest.raises(SecretKeyMismatch):
        await verify(services, KEY_A, "file")


async def test_a_database_from_before_the_check_trusts_its_key_file_only(
    services: Services, api_factory: ApiFactory
) -> None:
    await api_factory.user()  # sealed data, and no check value recorded yet
    with pytest.raises(SecretKeyMismatch, match="there was no secret key file"):
        await verify(services, KEY_A, "generated")
    await verify(services, KEY_A, "file")
    with pytest.raises(SecretKeyMismatch):
        await verify(services, KEY_B, "generated")
