from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from hookline.settings import SettingsError, load_settings


def test_defaults_generate_and_keep_a_secret(tmp_path: Path) -> None:
    env = {"HOOKLINE_DATA_DIR": str(tmp_path)}
    first = load_settings(env)
    assert first.database_url == f"sqlite+aiosqlite:///{tmp_path / 'hookline.db'}"
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_settings(env).secret_key == first.secret_key
    assert "secret_key" not in repr(first).split("secret_key=")[0] or "b'" not in repr(first)


def test_postgres_url_gets_the_async_driver(tmp_path: Path) -> None:
    settings = load_settings(
        {"HOOKLINE_DATA_DIR": str(tmp_path), "HOOKLINE_DATABASE_URL": "postgresql://u@h/db"}
    )
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert not settings.is_sqlite


def test_allowlist(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "HOOKLINE_DATA_DIR": str(tmp_path),
            "HOOKLINE_SSRF_ALLOWLIST": "127.0.0.0/8, ::1, Hooks.Internal.",
        }
    )
    allow = settings.ssrf_allowlist
    assert allow.allows_address(ipaddress.ip_address("127.0.0.9"))
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert not allow.allows_address(ipaddress.ip_address("10.0.0.1"))
    assert allow.allows_host("hooks.internal")


def test_trusted_proxies_and_sign_ups(tmp_path: Path) -> None:
    defaults = load_settings({"HOOKLINE_DATA_DIR": str(tmp_path)})
    assert defaults.trusted_proxies == ()
    assert defaults.signups_per_hour == 20
    settings = load_settings(
        {
            "HOOKLINE_DATA_DIR": str(tmp_path),
            "HOOKLINE_TRUSTED_PROXIES": " 10.0.0.5, 10.1.0.0/16,,fd00::1 ",
            "HOOKLINE_SIGNUPS_PER_HOUR": "5",
        }
    )
    trusted = [str(network) for network in settings.trusted_proxies]
    assert trusted == ["10.0.0.5/32", "10.1.0.0/16", "fd00::1/128"]
    assert settings.signups_per_hour == 5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOOKLINE_DATABASE_URL": "mysql://x"}, "HOOKLINE_DATABASE_URL"),
        ({"HOOKLINE_SECRET_KEY": "short"}, "HOOKLINE_SECRET_KEY"),
        ({"HOOKLINE_MAX_BODY_BYTES": "lots"}, "HOOKLINE_MAX_BODY_BYTES"),
        ({"HOOKLINE_SSRF_ALLOWLIST": "not a host!"}, "HOOKLINE_SSRF_ALLOWLIST"),
        ({"HOOKLINE_RETRY_SCHEDULE": "5,x"}, "HOOKLINE_RETRY_SCHEDULE"),
        ({"HOOKLINE_PUBLIC_URL": "ftp://x"}, "HOOKLINE_PUBLIC_URL"),
        ({"HOOKLINE_LOG_LEVEL": "LOUD"}, "HOOKLINE_LOG_LEVEL"),
        ({"HOOKLINE_TRUSTED_PROXIES": "proxy.internal"}, "HOOKLINE_TRUSTED_PROXIES"),
        ({"HOOKLINE_SIGNUPS_PER_HOUR": "0"}, "HOOKLINE_SIGNUPS_PER_HOUR"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"HOOKLINE_DATA_DIR": str(tmp_path), **env})


def test_metrics_token_is_read_and_never_shown(tmp_path: Path) -> None:
    settings = load_settings(
        {"HOOKLINE_DATA_DIR": str(tmp_path), "HOOKLINE_METRICS_TOKEN": " scrape-me-please "}
    )
    assert settings.metrics_token == "scrape-me-please"
    assert "scrape-me-please" not in repr(settings)
    assert load_settings({"HOOKLINE_DATA_DIR": str(tmp_path)}).metrics_token == ""
