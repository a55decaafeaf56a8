"""Teams, their members and invitations."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Label, Row, delete, exists, func, insert, select, update

from hookline.auth.cache import webhooks_changed
from hookline.auth.hashing import keyed_hash
from hookline.auth.roles import Role, may_invite, member_role, require_role
from hookline.errors import AuthorizationError, NotFound, RestrictionError, ValidationError
from hookline.ids import new_id
from hookline.rpc.context import Context
from hookline.rpc.models import Email, Empty, Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import profiles, team_invitations, team_members, teams

commands = CommandGroup()

INVITATION_TTL = timedelta(days=7)
_INVITATION_PURPOSE = "team-invitation"


class Team(Model):
    id: UUID
    name: str
    role: Role
    # The default team made with its owner's account (see register-profile).
    is_default: bool
    created_at: datetime
    updated_at: datetime


class Member(Model):
    id: UUID
    email: str
    fullname: str
    role: Role
    joined_at: datetime


class Invitation(Model):
    id: UUID
    team_id: UUID
    email: str
    role: Role
    token: str
    expires_at: datetime


class PendingInvitation(Model):
    """An invitation that can still be accepted; its token is never shown again."""

    id: UUID
    team_id: UUID
    email: str
    role: Role
    invited_by: UUID
    created_at: datetime
    expires_at: datetime


class TeamId(Model):
    id: UUID


class InvitationId(Model):
    id: UUID


class CreateTeam(Model):
    name: Name


class UpdateTeam(Model):
    id: UUID
    name: Name


class TeamMembers(Model):
    team_id: UUID


class CreateInvitation(Model):
    team_id: UUID
    email: Email
    role: Role = Role.EDITOR


class AcceptInvitation(Model):
    token: str


class UpdateMemberRole(Model):
    team_id: UUID
    member_id: UUID
    role: Role


class DeleteMember(Model):
    team_id: UUID
    member_id: UUID


def is_default_team(team_id: Any = teams.c.id) -> Label[bool]:
    """Whether the team is someone's default team. Nobody is ever invited
    to one, so that someone is its only member, and its owner."""
    return exists().where(profiles.c.default_team_id == team_id).label("is_default")


async def refuse_default_team(ctx: Context, team_id: UUID, code: str, hint: str) -> None:
    if await ctx.conn.scalar(select(is_default_team(team_id))):
        raise ValidationError(code, hint)


async def load_team(ctx: Context, team_id: UUID) -> Team:
    row = (
        await ctx.conn.execute(
            select(
                teams.c.id,
                teams.c.name,
                teams.c.created_at,
                teams.c.updated_at,
                team_members.c.role,
                is_default_team(),
            )
            .join(team_members, team_members.c.team_id == teams.c.id)
            .where(teams.c.id == team_id, team_members.c.profile_id == ctx.profile_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return Team.model_validate(row._mapping)


async def lock_team(ctx: Context, team_id: UUID) -> None:
    """Take the team row's lock (PostgreSQL; SQLite has one writer anyway)
    until the transaction ends. Every change of who is in a team and with
    which role, and every use or withdrawal of an invitation, takes it first,
    so the rules that count members (a team keeps an owner, an invitation is
    used once and only while its creator may still grant its role) are each
    decided on the data as the previous change left it. ``FOR NO KEY
    UPDATE`` leaves inserts that only refer to the team (projects, webhooks,
    events) free to go on."""
    await ctx.conn.execute(
        select(teams.c.id).where(teams.c.id == team_id).with_for_update(key_share=True)
    )


async def count_owners(ctx: Context, team_id: UUID) -> int:
    return int(
        await ctx.conn.scalar(
            select(func.count()).where(
                team_members.c.team_id == team_id, team_members.c.role == Role.OWNER.value
            )
        )
        or 0
    )


@commands.command("create-team", params=CreateTeam, result=Team)
async def create_team(ctx: Context, params: CreateTeam) -> Team:
    """Create a team; the caller becomes its owner."""
    team_id = new_id()
    await ctx.conn.execute(
        insert(teams).values(id=team_id, name=params.name, created_at=ctx.now, updated_at=ctx.now)
    )
    await ctx.conn.execute(
        insert(team_members).values(
            team_id=team_id, profile_id=ctx.profile_id, role=Role.OWNER.value, created_at=ctx.now
        )
    )
    return await load_team(ctx, team_id)


@commands.command("get-teams", params=Empty, result=list[Team])
async def get_teams(ctx: Context, params: Empty) -> list[Team]:
    """The teams the caller belongs to, with the caller's role in each: the
    caller's default team first, then by name."""
    is_default = is_default_team()
    rows = await ctx.conn.execute(
        select(
            teams.c.id,
            teams.c.name,
            teams.c.created_at,
            teams.c.updated_at,
            team_members.c.role,
            is_default,
        )
        .join(team_members, team_members.c.team_id == teams.c.id)
        .where(team_members.c.profile_id == ctx.profile_id)
        .order_by(is_default.desc(), teams.c.name, teams.c.id)
    )
    return [Team.model_validate(row._mapping) for row in rows]


