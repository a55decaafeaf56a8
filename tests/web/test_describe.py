"""Delivery error codes and token expiry in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hookline.web.describe import (
    ago,
    error_words,
    event_area,
    expiry_words,
    last_error_sentence,
    moment,
    state_words,
)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("timeout", "the request timed out"),
        ("connection-error", "could not connect to the receiver"),
        ("ssl-validation-error", "the receiver's TLS certificate could not be verified"),
        ("unexpected-status:500", "unexpected status 500"),
        ("unexpected-status:404", "unexpected status 404"),
        (
            "blocked-request:loopback-address",
            "the request was blocked: the address is a loopback address",
        ),
        ("blocked-request:private-address", "the request was blocked: private address"),
        ("invalid-uri", "the URL is not valid"),
        ("something-new", "something new"),
        (None, ""),
    ],
)
def test_error_words(code: str | None, words: str) -> None:
    assert error_words(code) == words


def test_last_error_sentence() -> None:
    assert (
        last_error_sentence("unexpected-status:500")
        == "Last delivery was not successful: unexpected status 500"
    )
    assert last_error_sentence(None) == ""


def test_states() -> None:
    assert [state_words(s) for s in ("active", "inactive", "disabled-by-errors")] == [
        "Active",
        "Inactive",
        "Disabled by errors",
    ]


def test_expiry_words() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert expiry_words(None, now) == "No expiration"
    assert expiry_words(now + timedelta(days=30), now) == "Expires on 2026-05-31"
    assert expiry_words(now - timedelta(days=1), now) == "Expired on 2026-04-30"


def test_moments_to_the_second_and_how_long_ago() -> None:
    now = datetime(2026, 3, 1, 20, 37, 12, tzinfo=UTC)
    assert moment(now) == "2026-03-01 20:37:12 UTC"
    assert ago(now, now) == "just now"
    assert ago(now - timedelta(seconds=42), now) == "42 s ago"
    assert ago(now - timedelta(minutes=3, seconds=5), now) == "3 min ago"
    assert ago(now - timedelta(hours=5), now) == "5 h ago"
    assert ago(now - timedelta(days=2, hours=1), now) == "2 d ago"
    assert ago(now + timedelta(minutes=10), now) == "in 10 min"


@pytest.mark.parametrize(
    ("name", "area"),
    [
        ("create-project", "Projects"),
        ("move-files", "Files"),
        ("update-profile", "Profile"),
        ("create-comment-thread", "Comments"),
        ("accept-team-invitation", "Team"),
        ("ping", "Other"),
    ],
)
def test_event_areas(name: str, area: str) -> None:
    assert event_area(name) == area
