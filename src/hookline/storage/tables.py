"""Every table, in one metadata. Migrations under ``migrations/`` create them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    text,
)

from hookline.storage.types import JSONDocument, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column[object]:
    return Column("id", Uuid, primary_key=True)


def _fk(
    name: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE"
) -> Column[object]:
    return Column(name, Uuid, ForeignKey(target, ondelete=ondelete), nullable=nullable)


profiles = Table(
    "profiles",
    metadata,
    _id(),
    Column("email", String(254), nullable=False, unique=True),
    Column("fullname", String(250), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The interface language (a BCP 47 tag) and theme the person chose, or null.
    Column("lang", String(35), nullable=True),
    Column("theme", String(16), nullable=True),
    # The team and its "Drafts" project made at registration (null for
    # profiles older than them). Neither can be deleted while it is someone's
    # default; if one ever goes, the reference goes with it.
    _fk("default_team_id", "teams.id", nullable=True, ondelete="SET NULL"),
    _fk("default_project_id", "projects.id", nullable=True, ondelete="SET NULL"),
    Index(None, "default_team_id"),
    Index(None, "default_project_id"),
)

sessions = Table(
    "sessions",
    metadata,
    _id(),
    Column("key_hash", String(64), nullable=False, unique=True),
    _fk("profile_id", "profiles.id"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "profile_id"),
)

teams = Table(
    "teams",
    metadata,
    _id(),
    Column("name", String(250), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("profile_id", Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "profile_id"),
)

team_invitations = Table(
    "team_invitations",
    metadata,
    _id(),
    _fk("team_id", "teams.id"),
    Column("email", String(254), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _fk("invited_by", "profiles.id", nullable=True, ondelete="SET NULL"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "team_id"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    _id(),
    _fk("profile_id", "profiles.id"),
    Column("name", String(250), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("last4", String(4), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("last_used_ip", String(64), nullable=True),
    Index(None, "profile_id"),
)

projects = Table(
    "projects",
    metadata,
    _id(),
    _fk("team_id", "teams.id"),
    Column("name", String(250), nullable=False),
    Column("is_pinned", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index(None, "team_id"),
)

files = Table(
    "files",
    metadata,
    _id(),
    _fk("project_id", "projects.id"),
    Column("name", String(250), nullable=False),
    Column("is_shared", Boolean, nullable=False, default=False),
    Column("revn", Integer, nullable=False, default=0),
    Column("features", JSONDocument, nullable=False),
    Column("data", JSONDocument, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index(None, "project_id"),
)

comment_threads = Table(
    "comment_threads",
    metadata,
    _id(),
    _fk("file_id", "files.id"),
    _fk("owner_id", "profiles.id"),
    Column("content", Text, nullable=False),
    Column("position", JSONDocument, nullable=True),
    # The profile ids mentioned in the content, a list (or null for none).
    Column("mentions", JSONDocument, nullable=True),
    Column("page_id", Uuid, nullable=True),
    Column("frame_id", Uuid, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index(None, "file_id"),
)

comments = Table(
    "comments",
    metadata,
    _id(),
    _fk("thread_id", "comment_threads.id"),
    _fk("owner_id", "profiles.id"),
    Column("content", Text, nullable=False),
    Column("mentions", JSONDocument, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index(None, "thread_id"),
)

# Shared files (libraries) of the same team that a file uses.
file_libraries = Table(
    "file_libraries",
    metadata,
    Column("file_id", Uuid, ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    Column("library_id", Uuid, ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "library_id"),
)

# A team's fonts: the variants sharing a font_id make one font.
font_variants = Table(
    "font_variants",
    metadata,
    _id(),
    _fk("team_id", "teams.id"),
    _fk("profile_id", "profiles.id", nullable=True, ondelete="SET NULL"),
    Column("font_id", Uuid, nullable=False),
    Column("font_family", String(250), nullable=False),
    Column("font_weight", Integer, nullable=False),
    Column("font_style", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index(None, "team_id", "font_id"),
)

# A variant's font files, one per format (mime type).
font_files = Table(
    "font_files",
    metadata,
    Column(
        "variant_id", Uuid, ForeignKey("font_variants.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("mtype", String(32), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    _id(),
    _fk("team_id", "teams.id"),
    Column("name", String(250), nullable=False),
    Column("uri", String(2048), nullable=False),
    Column("mtype", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False),
    # active | inactive | disabled-by-errors
    Column("state", String(32), nullable=False),
    # null: every event; else a list of event names
    Column("events", JSONDocument, nullable=True),
    Column("verify_ssl", Boolean, nullable=False),
    Column("max_events_per_request", Integer, nullable=False),
    Column("ordered", Boolean, nullable=False),
    Column("secret_enc", Text, nullable=False),
    # Secrets replaced within the overlap, which still sign: a list of
    # {"sealed", "expires_at"}, newest first (see delivery.queue.RetiredSecret).
    Column("retired_secrets", JSONDocument, nullable=True),
    Column("error_code", String(120), nullable=True),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_triggered_at", UTCDateTime, nullable=True),
    _fk("created_by", "profiles.id", nullable=True, ondelete="SET NULL"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "team_id"),
)

events = Table(
    "events",
    metadata,
    _id(),
    Column("name", String(120), nullable=False),
    _fk("team_id", "teams.id"),
    Column("profile_id", Uuid, nullable=True),
    Column("props", JSONDocument, nullable=False),
    # Set for events merged while unsent (update-file: "<profile>:<file>").
    Column("coalesce_key", String(160), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("tracked_at", UTCDateTime, nullable=False),
    Index(None, "team_id", "created_at"),
    Index(None, "coalesce_key"),
)

deliveries = Table(
    "deliveries",
    metadata,
    # UUIDv7: sorting by id is event order for one webhook.
    _id(),
    _fk("webhook_id", "webhooks.id"),
    _fk("event_id", "events.id"),
    # pending | retrying | succeeded | failed | paused
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("last_error", String(120), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_duration_ms", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "webhook_id", "id"),
    # Each webhook's due ones in claim order (delivery.queue.claim names the
    # statuses as literals so both databases can use this partial index).
    Index(
        "ix_deliveries_due",
        "webhook_id",
        "next_attempt_at",
        "id",
        postgresql_where=text("status IN ('pending', 'retrying')"),
        sqlite_where=text("status IN ('pending', 'retrying')"),
    ),
    # An ordered webhook's oldest unfinished delivery (its head).
    Index(
        "ix_deliveries_unfinished",
        "webhook_id",
        "id",
        postgresql_where=text("status IN ('pending', 'retrying', 'paused')"),
        sqlite_where=text("status IN ('pending', 'retrying', 'paused')"),
    ),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    _id(),
    _fk("delivery_id", "deliveries.id"),
    Column("attempt", Integer, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("url", String(2048), nullable=False),
    Column("request_headers", JSONDocument, nullable=False),
    Column("request_body", Text, nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_headers", JSONDocument, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("duration_ms", Integer, nullable=True),
    Column("error_code", String(120), nullable=True),
    # Events in the request this attempt was part of; request_body holds this
    # delivery's own event, so a batch is not stored once per member.
    Column("batch_size", Integer, nullable=False, default=1),
    Index(None, "delivery_id", "attempt"),
    Index(None, "sent_at"),
)

# Facts the instance keeps about itself, one row each (see storage.key_check).
instance_settings = Table(
    "instance_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# --- OAuth 2 (hookline.oauth) -------------------------------------------------

oauth_applications = Table(
    "oauth_applications",
    metadata,
    _id(),
    Column("client_id", String(32), nullable=False, unique=True),
    _fk("owner_id", "profiles.id"),
    Column("name", String(250), nullable=False),
    # Exact strings; a request must name one of them.
    Column("redirect_uris", JSONDocument, nullable=False),
    Column("confidential", Boolean, nullable=False),
    # Keyed hash of the client secret (confidential clients only).
    Column("secret_hash", String(64), nullable=True),
    Column("secret_last4", String(4), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "owner_id"),
)

# One person's consent to one application, from the code's exchange on: every
# token issued from it, refreshed or not, belongs to it. Revoking it (by the
# person, by the client, or on a reused code or refresh token) deletes those
# tokens and keeps the row, dated, for the person's history.
oauth_grants = Table(
    "oauth_grants",
    metadata,
    _id(),
    _fk("application_id", "oauth_applications.id"),
    _fk("profile_id", "profiles.id"),
    Column("scope", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    # person | client | code-reused | refresh-reused
    Column("revoked_reason", String(32), nullable=True),
    Index(None, "profile_id"),
    Index(None, "application_id"),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    _id(),
    Column("code_hash", String(64), nullable=False, unique=True),
    _fk("application_id", "oauth_applications.id"),
    _fk("profile_id", "profiles.id"),
    Column("redirect_uri", String(2048), nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("scope", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    # The grant its exchange created, revoked if the code comes back.
    _fk("grant_id", "oauth_grants.id", nullable=True),
    Index(None, "expires_at"),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    _id(),
    _fk("grant_id", "oauth_grants.id"),
    # access | refresh
    Column("kind", String(8), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # A refresh token that was exchanged stays, so its reuse is recognised.
    Column("rotated_at", UTCDateTime, nullable=True),
    Index(None, "grant_id"),
)
