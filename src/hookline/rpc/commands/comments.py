"""Comment threads on files, and their replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, StringConstraints
from sqlalchemy import func, insert, select

from hookline.auth.roles import Role
from hookline.errors import NotFound, ValidationError
from hookline.ids import new_id
from hookline.rpc.commands.files import load_file
from hookline.rpc.context import Context
from hookline.rpc.models import Model
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import comment_threads, comments, profiles, team_members

commands = CommandGroup()

Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
# Profiles named in a comment: members of the file's team.
Mentions = Annotated[list[UUID], Field(max_length=100)]


class Position(Model):
    x: float
    y: float


class Comment(Model):
    id: UUID
    thread_id: UUID
    owner_id: UUID
    content: str
    mentions: list[UUID] = Field(default_factory=list)
    created_at: datetime


class Thread(Model):
    id: UUID
    file_id: UUID
    owner_id: UUID
    content: str
    position: Position | None
    page_id: UUID | None = None
    frame_id: UUID | None = None
    mentions: list[UUID] = Field(default_factory=list)
    created_at: datetime
    modified_at: datetime
    count_comments: int = 0


class CreateThread(Model):
    file_id: UUID
    content: Content
    position: Position | None = None
    page_id: UUID | None = None
    frame_id: UUID | None = None
    mentions: Mentions = Field(default_factory=list)


class CreateComment(Model):
    thread_id: UUID
    content: Content
    mentions: Mentions = Field(default_factory=list)


class FileThreads(Model):
    file_id: UUID


class Owner(Model):
    """Who wrote it, as Penpot's comment rows carry it."""

    owner_id: UUID
    owner_fullname: str
    owner_email: str


class ThreadProps(Owner):
    """The created thread's row, with its file's project and team."""

    id: UUID
    file_id: UUID
    project_id: UUID
    team_id: UUID
    content: str
    position: Position | None = None
    page_id: UUID | None = None
    frame_id: UUID | None = None
    mentions: list[UUID]
    created_at: datetime
    modified_at: datetime


class CommentProps(Owner):
    """The created comment's row, with its thread's file and team."""

    id: UUID
    thread_id: UUID
    file_id: UUID
    team_id: UUID
    content: str
    mentions: list[UUID]
    created_at: datetime
    modified_at: datetime


async def _owner(ctx: Context) -> Owner:
    row = (
        await ctx.conn.execute(
            select(profiles.c.fullname, profiles.c.email).where(profiles.c.id == ctx.profile_id)
        )
    ).one()
    return Owner(owner_id=ctx.profile_id, owner_fullname=row.fullname, owner_email=row.email)


async def _check_mentions(ctx: Context, team_id: UUID, mentions: list[UUID]) -> list[UUID]:
    """The mentioned profiles, once each, all members of the team."""
    unique = list(dict.fromkeys(mentions))
    if unique:
        found = set(
            await ctx.conn.scalars(
                select(team_members.c.profile_id).where(
                    team_members.c.team_id == team_id, team_members.c.profile_id.in_(unique)
                )
            )
        )
        if len(found) != len(unique):
            raise ValidationError("invalid-mention", "only members of the team can be mentioned")
    return unique


@commands.command(
    "create-comment-thread", params=CreateThread, result=Thread, webhook=True,
    event_props=ThreadProps,
)  # fmt: skip
async def create_comment_thread(ctx: Context, params: CreateThread) -> Thread:
    """Start a comment thread on a file (editors and above)."""
    file = await load_file(ctx, params.file_id, Role.EDITOR)
    mentions = await _check_mentions(ctx, file.team_id, params.mentions)
    position: Any = params.position.model_dump() if params.position else None
    thread = Thread(
        id=new_id(),
        file_id=file.id,
        owner_id=ctx.profile_id,
        content=params.content,
        position=params.position,
        page_id=params.page_id,
        frame_id=params.frame_id,
        mentions=mentions,
        created_at=ctx.now,
        modified_at=ctx.now,
        count_comments=1,
    )
    await ctx.conn.execute(
        insert(comment_threads).values(
            **thread.model_dump(exclude={"position", "count_comments", "mentions"}),
            position=position,
            mentions=[str(m) for m in mentions] or None,
        )
    )
    props = ThreadProps(
        **thread.model_dump(exclude={"count_comments"}),
        **(await _owner(ctx)).model_dump(exclude={"owner_id"}),
        project_id=file.project_id,
        team_id=file.team_id,
    )
    ctx.emit(file.team_id, props=props.model_dump())
    return thread


@commands.command(
    "create-comment", params=CreateComment, result=Comment, webhook=True, event_props=CommentProps
)
async def create_comment(ctx: Context, params: CreateComment) -> Comment:
    """Reply in a comment thread (editors and above)."""
    file_id = await ctx.conn.scalar(
        select(comment_threads.c.file_id).where(comment_threads.c.id == params.thread_id)
    )
    if file_id is None:
        raise NotFound("object-not-found", "there is no such comment thread")
    file = await load_file(ctx, file_id, Role.EDITOR)
    mentions = await _check_mentions(ctx, file.team_id, params.mentions)
    comment = Comment(
        id=new_id(),
        thread_id=params.thread_id,
        owner_id=ctx.profile_id,
        content=params.content,
        mentions=mentions,
        created_at=ctx.now,
    )
    await ctx.conn.execute(
        insert(comments).values(
            **comment.model_dump(exclude={"mentions"}),
            mentions=[str(m) for m in mentions] or None,
            modified_at=ctx.now,
        )
    )
    props = CommentProps(
        **comment.model_dump(),
        **(await _owner(ctx)).model_dump(exclude={"owner_id"}),
        file_id=file.id,
        team_id=file.team_id,
        modified_at=ctx.now,
    )
    ctx.emit(file.team_id, props=props.model_dump())
    return comment


@commands.command("get-comment-threads", params=FileThreads, result=list[Thread])
async def get_comment_threads(ctx: Context, params: FileThreads) -> list[Thread]:
    """A file's comment threads, oldest first, with their number of comments."""
    await load_file(ctx, params.file_id)
    replies = (
        select(func.count())
        .select_from(comments)
        .where(comments.c.thread_id == comment_threads.c.id)
        .scalar_subquery()
    )
    rows = await ctx.conn.execute(
        select(comment_threads, (replies + 1).label("count_comments"))
        .where(comment_threads.c.file_id == params.file_id)
        .order_by(comment_threads.c.created_at, comment_threads.c.id)
    )
    return [Thread.model_validate({**row._mapping, "mentions": row.mentions or []}) for row in rows]
