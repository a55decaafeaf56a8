"""The explicit list of command modules the API serves."""

from __future__ import annotations

from hookline.rpc import scopes
from hookline.rpc.commands import (
    access_tokens,
    binfile,
    comments,
    deliveries,
    files,
    fonts,
    libraries,
    oauth_applications,
    profile,
    projects,
    teams,
    templates,
    webhooks,
)
from hookline.rpc.registry import CommandGroup, Registry

GROUPS: tuple[CommandGroup, ...] = (
    profile.commands,
    access_tokens.commands,
    oauth_applications.commands,
    teams.commands,
    projects.commands,
    files.commands,
    libraries.commands,
    binfile.commands,
    templates.commands,
    fonts.commands,
    comments.commands,
    webhooks.commands,
    deliveries.commands,
)


def build_registry() -> Registry:
    oauth_scopes = scopes.reach(
        GROUPS,
        webhook_groups=(webhooks.commands, deliveries.commands),
        closed_groups=(access_tokens.commands, oauth_applications.commands),
    )
    return Registry(GROUPS, oauth_scopes)
