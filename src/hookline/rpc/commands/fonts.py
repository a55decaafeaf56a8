"""A team's own fonts: variants (a weight and style of a family) grouped by
font id, each with its font files in one or more formats."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field
from sqlalchemy import delete, insert, select, update

from hookline.auth.roles import Role, require_role
from hookline.errors import NotFound, ValidationError
from hookline.ids import new_id
from hookline.rpc.context import Context
from hookline.rpc.models import Binary, Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import font_files, font_variants

commands = CommandGroup()

# Font files by mime type, and the bytes each format starts with.
FORMATS: dict[str, tuple[bytes, ...]] = {
    "font/woff": (b"wOFF",),
    "font/woff2": (b"wOF2",),
    "font/ttf": (b"\x00\x01\x00\x00", b"true"),
    "font/otf": (b"OTTO",),
}
# One font file; a whole family of variants stays a few megabytes.
MAX_FONT_BYTES = 4 * 1024 * 1024

FontWeight = Annotated[int, Field(ge=1, le=1000)]
FontStyle = Literal["normal", "italic"]


class FontVariant(Model):
    id: UUID
    team_id: UUID
    profile_id: UUID | None
    font_id: UUID
    font_family: str
    font_weight: int
    font_style: str
    formats: list[str]
    created_at: datetime
    modified_at: datetime


class CreateFontVariant(Model):
    team_id: UUID
    font_id: UUID
    font_family: Name
    font_weight: FontWeight
    font_style: FontStyle
    data: dict[str, Binary] = Field(
        min_length=1,
        description="font files by mime type: " + ", ".join(FORMATS),
    )


class CreateFontVariantProps(Model):
    """The params, with ``data`` reduced to its mime types, and the variant's id."""

    id: UUID
    team_id: UUID
    font_id: UUID
    font_family: str
    font_weight: int
    font_style: str
    data: list[str]


class UpdateFont(Model):
    team_id: UUID
    id: UUID
    name: Name


class FontProps(Model):
    """The font (its id is the font id), its family name and who changed it."""

    id: UUID
    name: str
    team_id: UUID
    profile_id: UUID


class TeamObject(Model):
    team_id: UUID
    id: UUID


class DeleteVariantExtra(Model):
    font_family: str
    font_id: UUID


class TeamFonts(Model):
    team_id: UUID


def check_font_files(data: dict[str, bytes]) -> None:
    """Each file is of a known format, starts like one, and is not too large."""
    for mtype, content in data.items():
        magic = FORMATS.get(mtype)
        if magic is None:
            raise ValidationError(
                "invalid-font-type", f"{mtype!r} is not one of {', '.join(FORMATS)}"
            )
        if len(content) > MAX_FONT_BYTES:
            raise ValidationError(
                "font-too-large", f"the {mtype} file is larger than {MAX_FONT_BYTES} bytes"
            )
        if not content.startswith(magic):
            raise ValidationError("invalid-font-data", f"the {mtype} file is not a {mtype} font")


async def _variants(ctx: Context, team_id: UUID, *where: object) -> list[FontVariant]:
    rows = (
        await ctx.conn.execute(
            select(font_variants)
            .where(font_variants.c.team_id == team_id, *where)  # type: ignore[arg-type]
            .order_by(
                font_variants.c.font_family,
                font_variants.c.font_weight,
                font_variants.c.font_style,
                font_variants.c.id,
            )
        )
    ).all()
    ids = [row.id for row in rows]
    formats: dict[UUID, list[str]] = {i: [] for i in ids}
    if ids:
        for variant_id, mtype in await ctx.conn.execute(
            select(font_files.c.variant_id, font_files.c.mtype)
            .where(font_files.c.variant_id.in_(ids))
            .order_by(font_files.c.mtype)
        ):
            formats[variant_id].append(mtype)
    return [FontVariant(**row._mapping, formats=formats[row.id]) for row in rows]


