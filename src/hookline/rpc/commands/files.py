"""Files: a project's design documents, edited by revision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field
from sqlalchemy import delete, insert, select, update

from hookline.auth.roles import Role, require_role
from hookline.errors import ConflictError, NotFound, ValidationError
from hookline.ids import new_id
from hookline.rpc.commands.projects import load_project
from hookline.rpc.context import Context
from hookline.rpc.models import INT_COLUMN_MAX, Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import file_libraries, files, projects

commands = CommandGroup()

DEFAULT_FEATURES = ["components/v2", "styles/v2"]


class File(Model):
    id: UUID
    project_id: UUID
    team_id: UUID
    name: str
    is_shared: bool
    revn: int
    features: list[str]
    created_at: datetime
    modified_at: datetime


class FileWithData(File):
    data: Any = None


class CreateFile(Model):
    project_id: UUID
    name: Name
    is_shared: bool = False


class RenameFile(Model):
    id: UUID
    name: Name


class UpdateFile(Model):
    id: UUID
    # The next revision, revn + 1, must fit the column too.
    revn: int = Field(ge=0, lt=INT_COLUMN_MAX)
    changes: list[Any] = Field(max_length=10_000)


class SetFileShared(Model):
    id: UUID
    is_shared: bool


class MoveFiles(Model):
    ids: list[UUID] = Field(min_length=1, max_length=500)
    project_id: UUID


class FileId(Model):
    id: UUID


class DuplicateFile(Model):
    file_id: UUID
    name: Name | None = None


class ProjectFiles(Model):
    project_id: UUID


class FileEventExtra(Model):
    """Added to file events, as Penpot does."""

    project_id: UUID
    team_id: UUID


class RenameFileExtra(FileEventExtra):
    created_at: datetime
    modified_at: datetime


class SetFileSharedExtra(FileEventExtra):
    name: str


class DeleteFileExtra(FileEventExtra):
    name: str
    created_at: datetime
    modified_at: datetime


# A set, as in Penpot's events: unique items, and ~#set in Transit deliveries.
FeatureSet = Annotated[list[str], Field(json_schema_extra={"uniqueItems": True})]


class UpdateFileProps(Model):
    """update-file events carry the file, never the changes."""

    id: UUID
    name: str
    project_id: UUID
    team_id: UUID
    features: FeatureSet


class MoveFilesExtra(Model):
    team_id: UUID


_COLUMNS = (
    files.c.id,
    files.c.project_id,
    projects.c.team_id,
    files.c.name,
    files.c.is_shared,
    files.c.revn,
    files.c.features,
    files.c.created_at,
    files.c.modified_at,
)


async def load_file(ctx: Context, file_id: UUID, minimum: Role = Role.VIEWER) -> File:
    row = (
        await ctx.conn.execute(
            select(*_COLUMNS)
            .join(projects, projects.c.id == files.c.project_id)
            .where(files.c.id == file_id)
        )
    ).first()
    if row is None:
        raise NotFound("object-not-found", "there is no such file")
    await require_role(ctx.conn, row.team_id, ctx.profile_id, minimum)
    return File.model_validate(row._mapping)


@commands.command(
    "create-file", params=CreateFile, result=File, webhook=True, event_extra=FileEventExtra
)
async def create_file(ctx: Context, params: CreateFile) -> File:
    """Create a file in a project (editors and above)."""
    project = await load_project(ctx, params.project_id, Role.EDITOR)
    file = File(
        id=new_id(),
        project_id=project.id,
        team_id=project.team_id,
        name=params.name,
        is_shared=params.is_shared,
        revn=0,
        features=DEFAULT_FEATURES,
        created_at=ctx.now,
        modified_at=ctx.now,
    )
    await ctx.conn.execute(insert(files), {**file.model_dump(exclude={"team_id"}), "data": None})
    ctx.emit(project.team_id, id=file.id, team_id=project.team_id)
    return file


@commands.command(
    "rename-file", params=RenameFile, result=File, webhook=True, event_extra=RenameFileExtra
)
async def rename_file(ctx: Context, params: RenameFile) -> File:
    """Rename a file (editors and above)."""
    file = await load_file(ctx, params.id, Role.EDITOR)
    await ctx.conn.execute(
        update(files).where(files.c.id == params.id).values(name=params.name, modified_at=ctx.now)
    )
    ctx.emit(
        file.team_id,
        project_id=file.project_id,
        team_id=file.team_id,
        created_at=file.created_at,
        modified_at=ctx.now,
    )
    return file.model_copy(update={"name": params.name, "modified_at": ctx.now})


@commands.command(
    "update-file", params=UpdateFile, result=File, webhook=True, event_props=UpdateFileProps
)
async def update_file(ctx: Context, params: UpdateFile) -> File:
    """Apply changes to a file at revision `revn`; the file's revision goes up by
    one. A stale `revn` answers 409 `revn-conflict`. Its events are coalesced per
    person and file (one per quiet window, never delayed past a cap) and carry
    the file's id, name, project, team and features, never the changes."""
    file = await load_file(ctx, params.id, Role.EDITOR)
    changed = await ctx.conn.execute(
        update(files)
        .where(files.c.id == params.id, files.c.revn == params.revn)
        .values(revn=params.revn + 1, data={"changes": params.changes}, modified_at=ctx.now)
    )
    if not changed.rowcount:
        raise ConflictError(
            "revn-conflict",
            f"the file is at revision {file.revn}, not {params.revn}: reload and retry",
        )
    ctx.emit(
        file.team_id,
        props=UpdateFileProps.model_validate(file.model_dump()).model_dump(),
        coalesce_key=f"update-file:{ctx.profile_id}:{file.id}",
    )
    return file.model_copy(update={"revn": params.revn + 1, "modified_at": ctx.now})


