from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transit.reader import Reader

from hookline import codec
from hookline.errors import ValidationError


@pytest.mark.parametrize("key", ["teamId", "team-id", "team_id", "TeamId"])
def test_to_snake(key: str) -> None:
    assert codec.to_snake(key) == "team_id"


def test_decode_json() -> None:
    assert codec.decode_body(b'{"teamId": 1, "is-active": true}', "application/json") == {
        "team_id": 1,
        "is_active": True,
    }


def test_decode_transit_converts_keywords_and_collections() -> None:
    body = b'["^ ","~:team-id","~u00000000-0000-0000-0000-000000000005","~:ids",["~:a","b"]]'
    assert codec.decode_body(body, "application/transit+json; charset=utf-8") == {
        "team_id": uuid.UUID(int=5),
        "ids": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("body", "media", "code"),
    [
        (b"{", "application/json", "malformed-json"),
        (b"\xff", "application/json", "malformed-json"),
        (b"[1]", "application/json", "params-validation"),
        (b'["^ ",', "application/transit+json", "malformed-transit"),
        (b"x", "text/plain", "unsupported-media-type"),
    ],
)
def test_decode_errors(body: bytes, media: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        codec.decode_body(body, media)
    assert info.value.code == code


def test_encode_transit_keywords_uuids_instants() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    text = codec.encode_transit({"team_id": uuid.UUID(int=1), "created_at": when, "name": "~x"})
    assert text == (
        b'["^ ","~:team-id","~u00000000-0000-0000-0000-000000000001",'
        b'"~:created-at","~m1767225600000","~:name","~~x"]'
    )


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True),
        st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=30)),
        max_size=8,
    )
)
def test_transit_round_trip(data: dict[str, object]) -> None:
    encoded = codec.encode_transit(data)
    decoded = codec.decode_body(encoded, codec.TRANSIT)
    assert decoded == {codec.to_snake(codec.to_kebab(k)): v for k, v in data.items()}
    assert Reader("json").read(io.StringIO(encoded.decode())) is not None


@given(st.binary(max_size=200))
def test_decoding_garbage_never_raises_anything_else(body: bytes) -> None:
    for media in (codec.JSON, codec.TRANSIT):
        try:
            codec.decode_body(body, media)
        except ValidationError:
            pass
