"""Accounts: register, log in and out, read and update the profile."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import PrivateAttr, StringConstraints
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hookline.auth import sessions
from hookline.auth.cache import identity_changed, webhooks_changed
from hookline.auth.ratelimit import address_key
from hookline.auth.roles import Role
from hookline.errors import AuthenticationError, RestrictionError, ValidationError
from hookline.ids import ZERO_ID, new_id
from hookline.rpc.context import CallInfo, Context, CookieChange
from hookline.rpc.models import Email, Empty, Model, Name, Password
from hookline.rpc.registry import CommandGroup
from hookline.services import Services
from hookline.storage.tables import profiles, projects, team_members, teams

commands = CommandGroup()

ANONYMOUS_NAME = "Anonymous User"
# What registration names the person's default team and its project (Penpot's names).
DEFAULT_TEAM_NAME = "Default"
DRAFTS_PROJECT_NAME = "Drafts"


class Theme(StrEnum):
    LIGHT = "light"
    DARK = "dark"
    SYSTEM = "system"


# A BCP 47 language tag such as "en", "pt-BR" or "zh-Hant-TW"; Penpot's own
# locale names ("pt_BR") are taken too.
Lang = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=35,
        pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}$",
    ),
]


class Profile(Model):
    id: UUID
    email: str | None = None
    fullname: str
    lang: str | None = None
    theme: str | None = None
    # The team and "Drafts" project made at registration; null for the
    # anonymous profile and for accounts older than them.
    default_team_id: UUID | None = None
    default_project_id: UUID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Penpot's name for updated_at: the same instant.
    modified_at: datetime | None = None


class RegisterProfile(Model):
    email: Email
    password: Password
    fullname: Name
    # Set by prepare_registration; never read from the request.
    _password_hash: str = PrivateAttr(default="")


class LoginWithPassword(Model):
    email: Email
    password: str
    # Set by verify_login: the profile whose password matched, and the hash it
    # matched; never read from the request.
    _profile_id: UUID = PrivateAttr(default=ZERO_ID)
    _password_hash: str = PrivateAttr(default="")


class UpdateProfile(Model):
    fullname: Name
    # Left out: unchanged; null: cleared.
    lang: Lang | None = None
    theme: Theme | None = None


class UpdateProfilePassword(Model):
    old_password: str
    password: Password


class DeleteProfile(Model):
    password: str


async def load_profile(ctx: Context, profile_id: UUID) -> Profile:
    # Only get-* commands use the cache: a command that changes the profile
    # reads its own uncommitted write.
    cache = ctx.services.identity_cache
    cached = cache.profile(profile_id) if ctx.read_only else None
    if isinstance(cached, Profile):
        return cached
    generation = cache.generation
    row = (
        await ctx.conn.execute(
            select(
                profiles.c.id,
                profiles.c.email,
                profiles.c.fullname,
                profiles.c.lang,
                profiles.c.theme,
                profiles.c.default_team_id,
                profiles.c.default_project_id,
                profiles.c.created_at,
                profiles.c.updated_at,
                profiles.c.updated_at.label("modified_at"),
            ).where(profiles.c.id == profile_id)
        )
    ).first()
    if row is None:
        raise AuthenticationError("profile-not-found", "this profile no longer exists")
    # The cache may keep the defaults: the team and project they name are
    # never deleted while they are someone's defaults (delete-team,
    # delete-project), only with the profile itself, which invalidates it.
    profile = Profile.model_validate(row._mapping)
    if ctx.read_only:
        # Kept as the answer itself: no command changes a result it is given.
        cache.keep_profile(profile_id, profile, generation)
    return profile


async def prepare_registration(services: Services, call: CallInfo, params: RegisterProfile) -> None:
    """Count the sign-up against its address, then hash the password, both
    before the write transaction: argon2 takes tens of milliseconds of CPU,
    which on SQLite would hold the write lock every other writer waits for."""
    services.signup_limiter.attempt(address_key(call.client_ip))
    params._password_hash = await services.passwords.hash(params.password)


@commands.command(
    "register-profile",
    params=RegisterProfile,
    result=Profile,
    auth=False,
    prepare=prepare_registration,
)
async def register_profile(ctx: Context, params: RegisterProfile) -> Profile:
    """Create an account with an e-mail address, a password (8 characters or more)
    and a full name. Log in afterwards with login-with-password. Each address
    may sign up a limited number of times an hour (429 with Retry-After).

    As Penpot does, the account comes with its default team, named "Default",
    owned by the new person and holding a "Drafts" project; the answer's
    default-team-id and default-project-id name them. That team is the
    person's own: it is not deleted (but goes with the account), nobody is
    invited to it, and its Drafts project is neither deleted nor moved.
    Making them raises no event: a team that has just been made has no
    webhooks to tell."""
    taken = await ctx.conn.scalar(select(profiles.c.id).where(profiles.c.email == params.email))
    if taken is not None:
        raise ValidationError("email-already-exists", "an account with this e-mail exists")
    profile_id, team_id, project_id = new_id(), new_id(), new_id()
    now = ctx.now
    await ctx.conn.execute(
        insert(teams).values(id=team_id, name=DEFAULT_TEAM_NAME, created_at=now, updated_at=now)
    )
    await ctx.conn.execute(
        insert(projects).values(
            id=project_id,
            team_id=team_id,
            name=DRAFTS_PROJECT_NAME,
            is_pinned=False,
            created_at=now,
            modified_at=now,
        )
    )
    try:
        await ctx.conn.execute(
            insert(profiles).values(
                id=profile_id,
                email=params.email,
                fullname=params.fullname,
                password_hash=params._password_hash,
                default_team_id=team_id,
                default_project_id=project_id,
                created_at=now,
                updated_at=now,
            )
        )
    except IntegrityError:
        # Signed up meanwhile: the whole transaction, team included, rolls back.
        raise ValidationError(
            "email-already-exists", "an account with this e-mail exists"
        ) from None
    await ctx.conn.execute(
        insert(team_members).values(
            team_id=team_id, profile_id=profile_id, role=Role.OWNER.value, created_at=now
        )
    )
    return await load_profile(ctx, profile_id)


_WRONG_CREDENTIALS = "the e-mail or the password is wrong"


async def verify_login(services: Services, call: CallInfo, params: LoginWithPassword) -> None:
    """Count the attempt, then check the password, before the write
    transaction (argon2 would hold SQLite's write lock meanwhile).

    The attempt is counted before the check and in one step with it, so
    parallel guesses get no more tries than the limit; a success takes it
    back. Counted per account and address, and per address, never per
    account alone: failures from one address do not lock the owner out."""
    limiter = services.login_limiter
    address = address_key(call.client_ip)
    account_here = f"account:{params.email}|{address}"
    attempt = limiter.attempt(account_here, address)
    async with services.db.read() as conn:
        row = (
            await conn.execute(
                select(profiles.c.id, profiles.c.password_hash).where(
                    profiles.c.email == params.email
                )
            )
        ).first()
    password_hash = row.password_hash if row is not None else None
    if not await services.passwords.verify(password_hash, params.password) or row is None:
        raise ValidationError("wrong-credentials", _WRONG_CREDENTIALS)
    limiter.reset(account_here)
    limiter.forgive(attempt, address)
    params._profile_id = row.id
    params._password_hash = row.password_hash


@commands.command(
    "login-with-password",
    params=LoginWithPassword,
    result=Profile,
    auth=False,
    prepare=verify_login,
)
async def login_with_password(ctx: Context, params: LoginWithPassword) -> Profile:
    """Check e-mail and password and start a session: the answer sets an
    HttpOnly, SameSite=Lax session cookie. Repeated failures for one account
    from one address, or for any accounts from one address, are refused for a
    while (429 with Retry-After); others keep signing in to that account."""
    profile_id = params._profile_id
    current = await ctx.conn.scalar(
        select(profiles.c.password_hash).where(profiles.c.id == profile_id)
    )
    if current is None or current != params._password_hash:
        # The password changed, or the profile went, since it was checked.
        raise ValidationError("wrong-credentials", _WRONG_CREDENTIALS)
    settings = ctx.services.settings
    if ctx.call.session_key:
        # A fresh session id at every login: a planted cookie is never promoted.
        await sessions.delete_session(ctx.conn, settings.secret_key, ctx.call.session_key)
    key = await sessions.create_session(
        ctx.conn, settings.secret_key, profile_id, ctx.now, settings.session_max_age_s
    )
    ctx.call.cookies.append(CookieChange(sessions.COOKIE_NAME, key, settings.session_max_age_s))
    return await load_profile(ctx, profile_id)


@commands.command("logout", params=Empty, result=None, auth=False)
async def logout(ctx: Context, params: Empty) -> None:
    """End the current browser session and clear its cookie."""
    if ctx.call.session_key:
        await sessions.delete_session(
            ctx.conn, ctx.services.settings.secret_key, ctx.call.session_key
        )
    ctx.call.cookies.append(CookieChange(sessions.COOKIE_NAME, None))


@commands.command("get-profile", params=Empty, result=Profile, auth=False)
async def get_profile(ctx: Context, params: Empty) -> Profile:
    """The caller's profile, with Penpot's default-team-id and
    default-project-id (the team and Drafts project made at registration;
    null for accounts made before Hookline had them), lang and theme (null
    until chosen with update-profile) and modified-at (the same instant as
    updated-at). Without credentials: the anonymous profile, id
    00000000-0000-0000-0000-000000000000 and full name "Anonymous User"."""
    if ctx.identity is None:
        return Profile(id=ZERO_ID, fullname=ANONYMOUS_NAME)
    return await load_profile(ctx, ctx.identity.profile_id)


class ProfileExtra(Model):
    id: UUID


@commands.command(
    "update-profile", params=UpdateProfile, result=Profile, webhook=True, event_extra=ProfileExtra
)
async def update_profile(ctx: Context, params: UpdateProfile) -> Profile:
    """Change the caller's full name and, when given, the interface language
    (`lang`, a BCP 47 tag such as "en" or "pt-BR", at most 35 characters)
    and theme ("light", "dark" or "system"); null clears either, and one left
    out stays as it is (Penpot clears a language left out). Raises the "user
    updated" event in every team the caller belongs to."""
    changes: dict[str, object] = {"fullname": params.fullname, "updated_at": ctx.now}
    for name in ("lang", "theme"):
        if name in params.model_fields_set:
            changes[name] = getattr(params, name)
    await ctx.conn.execute(update(profiles).where(profiles.c.id == ctx.profile_id).values(changes))
    await identity_changed(ctx.services.identity_cache, ctx.conn, ctx.after_commit)
    team_ids = await ctx.conn.scalars(
        select(team_members.c.team_id).where(team_members.c.profile_id == ctx.profile_id)
    )
    for team_id in team_ids:
        ctx.emit(team_id, id=ctx.profile_id)
    return await load_profile(ctx, ctx.profile_id)


@commands.command("update-profile-password", params=UpdateProfilePassword, result=None)
async def update_profile_password(ctx: Context, params: UpdateProfilePassword) -> None:
    """Change the caller's password, given the current one. Every other browser
    session of the profile ends."""
    current = await ctx.conn.scalar(
        select(profiles.c.password_hash).where(profiles.c.id == ctx.profile_id)
    )
    if not await ctx.services.passwords.verify(current, params.old_password):
        raise ValidationError("old-password-not-match", "the current password is wrong")
    await ctx.conn.execute(
        update(profiles)
        .where(profiles.c.id == ctx.profile_id)
        .values(
            password_hash=await ctx.services.passwords.hash(params.password), updated_at=ctx.now
        )
    )
    await identity_changed(ctx.services.identity_cache, ctx.conn, ctx.after_commit)
    keep = ctx.identity.session_id if ctx.identity else None
    await sessions.delete_other_sessions(ctx.conn, ctx.profile_id, keep)


@commands.command("delete-profile", params=DeleteProfile, result=None, bulk=True)
async def delete_profile(ctx: Context, params: DeleteProfile) -> None:
    """Delete the caller's account, given its password, with its sessions and
    access tokens. Teams where the caller is the only member go too, the
    default team among them; a caller who is the only owner of a team with
    other members must hand it over first."""
    current = await ctx.conn.scalar(
        select(profiles.c.password_hash).where(profiles.c.id == ctx.profile_id)
    )
    if not await ctx.services.passwords.verify(current, params.password):
        raise ValidationError("wrong-credentials", "the password is wrong")
    mine = (
        await ctx.conn.execute(
            select(team_members.c.team_id, team_members.c.role).where(
                team_members.c.profile_id == ctx.profile_id
            )
        )
    ).all()
    solo_teams: list[UUID] = []
    for team_id, role in mine:
        members = await ctx.conn.scalar(
            select(func.count()).where(team_members.c.team_id == team_id)
        )
        if members == 1:
            solo_teams.append(team_id)
            continue
        if role == "owner":
            owners = await ctx.conn.scalar(
                select(func.count()).where(
                    team_members.c.team_id == team_id, team_members.c.role == "owner"
                )
            )
            if owners == 1:
                raise RestrictionError(
                    "owner-of-shared-team",
                    "you are the only owner of a team with other members: "
                    "make someone else owner first",
                )
    if solo_teams:
        await webhooks_changed(ctx.services.identity_cache, ctx.tx)
        await ctx.conn.execute(delete(teams).where(teams.c.id.in_(solo_teams)))
    await ctx.conn.execute(delete(profiles).where(profiles.c.id == ctx.profile_id))
    await identity_changed(ctx.services.identity_cache, ctx.conn, ctx.after_commit)
    ctx.call.cookies.append(CookieChange(sessions.COOKIE_NAME, None))
