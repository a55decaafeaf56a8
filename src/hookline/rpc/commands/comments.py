"""Comment threads on files, and their replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import StringConstraints
from sqlalchemy import func, insert, select

from hookline.auth.roles import Role
from hookline.errors import NotFound
from hookline.ids import new_id
from hookline.rpc.commands.files import load_file
from hookline.rpc.context import Context
from hookline.rpc.models import Model
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import comment_threads, comments

commands = CommandGroup()

Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class Position(Model):
    x: float
    y: float


class Comment(Model):
    id: UUID
    thread_id: UUID
    owner_id: UUID
    content: str
    created_at: datetime


class Thread(Model):
    id: UUID
    file_id: UUID
    owner_id: UUID
    content: str
    position: Position | None
    created_at: datetime
    modified_at: datetime
    count_comments: int = 0


class CreateThread(Model):
    file_id: UUID
    content: Content
    position: Position | None = None


class CreateComment(Model):
    thread_id: UUID
    content: Content


class FileThreads(Model):
    file_id: UUID


class ThreadExtra(Model):
    id: UUID
    project_id: UUID
    team_id: UUID


class CommentExtra(Model):
    id: UUID
    file_id: UUID
    team_id: UUID


@commands.command(
    "create-comment-thread", params=CreateThread, result=Thread, webhook=True,
    event_extra=ThreadExtra,
)  # fmt: skip
async def create_comment_thread(ctx: Context, params: CreateThread) -> Thread:
    """Start a comment thread on a file (editors and above)."""
    file = await load_file(ctx, params.file_id, Role.EDITOR)
    position: Any = params.position.model_dump() if params.position else None
    thread = Thread(
        id=new_id(),
        file_id=file.id,
        owner_id=ctx.profile_id,
        content=params.content,
        position=params.position,
        created_at=ctx.now,
        modified_at=ctx.now,
        count_comments=1,
    )
    await ctx.conn.execute(
        insert(comment_threads).values(
            **thread.model_dump(exclude={"position", "count_comments"}), position=position
        )
    )
    ctx.emit(file.team_id, id=thread.id, project_id=file.project_id, team_id=file.team_id)
    return thread


@commands.command(
    "create-comment", params=CreateComment, result=Comment, webhook=True, event_extra=CommentExtra
)
async def create_comment(ctx: Context, params: CreateComment) -> Comment:
    """Reply in a comment thread (editors and above)."""
    file_id = await ctx.conn.scalar(
        select(comment_threads.c.file_id).where(comment_threads.c.id == params.thread_id)
    )
    if file_id is None:
        raise NotFound("object-not-found", "there is no such comment thread")
    file = await load_file(ctx, file_id, Role.EDITOR)
    comment = Comment(
        id=new_id(),
        thread_id=params.thread_id,
        owner_id=ctx.profile_id,
        content=params.content,
        created_at=ctx.now,
    )
    await ctx.conn.execute(insert(comments).values(**comment.model_dump(), modified_at=ctx.now))
    ctx.emit(file.team_id, id=comment.id, file_id=file.id, team_id=file.team_id)
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
    return [Thread.model_validate(row._mapping) for row in rows]
