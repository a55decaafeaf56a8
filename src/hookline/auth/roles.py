"""Team roles and what each may do."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, bindparam, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import AuthorizationError, NotFound
from hookline.storage.prepared import Prepared
from hookline.storage.tables import team_members


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


def may_invite(inviter: Role | None, role: Role) -> bool:
    """Whether a member with role ``inviter`` (None: not a member) may invite
    someone as ``role``: owners and admins invite, never above their own role.
    An invitation is only as good as this stays true for its creator."""
    return inviter is not None and inviter.at_least(Role.ADMIN) and inviter.at_least(role)


# Built once: nearly every team command runs it.
_MEMBER_ROLE = Prepared(
    select(team_members.c.role).where(
        team_members.c.team_id == bindparam("team_id"),
        team_members.c.profile_id == bindparam("profile_id"),
    )
)


def has_role(team_id: Any, profile_id: Any, minimum: Role) -> ColumnElement[bool]:
    """A condition true where the profile's role in the team is at least
    ``minimum`` (for statements that check it themselves)."""
    # Equalities, not IN: a Prepared statement takes no expanding parameters.
    allowed = [role.value for role in Role if role.at_least(minimum)]
    return exists().where(
        team_members.c.team_id == team_id,
        team_members.c.profile_id == profile_id,
        or_(*(team_members.c.role == literal(value) for value in allowed)),
    )


async def member_role(conn: AsyncConnection, team_id: UUID, profile_id: UUID) -> Role | None:
    row = await _MEMBER_ROLE.scalar(conn, {"team_id": team_id, "profile_id": profile_id})
    return Role(row) if row is not None else None


async def require_role(
    conn: AsyncConnection, team_id: UUID, profile_id: UUID, minimum: Role = Role.VIEWER
) -> Role:
    """The caller's role in the team. A non-member learns nothing (not found);
    a member below ``minimum`` is refused (403)."""
    role = await member_role(conn, team_id, profile_id)
    if role is None:
        raise NotFound()
    if not role.at_least(minimum):
        raise AuthorizationError(
            "insufficient-permissions", f"this needs the {minimum.value} role or higher"
        )
    return role
