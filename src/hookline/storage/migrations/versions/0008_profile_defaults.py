"""a profile's default team and project, language and theme

Registration makes each person a default team with a "Drafts" project, as
Penpot does, and get-profile answers them with the chosen language and
theme. Profiles made before answer null for the defaults.

Revision ID: 0008_profile_defaults
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_profile_defaults"
down_revision = "0007"
branch_labels = None
depends_on = None

# (column, referred table) of each new reference; a referred row that is
# deleted leaves null behind, never a dangling id.
DEFAULTS = (("default_team_id", "teams"), ("default_project_id", "projects"))


def upgrade() -> None:
    op.add_column("profiles", sa.Column("lang", sa.String(35), nullable=True))
    op.add_column("profiles", sa.Column("theme", sa.String(16), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, target in DEFAULTS:
        name = f"fk_profiles_{column}_{target}"
        if sqlite:
            # SQLite adds a reference only with its column, and rebuilding the
            # table instead would, with foreign keys on, delete the rows that
            # refer to its profiles.
            op.execute(
                f"ALTER TABLE profiles ADD COLUMN {column} CHAR(32) "
                f"CONSTRAINT {name} REFERENCES {target} (id) ON DELETE SET NULL"
            )
        else:
            op.add_column("profiles", sa.Column(column, sa.Uuid(), nullable=True))
            op.create_foreign_key(name, "profiles", target, [column], ["id"], ondelete="SET NULL")
        op.create_index(f"ix_profiles_{column}", "profiles", [column])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, target in reversed(DEFAULTS):
        op.drop_index(f"ix_profiles_{column}", table_name="profiles")
        # SQLite cannot drop a column that refers to another table, and
        # rebuilding the table would delete what refers to its profiles:
        # there the columns stay, unused.
        if not sqlite:
            op.drop_constraint(f"fk_profiles_{column}_{target}", "profiles", type_="foreignkey")
            op.drop_column("profiles", column)
    op.drop_column("profiles", "theme")
    op.drop_column("profiles", "lang")
