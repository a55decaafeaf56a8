"""Libraries: shared files of a team that other files of the team use."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from hookline.auth.roles import Role
from hookline.errors import ValidationError
from hookline.rpc.commands.files import File, load_file
from hookline.rpc.context import Context
from hookline.rpc.models import Model
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import file_libraries

commands = CommandGroup()


class FileOnly(Model):
    file_id: UUID


class FileLibrary(Model):
    file_id: UUID
    library_id: UUID


@commands.command("link-file-to-library", params=FileLibrary, result=None, webhook=True)
async def link_file_to_library(ctx: Context, params: FileLibrary) -> None:
    """Let a file use a library: a shared file of the same team (editors and
    above). Linking twice changes nothing."""
    file = await load_file(ctx, params.file_id, Role.EDITOR)
    library = await load_file(ctx, params.library_id)
    if library.id == file.id or library.team_id != file.team_id or not library.is_shared:
        raise ValidationError(
            "invalid-library", "a library is another shared file of the same team"
        )
    # Two people linking at once both succeed: the second insert is a no-op.
    upsert = postgresql.insert if ctx.tx.postgres else sqlite.insert
    await ctx.conn.execute(
        upsert(file_libraries)
        .values(file_id=file.id, library_id=library.id, created_at=ctx.now)
        .on_conflict_do_nothing()
    )
    ctx.emit(file.team_id)


@commands.command("unlink-file-from-library", params=FileLibrary, result=None, webhook=True)
async def unlink_file_from_library(ctx: Context, params: FileLibrary) -> None:
    """Stop a file using a library (editors and above)."""
    file = await load_file(ctx, params.file_id, Role.EDITOR)
    await ctx.conn.execute(
        delete(file_libraries).where(
            file_libraries.c.file_id == file.id, file_libraries.c.library_id == params.library_id
        )
    )
    ctx.emit(file.team_id)


@commands.command("get-file-libraries", params=FileOnly, result=list[File])
async def get_file_libraries(ctx: Context, params: FileOnly) -> list[File]:
    """The libraries a file uses, by name."""
    file = await load_file(ctx, params.file_id)
    ids = await ctx.conn.scalars(
        select(file_libraries.c.library_id).where(file_libraries.c.file_id == file.id)
    )
    found = [await load_file(ctx, library_id) for library_id in ids]
    return sorted(found, key=lambda f: (f.name, str(f.id)))
