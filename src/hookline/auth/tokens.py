"""Personal access tokens: format, checksum, durations, lookup.

A token is ``hlp_`` + 30 random base62 characters + 6 base62 characters of the
CRC32 of the random part (40 characters). The checksum lets a malformed or
mistyped token be refused without touching the database, and lets secret
scanners recognise a real one. Only an HMAC of the token is stored.

OAuth access and refresh tokens and client secrets use the same shape with
prefixes of their own (``hookline.oauth.secrets``), so each kind is
recognisable on sight."""

from __future__ import annotations

import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.auth.hashing import keyed_hash, same
from hookline.storage.tables import access_tokens

PREFIX = "hlp_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
_BODY = re.compile(rf"[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}")
PURPOSE = "access-token"


def base62(number: int, width: int) -> str:
    """``number`` in base62, most significant digit first, left-padded with 0."""
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(random_part: str) -> str:
    return base62(zlib.crc32(random_part.encode()), CHECKSUM_LENGTH)


def new_token(prefix: str = PREFIX) -> str:
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return prefix + random_part + checksum(random_part)


def well_formed(token: str, prefix: str = PREFIX) -> bool:
    """Shape and checksum; no database needed."""
    if not token.startswith(prefix) or not _BODY.fullmatch(token[len(prefix) :]):
        return False
    random_part = token[len(prefix) : len(prefix) + RANDOM_LENGTH]
    return same(checksum(random_part), token[-CHECKSUM_LENGTH:])


def token_hash(server_secret: bytes, token: str) -> str:
    return keyed_hash(server_secret, token, purpose=PURPOSE)


# --- durations ----------------------------------------------------------------

_GO_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ISO_DURATION = re.compile(
    r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
MAX_DURATION = timedelta(days=365 * 100)
_TOO_LONG = "the duration must be at most 100 years; omit it for no expiry"
_TOO_SHORT = "the duration must be one second or more"
# 100 years is 3,153,600,000 seconds: a whole number of more digits is past it.
_TOO_MANY_DIGITS = re.compile(r"(?<![.\d])\d{11}")


def parse_duration(text: str) -> timedelta:
    """Penpot's ``720h`` / ``1h30m`` / ``10s`` or ISO-8601 ``P30D`` / ``PT2S``.
    Raises ValueError unless it is at least one second and at most 100 years."""
    value = text.strip()
    if _TOO_MANY_DIGITS.search(value):
        raise ValueError(_TOO_LONG)
    try:
        duration = _measure(value)
    except OverflowError:  # past what a timedelta holds
        raise ValueError(_TOO_LONG) from None
    return _bounded(duration)


MIN_DURATION_MS = 1000
MAX_DURATION_MS = int(MAX_DURATION.total_seconds()) * 1000


def duration_from_ms(ms: int) -> timedelta:
    """A duration given as whole milliseconds, as Penpot's clients send one
    (its ``~#duration`` in Transit); the same bounds as ``parse_duration``."""
    # Checked before any timedelta is made: none holds the largest integers.
    if ms < MIN_DURATION_MS:
        raise ValueError(_TOO_SHORT)
    if ms > MAX_DURATION_MS:
        raise ValueError(_TOO_LONG)
    return timedelta(milliseconds=ms)


def _bounded(duration: timedelta) -> timedelta:
    if duration < timedelta(seconds=1):
        raise ValueError(_TOO_SHORT)
    if duration > MAX_DURATION:
        raise ValueError(_TOO_LONG)
    return duration


def _measure(value: str) -> timedelta:
    go = _GO_DURATION.match(value)
    if value and go and any(go.groups()):
        hours, minutes, seconds = (int(g or 0) for g in go.groups())
        duration = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    else:
        iso = _ISO_DURATION.match(value.upper())
        if not value or iso is None or not any(iso.groups()) or value.upper().endswith("T"):
            raise ValueError("use a duration such as 720h, 90m, 1h30m, 10s, P30D or PT2S")
        weeks, days, hours, minutes = (int(g or 0) for g in iso.groups()[:4])
        seconds_f = float(iso.group(5) or 0)
        duration = timedelta(
            weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds_f
        )
    return duration


# --- lookup -------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRecord:
    id: UUID
    profile_id: UUID
    # "full" or "read"; for an OAuth access token its scopes, space-separated
    scope: str
    expires_at: datetime | None
    # Set for an OAuth access token: the grant it belongs to.
    grant_id: UUID | None = None


async def find_token(conn: AsyncConnection, digest: str) -> TokenRecord | None:
    """The live or expired record of the token whose ``token_hash`` is
    ``digest``; None when unknown or revoked."""
    row = (
        await conn.execute(
            select(
                access_tokens.c.id,
                access_tokens.c.profile_id,
                access_tokens.c.scope,
                access_tokens.c.expires_at,
                access_tokens.c.token_hash,
            ).where(access_tokens.c.token_hash == digest)
        )
    ).first()
    if row is None or not same(row.token_hash, digest):
        return None
    return TokenRecord(row.id, row.profile_id, row.scope, row.expires_at)
