from __future__ import annotations

import zlib
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.auth import tokens
from hookline.errors import AuthenticationError


def test_format_is_prefix_random_checksum() -> None:
    value = tokens.new_token()
    assert len(value) == tokens.LENGTH == 40
    assert value.startswith("hlp_")
    random_part = value[4:34]
    assert value[34:] == tokens.base62(zlib.crc32(random_part.encode()), 6)
    assert tokens.well_formed(value)


def test_base62_is_most_significant_first_and_padded() -> None:
    assert tokens.base62(0, 6) == "000000"
    assert tokens.base62(61, 6) == "00000z"
    assert tokens.base62(62, 6) == "000010"
    assert tokens.base62(2**32 - 1, 6) == "4gfFC3"


@given(st.integers(0, 29), st.sampled_from(tokens.ALPHABET))
def test_any_changed_character_fails_the_checksum(position: int, char: str) -> None:
    value = "hlp_" + "a" * 30
    value += tokens.checksum(value[4:])
    changed = value[: 4 + position] + char + value[5 + position :]
    # CRC32 catches every single-character change.
    assert tokens.well_formed(changed) == (changed == value)


@given(st.text(max_size=60))
def test_garbage_is_never_well_formed_unless_checksummed(text: str) -> None:
    if tokens.well_formed(text):
        assert tokens.checksum(text[4:34]) == text[34:]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("720h", timedelta(days=30)),
        ("1440h", timedelta(days=60)),
        ("2160h", timedelta(days=90)),
        ("4320h", timedelta(days=180)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("10s", timedelta(seconds=10)),
        ("P30D", timedelta(days=30)),
        ("PT2S", timedelta(seconds=2)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert tokens.parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0s", "0h", "-5h", "5", "h", "P", "PT", "P0D", "1d", "PT0.5S", "xyz"]
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        tokens.parse_duration(text)


@given(st.text(max_size=20))
def test_duration_parsing_never_raises_anything_but_valueerror(text: str) -> None:
    try:
        assert tokens.parse_duration(text) >= timedelta(seconds=1)
    except ValueError:
        pass


def test_checked_digest_is_the_stored_hash_of_either_kind_and_none_otherwise() -> None:
    from hookline.auth.identity import _checked_digest
    from hookline.oauth import secrets as oauth_secrets

    secret = b"s" * 32
    personal = tokens.new_token()
    oauth = tokens.new_token(oauth_secrets.ACCESS_PREFIX)
    assert _checked_digest(secret, personal) == tokens.token_hash(secret, personal)
    assert _checked_digest(secret, oauth) == oauth_secrets.value_hash(
        secret, oauth, oauth_secrets.ACCESS_PREFIX
    )
    # Remembered per secret: another server secret gives another hash.
    assert _checked_digest(b"t" * 32, personal) != _checked_digest(secret, personal)
    mistyped = personal[:-1] + ("0" if personal[-1] != "0" else "1")
    assert _checked_digest(secret, mistyped) is None
    assert _checked_digest(secret, "hlp_" + "x" * 500) is None


def test_a_header_is_read_the_same_whether_its_reading_is_kept_or_not() -> None:
    from hookline.auth.identity import _read, _read_header

    secret = b"s" * 32
    personal = tokens.new_token()
    mistyped = personal[:-1] + ("0" if personal[-1] != "0" else "1")
    digest = tokens.token_hash(secret, personal)
    assert _read(secret, f"Token {personal}") == (personal, digest, None)
    assert _read(secret, f"  bearer   {personal}  ") == (personal, digest, None)
    shape = "send the header as: Authorization: Token <t>"
    assert _read(secret, f"Basic {personal}")[1:] == (None, shape)
    assert _read(secret, "Token ")[1:] == (None, shape)
    assert _read(secret, f"Token {mistyped}")[1:] == (None, "this is not a Hookline token")
    assert _read(secret, "Token " + "x" * 500)[1:] == (None, "this is not a Hookline token")
    for header in (f"Token {personal}", f"Basic {personal}", f"Token {mistyped}"):
        assert _read_header(secret, header) == _read(secret, header)


def test_only_a_short_header_has_its_reading_kept() -> None:
    """Kept readings are bounded by the header's length, so distinct long
    headers cannot fill this process's memory."""
    from hookline.auth import identity
    from hookline.auth.ratelimit import FailureLimiter

    services: Any = SimpleNamespace(
        token_limiter=FailureLimiter(limit=1000, window_s=60),
        settings=SimpleNamespace(secret_key=b"s" * 32),
    )
    personal = tokens.new_token()
    identity._read_header.cache_clear()
    read = identity._token_value(services, f"Token {personal}", "127.0.0.1")
    assert read == (personal, tokens.token_hash(b"s" * 32, personal))
    assert identity._read_header.cache_info().currsize == 1
    for n in range(20):
        with pytest.raises(AuthenticationError):
            identity._token_value(services, "Token " + "y" * (10_000 + n), "127.0.0.1")
    assert identity._read_header.cache_info().currsize == 1
