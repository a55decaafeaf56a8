"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLite's text of instants lately written: the outcomes of a batch of
# deliveries share their "now", and each delivery's moment of sending is
# written three times (attempt, delivery, its due time when done).
_TEXTS_KEPT = 4096
_texts: dict[datetime, str] = {}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps. SQLite keeps no zone, so the value is stored
    as naive UTC there and made aware again when read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite, one step each way instead of two: this type's conversion,
    # then SQLAlchemy's between datetime and text, each a Python call per
    # value, were a tenth of what the delivery worker spends writing outcomes.
    # The text is SQLAlchemy's own format ("2026-12-01 09:30:00.000000").

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            text = _texts.get(value)
            if text is not None:
                return text
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTCDateTime column")
            # Without its "+00:00".
            text = value.astimezone(UTC).isoformat(" ", "microseconds")[:26]
            if len(_texts) >= _TEXTS_KEPT:
                _texts.clear()
            _texts[value] = text
            return text

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        fallback = super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                try:
                    parsed = datetime.fromisoformat(value + "+00:00")
                except ValueError:
                    pass
                else:
                    if parsed.tzinfo is not None:
                        return parsed
            return fallback(value) if fallback is not None else value

        return process


class JSONDocument(TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())