@commands.command(
    "set-file-shared",
    params=SetFileShared,
    result=None,
    webhook=True,
    event_extra=SetFileSharedExtra,
)
async def set_file_shared(ctx: Context, params: SetFileShared) -> None:
    """Share a file as a library with the team, or stop sharing it, which
    unlinks it from the files that used it (editors and above)."""
    file = await load_file(ctx, params.id, Role.EDITOR)
    await ctx.conn.execute(
        update(files).where(files.c.id == params.id).values(is_shared=params.is_shared)
    )
    if not params.is_shared:
        # Only shared files are libraries: files using this one stop, as in Penpot.
        await ctx.conn.execute(delete(file_libraries).where(file_libraries.c.library_id == file.id))
    ctx.emit(file.team_id, project_id=file.project_id, team_id=file.team_id, name=file.name)


@commands.command(
    "move-files",
    params=MoveFiles,
    result=None,
    webhook=True,
    event_extra=MoveFilesExtra,
    bulk=True,
)
async def move_files(ctx: Context, params: MoveFiles) -> None:
    """Move files to another project of the same team (editors and above)."""
    target = await load_project(ctx, params.project_id, Role.EDITOR)
    for file_id in dict.fromkeys(params.ids):
        file = await load_file(ctx, file_id, Role.EDITOR)
        if file.team_id != target.team_id:
            raise ValidationError(
                "cant-move-to-other-team", "files move only between projects of one team"
            )
    await ctx.conn.execute(
        update(files)
        .where(files.c.id.in_(params.ids))
        .values(project_id=target.id, modified_at=ctx.now)
    )
    ctx.emit(target.team_id, team_id=target.team_id)


@commands.command(
    "delete-file",
    params=FileId,
    result=None,
    webhook=True,
    event_extra=DeleteFileExtra,
    bulk=True,
)
async def delete_file(ctx: Context, params: FileId) -> None:
    """Delete a file with its comments (editors and above)."""
    file = await load_file(ctx, params.id, Role.EDITOR)
    await ctx.conn.execute(delete(files).where(files.c.id == params.id))
    ctx.emit(
        file.team_id,
        project_id=file.project_id,
        team_id=file.team_id,
        name=file.name,
        created_at=file.created_at,
        modified_at=file.modified_at,
    )


@commands.command("duplicate-file", params=DuplicateFile, result=File, webhook=True)
async def duplicate_file(ctx: Context, params: DuplicateFile) -> File:
    """Copy a file, with its data and the libraries it uses, into its project
    (editors and above); answers the copy."""
    file = await load_file(ctx, params.file_id, Role.EDITOR)
    data = await ctx.conn.scalar(select(files.c.data).where(files.c.id == file.id))
    copy = file.model_copy(
        update={
            "id": new_id(),
            "name": params.name or f"{file.name} (copy)",
            "created_at": ctx.now,
            "modified_at": ctx.now,
        }
    )
    await ctx.conn.execute(insert(files), {**copy.model_dump(exclude={"team_id"}), "data": data})
    links = await ctx.conn.scalars(
        select(file_libraries.c.library_id).where(file_libraries.c.file_id == file.id)
    )
    rows = [{"file_id": copy.id, "library_id": lib, "created_at": ctx.now} for lib in links]
    if rows:
        await ctx.conn.execute(insert(file_libraries), rows)
    ctx.emit(file.team_id)
    return copy


@commands.command("get-project-files", params=ProjectFiles, result=list[File])
async def get_project_files(ctx: Context, params: ProjectFiles) -> list[File]:
    """A project's files, by name."""
    await load_project(ctx, params.project_id)
    rows = await ctx.conn.execute(
        select(*_COLUMNS)
        .join(projects, projects.c.id == files.c.project_id)
        .where(files.c.project_id == params.project_id)
        .order_by(files.c.name, files.c.id)
    )
    return [File.model_validate(row._mapping) for row in rows]


@commands.command("get-file", params=FileId, result=FileWithData)
async def get_file(ctx: Context, params: FileId) -> FileWithData:
    """A file with its data (the changes of its last update)."""
    file = await load_file(ctx, params.id)
    data = await ctx.conn.scalar(select(files.c.data).where(files.c.id == params.id))
    return FileWithData(**file.model_dump(), data=data)
