"""Fixtures for OAuth: a person's browser over the in-memory app."""

from __future__ import annotations

import pytest

from tests.helpers import ApiFactory
from tests.web.client import WebFactory


@pytest.fixture
def web(api_factory: ApiFactory) -> WebFactory:
    return WebFactory(api_factory)