@commands.command("get-team", params=TeamId, result=Team)
async def get_team(ctx: Context, params: TeamId) -> Team:
    """One team the caller belongs to."""
    return await load_team(ctx, params.id)


@commands.command("update-team", params=UpdateTeam, result=Team, webhook=True)
async def update_team(ctx: Context, params: UpdateTeam) -> Team:
    """Rename a team (owners and admins). Raises the "organization updated" event."""
    await require_role(ctx.conn, params.id, ctx.profile_id, Role.ADMIN)
    await ctx.conn.execute(
        update(teams).where(teams.c.id == params.id).values(name=params.name, updated_at=ctx.now)
    )
    ctx.emit(params.id)
    return await load_team(ctx, params.id)


@commands.command("delete-team", params=TeamId, result=None, bulk=True)
async def delete_team(ctx: Context, params: TeamId) -> None:
    """Delete a team with everything in it: projects, files, webhooks and their
    history (owners only). A default team cannot be deleted (400
    non-deletable-team): it goes with its owner's account."""
    await require_role(ctx.conn, params.id, ctx.profile_id, Role.OWNER)
    await refuse_default_team(
        ctx,
        params.id,
        "non-deletable-team",
        "a default team cannot be deleted: it goes with its owner's account",
    )
    # Its webhooks go with it.
    await webhooks_changed(ctx.services.identity_cache, ctx.tx)
    await ctx.conn.execute(delete(teams).where(teams.c.id == params.id))


@commands.command("get-team-members", params=TeamMembers, result=list[Member])
async def get_team_members(ctx: Context, params: TeamMembers) -> list[Member]:
    """The members of a team with their roles."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id)
    rows = await ctx.conn.execute(
        select(
            profiles.c.id,
            profiles.c.email,
            profiles.c.fullname,
            team_members.c.role,
            team_members.c.created_at.label("joined_at"),
        )
        .join(team_members, team_members.c.profile_id == profiles.c.id)
        .where(team_members.c.team_id == params.team_id)
        .order_by(team_members.c.created_at, profiles.c.id)
    )
    return [Member.model_validate(row._mapping) for row in rows]


@commands.command("create-team-invitation", params=CreateInvitation, result=Invitation)
async def create_team_invitation(ctx: Context, params: CreateInvitation) -> Invitation:
    """Invite someone by e-mail with a role (owners and admins; no role above
    the inviter's own, so only owners invite owners). The answer holds the
    invitation token: pass it on, the invitee accepts it with
    accept-team-invitation. It stops working after 7 days, once used, once
    withdrawn with delete-team-invitation, and while its creator may no longer
    grant its role (removed from the team, or demoted below it). Nobody is
    invited to a default team (400 cant-invite-to-default-team): it is its
    owner's own, as in Penpot, where it offers no invitations."""
    role = await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.ADMIN)
    if not may_invite(role, params.role):
        raise AuthorizationError("insufficient-permissions", "only owners invite owners")
    await refuse_default_team(
        ctx,
        params.team_id,
        "cant-invite-to-default-team",
        "a default team is its owner's own: create a team to work with others",
    )
    token = secrets.token_urlsafe(32)
    invitation_id = new_id()
    expires_at = ctx.now + INVITATION_TTL
    await ctx.conn.execute(
        insert(team_invitations).values(
            id=invitation_id,
            team_id=params.team_id,
            email=params.email,
            role=params.role.value,
            token_hash=keyed_hash(
                ctx.services.settings.secret_key, token, purpose=_INVITATION_PURPOSE
            ),
            invited_by=ctx.profile_id,
            created_at=ctx.now,
            expires_at=expires_at,
        )
    )
    return Invitation(
        id=invitation_id,
        team_id=params.team_id,
        email=params.email,
        role=params.role,
        token=token,
        expires_at=expires_at,
    )


