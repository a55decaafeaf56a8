"""index due deliveries per webhook

Claims now go webhook by webhook. With due deliveries indexed by due time
alone, reaching a healthy webhook's deliveries meant walking past every due
delivery of a webhook the worker had no room for (a dead endpoint's growing
pile), inside the write transaction. Starting the index with the webhook
makes skipping one a single probe.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DUE = sa.text("status IN ('pending', 'retrying')")


def upgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["webhook_id", "next_attempt_at", "id"],
        postgresql_where=DUE,
        sqlite_where=DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at", "id"],
        postgresql_where=DUE,
        sqlite_where=DUE,
    )
