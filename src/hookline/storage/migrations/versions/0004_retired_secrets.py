"""keep every signing secret retired in the last day, not only the last one

A second rotation within the overlap used to drop the first secret at
once, and receivers still holding it failed to verify. Retired secrets
are now a list of {sealed, expires_at}, newest first.

Revision ID: 0004
Revises: 0003
"""

from datetime import UTC

import sqlalchemy as sa
from alembic import op

import hookline.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "webhooks",
        sa.Column("retired_secrets", hookline.storage.types.JSONDocument(), nullable=True),
    )
    conn = op.get_bind()
    webhooks = sa.table(
        "webhooks",
        sa.column("id", sa.Uuid()),
        sa.column("previous_secret_enc", sa.Text()),
        sa.column("previous_secret_expires_at", hookline.storage.types.UTCDateTime()),
        sa.column("retired_secrets", hookline.storage.types.JSONDocument()),
    )
    rows = conn.execute(
        sa.select(
            webhooks.c.id, webhooks.c.previous_secret_enc, webhooks.c.previous_secret_expires_at
        ).where(webhooks.c.previous_secret_enc.is_not(None))
    ).all()
    for row in rows:
        expires = row.previous_secret_expires_at
        if expires is None:
            continue
        entry = {
            "sealed": row.previous_secret_enc,
            "expires_at": expires.astimezone(UTC).isoformat(),
        }
        conn.execute(
            sa.update(webhooks).where(webhooks.c.id == row.id).values(retired_secrets=[entry])
        )
    # SQLite 3.35 and later drop columns in place, as PostgreSQL does.
    op.execute("ALTER TABLE webhooks DROP COLUMN previous_secret_enc")
    op.execute("ALTER TABLE webhooks DROP COLUMN previous_secret_expires_at")


def downgrade() -> None:
    op.add_column("webhooks", sa.Column("previous_secret_enc", sa.Text(), nullable=True))
    op.add_column(
        "webhooks",
        sa.Column(
            "previous_secret_expires_at", hookline.storage.types.UTCDateTime(), nullable=True
        ),
    )
    op.drop_column("webhooks", "retired_secrets")
