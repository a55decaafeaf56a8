"""UTCDateTime's own SQLite conversion matches SQLAlchemy's text format, so
stored values compare and sort the same whichever path wrote them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from hookline.storage.types import UTCDateTime

DIALECT = sqlite.dialect()
OURS = UTCDateTime()
BIND = OURS._cached_bind_processor(DIALECT)
RESULT = OURS._cached_result_processor(DIALECT, None)
SQLALCHEMY_BIND = DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
SQLALCHEMY_RESULT = DateTime().dialect_impl(DIALECT).result_processor(DIALECT, None)


@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_text_is_sqlalchemys_and_reads_back_as_the_same_instant(moment: datetime) -> None:
    assert BIND is not None and RESULT is not None and SQLALCHEMY_BIND is not None
    text = BIND(moment)
    assert text == SQLALCHEMY_BIND(moment.astimezone(UTC).replace(tzinfo=None))
    back = RESULT(text)
    assert back == moment and back.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["2026-12-01 09:30:00", "2026-12-01", "2026-12-01 09:30:00.5", "2026-12-01T09:30:00"]
)
def test_other_stored_shapes_read_as_sqlalchemy_reads_them(text: str) -> None:
    assert RESULT is not None and SQLALCHEMY_RESULT is not None
    assert RESULT(text) == SQLALCHEMY_RESULT(text).replace(tzinfo=UTC)


def test_a_naive_value_is_refused_and_none_passes() -> None:
    assert BIND is not None and RESULT is not None
    with pytest.raises(ValueError, match="naive"):
        BIND(datetime(2026, 12, 1))
    assert BIND(None) is None and RESULT(None) is None


def test_a_kept_text_serves_the_same_instant_in_any_zone_but_never_a_naive_value() -> None:
    assert BIND is not None
    moment = datetime(2026, 12, 2, 4, 30, 15, 123456, tzinfo=UTC)
    assert BIND(moment) == "2026-12-02 04:30:15.123456"
    elsewhere = moment.astimezone(timezone(timedelta(hours=-3)))
    assert BIND(elsewhere) == BIND(moment) == "2026-12-02 04:30:15.123456"
    with pytest.raises(ValueError, match="naive"):
        BIND(moment.replace(tzinfo=None))
