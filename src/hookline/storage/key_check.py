"""The secret key's check value, kept in the database, so a process started
with another key than the one the data was sealed with refuses to start.

Sessions, access tokens and invitations are stored as keyed hashes, and
webhook signing secrets are encrypted, all under the secret key. A
``secret_key`` file lost beside its database used to be replaced by a new
one without a word, and every one of those stopped working. The database
now holds an HMAC of a fixed label under the key; a start whose key does not
match it, while sealed data exists, is refused, unless the key was given on
purpose in ``HOOKLINE_SECRET_KEY``."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from sqlalchemy import Table, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.settings import KEY_FILE_NAME, Settings
from hookline.storage.database import Database
from hookline.storage.tables import (
    access_tokens,
    instance_settings,
    sessions,
    team_invitations,
    webhooks,
)

log = logging.getLogger(__name__)

CHECK_NAME = "secret-key-check"
_LABEL = b"hookline secret key check v1"

# Rows that mean nothing under another key.
SEALED: tuple[Table, ...] = (sessions, access_tokens, team_invitations, webhooks)

# Two processes starting together on PostgreSQL record the value once.
_ADVISORY_LOCK = 7262405


class SecretKeyMismatch(Exception):
    """The database holds data sealed with another secret key; the message
    says what to do."""


def check_value(key: bytes) -> str:
    return hmac.new(key, _LABEL, hashlib.sha256).hexdigest()


async def _holds_sealed_data(conn: AsyncConnection) -> bool:
    for table in SEALED:
        if await conn.scalar(select(exists().select_from(table))):
            return True
    return False


def _refusal(settings: Settings) -> SecretKeyMismatch:
    key_file = settings.data_dir / KEY_FILE_NAME
    if settings.key_source == "generated":
        which = f"there was no secret key file at {key_file}"
    else:
        which = f"the secret key in {key_file} is not the one it was sealed with"
    return SecretKeyMismatch(
        f"the database holds sessions, tokens, invitations or webhook secrets sealed with "
        f"another secret key, and {which}. Put the original key file back (or set "
        f"HOOKLINE_SECRET_KEY to that key). To start over with a new key on purpose, "
        f"invalidating all of them, set HOOKLINE_SECRET_KEY to the new key."
    )


async def verify_secret_key(db: Database, settings: Settings) -> None:
    """Record the key's check value, or refuse (``SecretKeyMismatch``) a key
    read from or generated into the key file when the database holds data
    sealed with another: the value recorded differs, or none was recorded
    yet and the key file was only now generated. A key given in
    ``HOOKLINE_SECRET_KEY`` always starts, and becomes the one recorded."""
    expected = check_value(settings.secret_key)
    now = datetime.now(UTC)
    async with db.write() as conn:
        if not db.is_sqlite:
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
        stored = await conn.scalar(
            select(instance_settings.c.value).where(instance_settings.c.name == CHECK_NAME)
        )
        if stored is not None and hmac.compare_digest(stored, expected):
            return
        unknown_key = stored is not None or settings.key_source == "generated"
        if unknown_key and await _holds_sealed_data(conn):
            if settings.key_source != "environment":
                raise _refusal(settings)
            log.warning(
                "HOOKLINE_SECRET_KEY is not the key the stored sessions, tokens, invitations "
                "and webhook secrets were sealed with; they no longer work"
            )
        if stored is None:
            await conn.execute(
                insert(instance_settings).values(name=CHECK_NAME, value=expected, updated_at=now)
            )
        else:
            await conn.execute(
                update(instance_settings)
                .where(instance_settings.c.name == CHECK_NAME)
                .values(value=expected, updated_at=now)
            )
