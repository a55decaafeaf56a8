"""What an application may ask for. Which commands each scope reaches is
decided where the commands are known (``hookline.rpc.scopes``)."""

from __future__ import annotations

READ = "read"
WRITE = "write"
WEBHOOKS = "webhooks"

# In the order the consent page lists them, with the words it uses.
DESCRIPTIONS: dict[str, str] = {
    READ: "read your profile, teams, projects, files, comments and webhooks",
    WRITE: "read and change your teams, projects, files, comments and webhooks, as you can",
    WEBHOOKS: "read and manage the webhooks and delivery history of your teams",
}
SUPPORTED = tuple(DESCRIPTIONS)
# What a request that names no scope gets.
DEFAULT = READ


class ScopeError(ValueError):
    """A scope string naming something we do not offer."""


def parse(text: str | None) -> frozenset[str]:
    """The scopes of a space-separated ``scope`` parameter (RFC 6749 §3.3);
    none named means the default."""
    names = (text or "").split()
    if not names:
        return frozenset({DEFAULT})
    unknown = [name for name in names if name not in DESCRIPTIONS]
    if unknown:
        raise ScopeError(f"unknown scope {unknown[0][:40]!r}; offered: {' '.join(SUPPORTED)}")
    return frozenset(names)


def render(scopes: frozenset[str]) -> str:
    """The canonical string: known scopes in a fixed order."""
    return " ".join(name for name in SUPPORTED if name in scopes)
