"""Fixtures for the UI tests: browsers over the in-memory app, and (for the
pages that show delivery results) a running worker and a receiver."""

from __future__ import annotations

import pytest

from tests.delivery.conftest import fast, worker  # noqa: F401
from tests.helpers import ApiFactory
from tests.web.client import WebFactory


@pytest.fixture
def web(api_factory: ApiFactory) -> WebFactory:
    return WebFactory(api_factory)