class InvitationAccepted(Model):
    """The new member: the invitation token itself is never part of an event."""

    team_id: UUID
    member_id: UUID
    email: str
    role: Role


@commands.command(
    "accept-team-invitation",
    params=AcceptInvitation,
    result=Team,
    webhook=True,
    event_props=InvitationAccepted,
)
async def accept_team_invitation(ctx: Context, params: AcceptInvitation) -> Team:
    """Join the team of an invitation addressed to the caller's e-mail. Each
    invitation is used once: of several accepts at the same moment one
    succeeds and the others answer 404 invitation-not-found, as they do for an
    invitation that was deleted or whose creator may no longer grant its role."""
    token_hash = keyed_hash(
        ctx.services.settings.secret_key, params.token, purpose=_INVITATION_PURPOSE
    )
    find = select(team_invitations).where(team_invitations.c.token_hash == token_hash)
    invitation = (await ctx.conn.execute(find)).first()
    if invitation is not None:
        await lock_team(ctx, invitation.team_id)
        # Read again under the lock: an accept that held it may have used it.
        invitation = (await ctx.conn.execute(find)).first()
    if invitation is None or not await _still_granted(ctx, invitation):
        raise NotFound(
            "invitation-not-found", "this invitation does not exist, was used or was withdrawn"
        )
    if invitation.expires_at <= ctx.now:
        raise ValidationError("invitation-expired", "this invitation has expired")
    email = await ctx.conn.scalar(select(profiles.c.email).where(profiles.c.id == ctx.profile_id))
    if email != invitation.email:
        raise ValidationError(
            "invitation-email-mismatch", "this invitation is for another e-mail address"
        )
    current = await ctx.conn.scalar(
        select(team_members.c.role).where(
            team_members.c.team_id == invitation.team_id,
            team_members.c.profile_id == ctx.profile_id,
        )
    )
    if current is None:
        await ctx.conn.execute(
            insert(team_members).values(
                team_id=invitation.team_id,
                profile_id=ctx.profile_id,
                role=invitation.role,
                created_at=ctx.now,
            )
        )
    elif Role(invitation.role).rank > Role(current).rank:
        await ctx.conn.execute(
            update(team_members)
            .where(
                team_members.c.team_id == invitation.team_id,
                team_members.c.profile_id == ctx.profile_id,
            )
            .values(role=invitation.role)
        )
    await ctx.conn.execute(delete(team_invitations).where(team_invitations.c.id == invitation.id))
    ctx.emit(
        invitation.team_id,
        props={
            "team_id": invitation.team_id,
            "member_id": ctx.profile_id,
            "email": invitation.email,
            "role": invitation.role,
        },
    )
    return await load_team(ctx, invitation.team_id)


async def _still_granted(ctx: Context, invitation: Row[Any]) -> bool:
    """Whether the invitation's creator may still grant its role."""
    if invitation.invited_by is None:  # their profile was deleted
        return False
    inviter = await member_role(ctx.conn, invitation.team_id, invitation.invited_by)
    return may_invite(inviter, Role(invitation.role))


async def _member_role(ctx: Context, team_id: UUID, member_id: UUID) -> Role:
    role = await ctx.conn.scalar(
        select(team_members.c.role).where(
            team_members.c.team_id == team_id, team_members.c.profile_id == member_id
        )
    )
    if role is None:
        raise NotFound("member-not-found", "no such member in this team")
    return Role(role)


@commands.command("update-team-member-role", params=UpdateMemberRole, result=Member, webhook=True)
async def update_team_member_role(ctx: Context, params: UpdateMemberRole) -> Member:
    """Change a member's role (owners and admins). Only owners grant or take
    away the owner role, and a team always keeps one owner."""
    await lock_team(ctx, params.team_id)
    caller = await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.ADMIN)
    target = await _member_role(ctx, params.team_id, params.member_id)
    if Role.OWNER in (params.role, target) and caller is not Role.OWNER:
        raise AuthorizationError("insufficient-permissions", "only owners change owners")
    if target is Role.OWNER and params.role is not Role.OWNER:
        if await count_owners(ctx, params.team_id) == 1:
            raise RestrictionError("last-owner", "a team needs an owner: make another one first")
    await ctx.conn.execute(
        update(team_members)
        .where(
            team_members.c.team_id == params.team_id,
            team_members.c.profile_id == params.member_id,
        )
        .values(role=params.role.value)
    )
    ctx.emit(params.team_id)
    members = await get_team_members(ctx, TeamMembers(team_id=params.team_id))
    return next(m for m in members if m.id == params.member_id)


