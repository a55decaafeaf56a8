"""Files exported as one archive and imported back: a zip holding a
manifest and each file's data, so a file moves between teams or instances."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any
from uuid import UUID

from pydantic import Field
from pydantic import ValidationError as PydanticError
from sqlalchemy import insert, select

from hookline import __version__
from hookline.auth.roles import Role
from hookline.errors import ValidationError
from hookline.ids import new_id
from hookline.rpc.commands.files import File, load_file
from hookline.rpc.commands.projects import load_project
from hookline.rpc.context import Context
from hookline.rpc.models import Binary, Download, Model, Name, download_result
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import file_libraries, files

commands = CommandGroup()

FORMAT = "hookline-binfile"
VERSION = 1
MEDIA_TYPE = "application/zip"
# What one archive may hold once unpacked: a zip bomb is refused before it
# is inflated, and one import stays one bounded transaction.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_FILES = 50


class ExportBinfile(Model):
    file_id: UUID
    include_libraries: bool = False
    embed_assets: bool = False


class ImportBinfile(Model):
    # One name for the exported file, or (as Penpot sends it) names by the
    # archived files' ids; a file left out keeps its own.
    name: Name | dict[UUID, Name]
    project_id: UUID
    file: Binary


class ImportProps(Model):
    """The params without the archive, with the imported file's id and the
    program that made the archive."""

    name: str | dict[UUID, str]
    project_id: UUID
    file_id: UUID
    generated_by: str


class ArchivedFile(Model):
    id: UUID
    name: Name
    is_shared: bool = False
    revn: int = Field(default=0, ge=0)
    features: list[str] = Field(default_factory=list, max_length=100)
    libraries: list[UUID] = Field(default_factory=list, max_length=MAX_FILES)


class Manifest(Model):
    format: str
    version: int
    generated_by: str = Field(default="unknown", max_length=250)
    root: UUID
    embed_assets: bool = False
    files: list[ArchivedFile] = Field(min_length=1, max_length=MAX_FILES)


def _filename(name: str) -> str:
    # HTTP headers are Latin-1: the download's name keeps to plain ASCII.
    return (re.sub(r"[^A-Za-z0-9.-]+", "_", name).strip("._") or "file") + ".zip"


async def _libraries(ctx: Context, file: File) -> list[File]:
    """The libraries a file uses, and theirs in turn, of its own team."""
    found: dict[UUID, File] = {}
    pending = [file.id]
    while pending and len(found) < MAX_FILES:
        ids = await ctx.conn.scalars(
            select(file_libraries.c.library_id).where(file_libraries.c.file_id.in_(pending))
        )
        pending = []
        for library_id in ids:
            if library_id not in found and library_id != file.id:
                library = await load_file(ctx, library_id)
                if library.team_id == file.team_id:
                    found[library_id] = library
                    pending.append(library_id)
    return list(found.values())


@commands.command(
    "export-binfile", params=ExportBinfile, result=download_result(MEDIA_TYPE), webhook=True
)
async def export_binfile(ctx: Context, params: ExportBinfile) -> Download:
    """Download a file as a zip archive for `import-binfile` (viewers and
    above); with `include-libraries`, the libraries it uses come along.
    `embed-assets` is accepted for Penpot clients and recorded in the
    archive: Hookline's files keep no assets apart from their data."""
    file = await load_file(ctx, params.file_id)
    exported = [file, *(await _libraries(ctx, file) if params.include_libraries else [])]
    ids = [f.id for f in exported]
    data = dict(
        (await ctx.conn.execute(select(files.c.id, files.c.data).where(files.c.id.in_(ids)))).all()
    )
    links: dict[UUID, list[UUID]] = {i: [] for i in ids}
    for file_id, library_id in await ctx.conn.execute(
        select(file_libraries.c.file_id, file_libraries.c.library_id).where(
            file_libraries.c.file_id.in_(ids)
        )
    ):
        links[file_id].append(library_id)
    manifest = Manifest(
        format=FORMAT,
        version=VERSION,
        generated_by=f"hookline/{__version__}",
        root=file.id,
        embed_assets=params.embed_assets,
        files=[
            ArchivedFile(
                id=f.id,
                name=f.name,
                is_shared=f.is_shared,
                revn=f.revn,
                features=f.features,
                libraries=links[f.id],
            )
            for f in exported
        ],
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest.model_dump_json(by_alias=True))
        for f in exported:
            archive.writestr(f"files/{f.id}.json", json.dumps(data.get(f.id)))
    ctx.emit(file.team_id)
    return Download(_filename(file.name), MEDIA_TYPE, out.getvalue())


