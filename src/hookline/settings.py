"""Settings, read once from ``HOOKLINE_*`` environment variables and validated."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ADDRESS = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)

KEY_FILE_NAME = "secret_key"
# Where the secret key came from: HOOKLINE_SECRET_KEY, the key file, or a key
# file written just now because there was none (see storage.key_check).
KeySource = Literal["environment", "file", "generated"]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class SsrfAllowlist:
    networks: tuple[ADDRESS, ...] = ()
    hosts: frozenset[str] = frozenset()

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./hookline.db"
    secret_key: bytes = field(default=b"", repr=False)
    key_source: KeySource = "environment"
    data_dir: Path = Path(".")
    public_url: str = "http://127.0.0.1:6060"
    ssrf_allowlist: SsrfAllowlist = SsrfAllowlist()
    max_body_bytes: int = 1024 * 1024
    login_failures_per_minute: int = 10
    token_failures_per_minute: int = 10
    signups_per_hour: int = 20
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed; no one by default.
    trusted_proxies: tuple[ADDRESS, ...] = ()
    session_max_age_s: int = 30 * 24 * 3600
    max_tokens_per_profile: int = 100
    max_webhooks_per_team: int = 8
    coalesce_window_s: float = 120.0
    coalesce_max_delay_s: float = 600.0
    delivery_lease_s: float = 30.0
    batch_linger_ms: float = 250.0
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    disable_after_failures: int = 15
    delivery_concurrency: int = 256
    delivery_concurrency_per_webhook: int = 8
    connect_timeout_s: float = 5.0
    request_timeout_s: float = 15.0
    retention_days: int = 30
    database_wait_s: float = 60.0
    log_level: str = "INFO"
    # Empty: /metrics answers anyone who reaches the port.
    metrics_token: str = field(default="", repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def parse_allowlist(raw: str) -> SsrfAllowlist:
    """``10.0.0.0/8, 127.0.0.1, hooks.internal`` -> networks and host names."""
    networks: list[ADDRESS] = []
    hosts: set[str] = set()
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            if not all(c.isalnum() or c in "-._" for c in item):
                raise SettingsError(
                    f"HOOKLINE_SSRF_ALLOWLIST: {item!r} is neither a CIDR nor a host name"
                ) from None
            hosts.add(item.lower().rstrip("."))
    return SsrfAllowlist(tuple(networks), frozenset(hosts))


def parse_trusted_proxies(raw: str) -> tuple[ADDRESS, ...]:
    """``10.0.0.5, 10.1.0.0/16`` -> networks (an address is a network of one)."""
    networks: list[ADDRESS] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"HOOKLINE_TRUSTED_PROXIES: {item!r} is neither an IP address nor a CIDR"
            ) from None
    return tuple(networks)


def parse_retry_schedule(raw: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(
            f"HOOKLINE_RETRY_SCHEDULE must be comma-separated seconds, not {raw!r}"
        ) from None
    if not values or any(v < 0 for v in values):
        raise SettingsError("HOOKLINE_RETRY_SCHEDULE needs one or more non-negative numbers")
    return values


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs people write and pick the async driver."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+asyncpg://"):
        return url
    if url.startswith(("sqlite://", "sqlite+aiosqlite://")):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    raise SettingsError(
        "HOOKLINE_DATABASE_URL must start with sqlite:/// or postgresql://, "
        f"not {url.split('://', 1)[0]!r}"
    )


def _secret_key(env: Mapping[str, str], data_dir: Path) -> tuple[bytes, KeySource]:
    raw = env.get("HOOKLINE_SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise SettingsError("HOOKLINE_SECRET_KEY must be at least 32 characters long")
        return raw.encode(), "environment"
    path = data_dir / KEY_FILE_NAME
    try:
        if path.exists():
            key = path.read_text().strip()
            if len(key) < 32:
                raise SettingsError(f"{path} holds a secret key that is too short")
            return key.encode(), "file"
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        return key.encode(), "generated"
    except OSError as exc:
        raise SettingsError(f"cannot read or create the secret key file {path}: {exc}") from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("HOOKLINE_DATA_DIR") or ".")
    database_url = normalize_database_url(
        env.get("HOOKLINE_DATABASE_URL") or f"sqlite:///{data_dir / 'hookline.db'}"
    )
    public_url = (env.get("HOOKLINE_PUBLIC_URL") or "http://127.0.0.1:6060").rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise SettingsError("HOOKLINE_PUBLIC_URL must start with http:// or https://")
    log_level = (env.get("HOOKLINE_LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("HOOKLINE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    schedule_raw = env.get("HOOKLINE_RETRY_SCHEDULE")
    secret_key, key_source = _secret_key(env, data_dir)
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        key_source=key_source,
        data_dir=data_dir,
        public_url=public_url,
        ssrf_allowlist=parse_allowlist(env.get("HOOKLINE_SSRF_ALLOWLIST", "")),
        max_body_bytes=_int(env, "HOOKLINE_MAX_BODY_BYTES", 1024 * 1024, 1024),
        login_failures_per_minute=_int(env, "HOOKLINE_LOGIN_FAILURES_PER_MINUTE", 10, 1),
        token_failures_per_minute=_int(env, "HOOKLINE_TOKEN_FAILURES_PER_MINUTE", 10, 1),
        signups_per_hour=_int(env, "HOOKLINE_SIGNUPS_PER_HOUR", 20, 1),
        trusted_proxies=parse_trusted_proxies(env.get("HOOKLINE_TRUSTED_PROXIES", "")),
        session_max_age_s=_int(env, "HOOKLINE_SESSION_MAX_AGE_S", 30 * 24 * 3600, 60),
        max_tokens_per_profile=_int(env, "HOOKLINE_MAX_TOKENS_PER_PROFILE", 100, 1),
        max_webhooks_per_team=_int(env, "HOOKLINE_MAX_WEBHOOKS_PER_TEAM", 8, 1),
        coalesce_window_s=_float(env, "HOOKLINE_COALESCE_WINDOW_S", 120.0),
        coalesce_max_delay_s=_float(env, "HOOKLINE_COALESCE_MAX_DELAY_S", 600.0),
        delivery_lease_s=_float(env, "HOOKLINE_DELIVERY_LEASE_S", 30.0, 1.0),
        batch_linger_ms=_float(env, "HOOKLINE_BATCH_LINGER_MS", 250.0),
        retry_schedule=(
            parse_retry_schedule(schedule_raw) if schedule_raw else DEFAULT_RETRY_SCHEDULE
        ),
        disable_after_failures=_int(env, "HOOKLINE_DISABLE_AFTER_FAILURES", 15, 1),
        delivery_concurrency=_int(env, "HOOKLINE_DELIVERY_CONCURRENCY", 256, 1),
        delivery_concurrency_per_webhook=_int(
            env, "HOOKLINE_DELIVERY_CONCURRENCY_PER_WEBHOOK", 8, 1
        ),
        connect_timeout_s=_float(env, "HOOKLINE_CONNECT_TIMEOUT_S", 5.0, 0.1),
        request_timeout_s=_float(env, "HOOKLINE_REQUEST_TIMEOUT_S", 15.0, 0.1),
        retention_days=_int(env, "HOOKLINE_RETENTION_DAYS", 30, 1),
        database_wait_s=_float(env, "HOOKLINE_DATABASE_WAIT_S", 60.0),
        log_level=log_level,
        metrics_token=env.get("HOOKLINE_METRICS_TOKEN", "").strip(),
    )
