"""Redirect URIs an application may register: absolute, no fragment, and
https, except plain http to a loopback address for native apps (RFC 8252
§7.3, §8.3). Requests must name a registered one exactly (RFC 6749 §3.1.2,
OAuth 2.1): no prefix or pattern matching, which open redirectors exploit."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_LENGTH = 2048
MAX_PER_APPLICATION = 10


def problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered, or None when it can."""
    if len(uri) > MAX_LENGTH:
        return f"a redirect URI is at most {MAX_LENGTH} characters"
    if any(char.isspace() for char in uri):
        return "a redirect URI has no spaces"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return f"{uri!r} is not a URL"
    if parts.fragment or "#" in uri:
        return "a redirect URI has no fragment (RFC 6749 §3.1.2)"
    if not parts.hostname:
        return f"{uri!r} is not an absolute URL with a host"
    if parts.username is not None or parts.password is not None:
        return "a redirect URI carries no user name or password"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http":
        if is_loopback(parts.hostname):
            return None
        return "plain http is allowed for loopback addresses only (127.0.0.1, [::1], localhost)"
    return "a redirect URI uses https (or http to a loopback address)"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
