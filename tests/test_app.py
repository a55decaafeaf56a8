"""Routes of the app itself: /metrics and its token."""

from __future__ import annotations

from dataclasses import replace

from hookline.services import Services
from tests.helpers import ApiFactory

TOKEN = "metrics-token-0123456789"


async def test_metrics_are_open_without_a_token(api_factory: ApiFactory) -> None:
    visitor = await api_factory.anonymous()
    response = await visitor.client.get("/metrics")
    assert response.status_code == 200
    assert "hookline_deliveries" in response.text


async def test_metrics_need_the_bearer_token_when_one_is_set(services: Services) -> None:
    services.settings = replace(services.settings, metrics_token=TOKEN)
    factory = ApiFactory(services)
    try:
        visitor = await factory.anonymous()
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Token {TOKEN}"},
            {"Authorization": "Bearer"},
        ):
            response = await visitor.client.get("/metrics", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "hookline_deliveries" not in response.text
        response = await visitor.client.get(
            "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 200
        assert "hookline_deliveries" in response.text
    finally:
        await factory.close()