def _bad(hint: str) -> ValidationError:
    return ValidationError("invalid-archive", hint)


def read_archive(content: bytes) -> tuple[Manifest, dict[UUID, Any]]:
    """The manifest and each file's data, all checked before anything is written."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        raise _bad("the file is not a zip archive made by export-binfile") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_FILES + 1:
            raise _bad(f"the archive holds more than {MAX_FILES} files")
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise _bad(f"the archive unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        names = {entry.filename for entry in entries}

        def member(name: str) -> Any:
            if name not in names:
                raise _bad(f"the archive has no {name}")
            try:
                with archive.open(name) as stream:
                    raw = stream.read(MAX_UNPACKED_BYTES + 1)
                if len(raw) > MAX_UNPACKED_BYTES:
                    raise _bad("an entry unpacks to more than it says")
                return json.loads(raw)
            except (
                zipfile.BadZipFile,
                ValueError,
                OSError,
                EOFError,
                RuntimeError,
                NotImplementedError,
            ):
                raise _bad(f"{name} is damaged or not JSON") from None

        try:
            manifest = Manifest.model_validate(member("manifest.json"))
        except PydanticError as exc:
            raise _bad(f"manifest.json: {exc.errors()[0]['msg']}") from None
        if manifest.format != FORMAT or manifest.version != VERSION:
            raise _bad(f"this is not a {FORMAT} archive of version {VERSION}")
        ids = [f.id for f in manifest.files]
        if len(set(ids)) != len(ids) or manifest.root not in ids:
            raise _bad("the manifest's files are repeated or miss the root file")
        return manifest, {i: member(f"files/{i}.json") for i in ids}


def _new_name(name: str | dict[UUID, str], file: ArchivedFile, root: UUID) -> str:
    if isinstance(name, dict):
        return name.get(file.id, file.name)
    return name if file.id == root else file.name


@commands.command(
    "import-binfile",
    params=ImportBinfile,
    result=list[File],
    webhook=True,
    event_props=ImportProps,
    bulk=True,
)
async def import_binfile(ctx: Context, params: ImportBinfile) -> list[File]:
    """Create files in a project from an `export-binfile` archive (editors
    and above): the exported file, named `name`, and the libraries that came
    with it, linked as they were (`name` may also map archived file ids to
    new names). Send the archive as the `file` part of a
    multipart body (or base64 in JSON). A damaged, foreign or oversized
    archive answers 400 `invalid-archive` and nothing is created."""
    project = await load_project(ctx, params.project_id, Role.EDITOR)
    manifest, data = read_archive(params.file)
    new_ids = {f.id: new_id() for f in manifest.files}
    created = [
        File(
            id=new_ids[f.id],
            project_id=project.id,
            team_id=project.team_id,
            name=_new_name(params.name, f, manifest.root),
            is_shared=f.is_shared,
            revn=f.revn,
            features=f.features,
            created_at=ctx.now,
            modified_at=ctx.now,
        )
        for f in manifest.files
    ]
    await ctx.conn.execute(
        insert(files),
        [
            {**f.model_dump(exclude={"team_id"}), "data": data[old]}
            for old, f in zip(new_ids, created, strict=True)
        ],
    )
    # Links to libraries that did not come along are dropped: they belong
    # to another team or instance.
    links = [
        {"file_id": new_ids[f.id], "library_id": new_ids[lib], "created_at": ctx.now}
        for f in manifest.files
        for lib in dict.fromkeys(f.libraries)
        if lib in new_ids and lib != f.id
    ]
    if links:
        await ctx.conn.execute(insert(file_libraries), links)
    props = ImportProps(
        name=params.name,
        project_id=project.id,
        file_id=new_ids[manifest.root],
        generated_by=manifest.generated_by,
    )
    ctx.emit(project.team_id, props=props.model_dump())
    return created
