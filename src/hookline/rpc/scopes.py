"""Which OAuth scopes reach which commands (documented in ``/api/_doc``):

- ``read``: every ``get-*`` command;
- ``write``: every command a full personal token may call;
- ``webhooks``: the webhook and delivery commands, reading and changing;

except, for every scope, the commands that manage personal tokens, OAuth
applications and grants (an application must not mint credentials or keep
itself authorized) and those that take over the account (its password, its
deletion). The person's roles still apply to every call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hookline.oauth.scopes import READ, WEBHOOKS, WRITE
from hookline.rpc.registry import CommandGroup

ACCOUNT_COMMANDS = frozenset({"update-profile-password", "delete-profile"})


def reach(
    groups: Iterable[CommandGroup],
    *,
    webhook_groups: Iterable[CommandGroup],
    closed_groups: Iterable[CommandGroup],
) -> Mapping[str, frozenset[str]]:
    """The scopes that reach each command of ``groups``."""
    webhook_commands = {spec.name for group in webhook_groups for spec in group.commands}
    closed = ACCOUNT_COMMANDS | {spec.name for group in closed_groups for spec in group.commands}
    reached: dict[str, frozenset[str]] = {}
    for group in groups:
        for spec in group.commands:
            if spec.name in closed:
                continue
            scopes = {WRITE}
            if spec.is_query:
                scopes.add(READ)
            if spec.name in webhook_commands:
                scopes.add(WEBHOOKS)
            reached[spec.name] = frozenset(scopes)
    return reached