@commands.command("delete-team-member", params=DeleteMember, result=None, webhook=True)
async def delete_team_member(ctx: Context, params: DeleteMember) -> None:
    """Remove a member from a team (owners and admins; only owners remove
    owners). Members leave on their own with leave-team."""
    await lock_team(ctx, params.team_id)
    caller = await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.ADMIN)
    if params.member_id == ctx.profile_id:
        raise RestrictionError("cannot-remove-self", "to leave a team, use leave-team")
    target = await _member_role(ctx, params.team_id, params.member_id)
    if target is Role.OWNER and caller is not Role.OWNER:
        raise AuthorizationError("insufficient-permissions", "only owners remove owners")
    await ctx.conn.execute(
        delete(team_members).where(
            team_members.c.team_id == params.team_id,
            team_members.c.profile_id == params.member_id,
        )
    )
    ctx.emit(params.team_id)


@commands.command("leave-team", params=TeamId, result=None)
async def leave_team(ctx: Context, params: TeamId) -> None:
    """Leave a team. The last owner cannot leave: make another member owner
    first, or delete the team."""
    await lock_team(ctx, params.id)
    role = await require_role(ctx.conn, params.id, ctx.profile_id)
    if role is Role.OWNER and await count_owners(ctx, params.id) == 1:
        raise RestrictionError(
            "owner-cant-leave-team", "you are the last owner: make another member owner first"
        )
    await ctx.conn.execute(
        delete(team_members).where(
            team_members.c.team_id == params.id, team_members.c.profile_id == ctx.profile_id
        )
    )


@commands.command("get-team-invitations", params=TeamMembers, result=list[PendingInvitation])
async def get_team_invitations(ctx: Context, params: TeamMembers) -> list[PendingInvitation]:
    """The team's invitations that can still be accepted, oldest first (owners
    and admins). Expired ones are left out, and so are those whose creator
    may no longer grant their role (removed from the team, or demoted below
    it): those are void."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.ADMIN)
    rows = await ctx.conn.execute(
        select(
            team_invitations.c.id,
            team_invitations.c.team_id,
            team_invitations.c.email,
            team_invitations.c.role,
            team_invitations.c.invited_by,
            team_invitations.c.created_at,
            team_invitations.c.expires_at,
            team_members.c.role.label("inviter_role"),
        )
        .join(
            team_members,
            (team_members.c.team_id == team_invitations.c.team_id)
            & (team_members.c.profile_id == team_invitations.c.invited_by),
        )
        .where(
            team_invitations.c.team_id == params.team_id,
            team_invitations.c.expires_at > ctx.now,
        )
        .order_by(team_invitations.c.created_at, team_invitations.c.id)
    )
    return [
        PendingInvitation.model_validate(row._mapping)
        for row in rows
        if may_invite(Role(row.inviter_role), Role(row.role))
    ]


@commands.command("delete-team-invitation", params=InvitationId, result=None)
async def delete_team_invitation(ctx: Context, params: InvitationId) -> None:
    """Withdraw an invitation, so its token no longer lets anyone in (owners
    and admins; only owners withdraw invitations to the owner role). An
    invitation of another team is not found."""
    invitation = (
        await ctx.conn.execute(
            select(team_invitations.c.team_id, team_invitations.c.role).where(
                team_invitations.c.id == params.id
            )
        )
    ).first()
    if invitation is None:
        raise NotFound()
    await lock_team(ctx, invitation.team_id)
    caller = await require_role(ctx.conn, invitation.team_id, ctx.profile_id, Role.ADMIN)
    if not may_invite(caller, Role(invitation.role)):
        raise AuthorizationError(
            "insufficient-permissions", "only owners withdraw invitations to the owner role"
        )
    withdrawn = await ctx.conn.execute(
        delete(team_invitations).where(team_invitations.c.id == params.id)
    )
    if withdrawn.rowcount == 0:  # accepted while this waited for the lock
        raise NotFound()
