"""libraries linked to files, team fonts, mentions and places of comments

Penpot's workspace commands that raise webhooks need somewhere to keep
what they change: a file's linked libraries, a team's font variants with
their font files, and a comment's mentions (and a thread's page and frame).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import hookline.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = hookline.storage.types.JSONDocument()
    moment = hookline.storage.types.UTCDateTime()
    op.add_column("comment_threads", sa.Column("mentions", json, nullable=True))
    op.add_column("comment_threads", sa.Column("page_id", sa.Uuid(), nullable=True))
    op.add_column("comment_threads", sa.Column("frame_id", sa.Uuid(), nullable=True))
    op.add_column("comments", sa.Column("mentions", json, nullable=True))
    op.create_table(
        "file_libraries",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("library_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name="fk_file_libraries_file_id_files", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["files.id"],
            name="fk_file_libraries_library_id_files",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "library_id", name="pk_file_libraries"),
    )
    op.create_index("ix_file_libraries_library_id", "file_libraries", ["library_id"])
    op.create_table(
        "font_variants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=True),
        sa.Column("font_id", sa.Uuid(), nullable=False),
        sa.Column("font_family", sa.String(250), nullable=False),
        sa.Column("font_weight", sa.Integer(), nullable=False),
        sa.Column("font_style", sa.String(16), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("modified_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_font_variants_team_id_teams", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name="fk_font_variants_profile_id_profiles",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_font_variants"),
    )
    op.create_index("ix_font_variants_team_id_font_id", "font_variants", ["team_id", "font_id"])
    op.create_table(
        "font_files",
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("mtype", sa.String(32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["font_variants.id"],
            name="fk_font_files_variant_id_font_variants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("variant_id", "mtype", name="pk_font_files"),
    )


def downgrade() -> None:
    op.drop_table("font_files")
    op.drop_index("ix_font_variants_team_id_font_id", table_name="font_variants")
    op.drop_table("font_variants")
    op.drop_index("ix_file_libraries_library_id", table_name="file_libraries")
    op.drop_table("file_libraries")
    op.drop_column("comments", "mentions")
    op.drop_column("comment_threads", "frame_id")
    op.drop_column("comment_threads", "page_id")
    op.drop_column("comment_threads", "mentions")
