"""index the due deliveries in claim order, and ordered webhooks' heads

Claiming asks for the oldest due deliveries; with only (status,
next_attempt_at) indexed, each claim read and sorted every pending row,
which over a backlog of a million made a claim take half a second. This
partial index holds just the due rows, in the order claims take them.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DUE = sa.text("status IN ('pending', 'retrying')")
UNFINISHED = sa.text("status IN ('pending', 'retrying', 'paused')")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at", "id"],
        postgresql_where=DUE,
        sqlite_where=DUE,
    )
    # An ordered webhook's head: its oldest unfinished delivery.
    op.create_index(
        "ix_deliveries_unfinished",
        "deliveries",
        ["webhook_id", "id"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )
    # Nothing else filters on status and due time, and with an index whose
    # first column is the status SQLite's planner prefers it to the new one
    # and sorts every pending row again.
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"]
    )
    op.drop_index("ix_deliveries_unfinished", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