@commands.command(
    "create-font-variant",
    params=CreateFontVariant,
    result=FontVariant,
    webhook=True,
    event_props=CreateFontVariantProps,
)
async def create_font_variant(ctx: Context, params: CreateFontVariant) -> FontVariant:
    """Add a weight and style of a font to the team, with its font files by
    mime type (`font/woff`, `font/woff2`, `font/ttf`, `font/otf`; base64 in
    JSON), each at most 4 MiB (editors and above). Variants with the same
    `font-id` make one font."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.EDITOR)
    check_font_files(params.data)
    variant = FontVariant(
        id=new_id(),
        team_id=params.team_id,
        profile_id=ctx.profile_id,
        font_id=params.font_id,
        font_family=params.font_family,
        font_weight=params.font_weight,
        font_style=params.font_style,
        formats=sorted(params.data),
        created_at=ctx.now,
        modified_at=ctx.now,
    )
    await ctx.conn.execute(insert(font_variants), variant.model_dump(exclude={"formats"}))
    await ctx.conn.execute(
        insert(font_files),
        [
            {"variant_id": variant.id, "mtype": mtype, "content": content}
            for mtype, content in params.data.items()
        ],
    )
    props = CreateFontVariantProps(**variant.model_dump(exclude={"formats"}), data=variant.formats)
    ctx.emit(params.team_id, props=props.model_dump())
    return variant


@commands.command(
    "update-font", params=UpdateFont, result=list[FontVariant], webhook=True, event_props=FontProps
)
async def update_font(ctx: Context, params: UpdateFont) -> list[FontVariant]:
    """Rename a font: the family name of all its variants (editors and above)."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.EDITOR)
    changed = await ctx.conn.execute(
        update(font_variants)
        .where(font_variants.c.team_id == params.team_id, font_variants.c.font_id == params.id)
        .values(font_family=params.name, modified_at=ctx.now)
    )
    if not changed.rowcount:
        raise NotFound("object-not-found", "there is no such font in this team")
    props = FontProps(
        id=params.id, name=params.name, team_id=params.team_id, profile_id=ctx.profile_id
    )
    ctx.emit(params.team_id, props=props.model_dump())
    return await _variants(ctx, params.team_id, font_variants.c.font_id == params.id)


@commands.command(
    "delete-font", params=TeamObject, result=None, webhook=True, event_props=FontProps
)
async def delete_font(ctx: Context, params: TeamObject) -> None:
    """Delete a font with all its variants and files (editors and above)."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.EDITOR)
    found = await _variants(ctx, params.team_id, font_variants.c.font_id == params.id)
    if not found:
        raise NotFound("object-not-found", "there is no such font in this team")
    await ctx.conn.execute(
        delete(font_variants).where(
            font_variants.c.team_id == params.team_id, font_variants.c.font_id == params.id
        )
    )
    props = FontProps(
        id=params.id, name=found[0].font_family, team_id=params.team_id, profile_id=ctx.profile_id
    )
    ctx.emit(params.team_id, props=props.model_dump())


@commands.command(
    "delete-font-variant",
    params=TeamObject,
    result=None,
    webhook=True,
    event_extra=DeleteVariantExtra,
)
async def delete_font_variant(ctx: Context, params: TeamObject) -> None:
    """Delete one variant of a font with its files (editors and above)."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.EDITOR)
    found = await _variants(ctx, params.team_id, font_variants.c.id == params.id)
    if not found:
        raise NotFound("object-not-found", "there is no such font variant in this team")
    await ctx.conn.execute(delete(font_variants).where(font_variants.c.id == params.id))
    ctx.emit(params.team_id, font_family=found[0].font_family, font_id=found[0].font_id)


@commands.command("get-font-variants", params=TeamFonts, result=list[FontVariant])
async def get_font_variants(ctx: Context, params: TeamFonts) -> list[FontVariant]:
    """A team's font variants, by family, weight and style."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id)
    return await _variants(ctx, params.team_id)
