"""instance settings: the secret key's check value

A row per fact the instance keeps about itself. The first is a check value
of the secret key, so a start with another key (a lost secret_key file
replaced by a new one) is refused instead of silently invalidating every
session, token and invitation and every sealed webhook secret.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import hookline.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", hookline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_settings")),
    )


def downgrade() -> None:
    op.drop_table("instance_settings")
