"""Built-in templates: ready-made files a project starts from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import insert

from hookline.auth.roles import Role
from hookline.errors import NotFound
from hookline.ids import new_id
from hookline.rpc.commands.files import DEFAULT_FEATURES, File
from hookline.rpc.commands.projects import load_project
from hookline.rpc.context import Context
from hookline.rpc.models import Empty, Model
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import file_libraries, files

commands = CommandGroup()


@dataclass(frozen=True)
class TemplateFile:
    name: str
    is_shared: bool = False
    data: Any = None
    # Names of the template's other files this one uses as libraries.
    libraries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    files: tuple[TemplateFile, ...] = field(default_factory=tuple)


def _shapes(*names: str) -> dict[str, Any]:
    return {"changes": [{"type": "add-obj", "name": name} for name in names]}


TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in (
        Template(
            "wireframing-kit",
            "Wireframing kit",
            "A shared library of boxes, buttons and placeholders for quick wireframes.",
            (TemplateFile("Wireframing kit", True, _shapes("Box", "Button", "Placeholder")),),
        ),
        Template(
            "mobile-app",
            "Mobile app",
            "App screens that use a library of mobile components.",
            (
                TemplateFile("Mobile components", True, _shapes("Tab bar", "Card", "Toggle")),
                TemplateFile(
                    "Mobile app", data=_shapes("Home", "Detail"), libraries=("Mobile components",)
                ),
            ),
        ),
        Template(
            "landing-page",
            "Landing page",
            "A one-page site: hero, features and footer.",
            (TemplateFile("Landing page", data=_shapes("Hero", "Features", "Footer")),),
        ),
    )
}


class BuiltinTemplate(Model):
    id: str
    name: str
    description: str
    files: list[str]


class CloneTemplate(Model):
    project_id: UUID
    template_id: str


@commands.command("get-builtin-templates", params=Empty, result=list[BuiltinTemplate])
async def get_builtin_templates(ctx: Context, params: Empty) -> list[BuiltinTemplate]:
    """The templates `clone-template` can copy into a project."""
    return [
        BuiltinTemplate(
            id=t.id, name=t.name, description=t.description, files=[f.name for f in t.files]
        )
        for t in TEMPLATES.values()
    ]


@commands.command("clone-template", params=CloneTemplate, result=list[File], webhook=True)
async def clone_template(ctx: Context, params: CloneTemplate) -> list[File]:
    """Copy a built-in template's files into a project (editors and above);
    answers the new files. An unknown `template-id` answers 404."""
    project = await load_project(ctx, params.project_id, Role.EDITOR)
    template = TEMPLATES.get(params.template_id)
    if template is None:
        raise NotFound("template-not-found", f"there is no template {params.template_id!r}")
    created = {
        f.name: File(
            id=new_id(),
            project_id=project.id,
            team_id=project.team_id,
            name=f.name,
            is_shared=f.is_shared,
            revn=0,
            features=DEFAULT_FEATURES,
            created_at=ctx.now,
            modified_at=ctx.now,
        )
        for f in template.files
    }
    await ctx.conn.execute(
        insert(files),
        [
            {**created[f.name].model_dump(exclude={"team_id"}), "data": f.data}
            for f in template.files
        ],
    )
    links = [
        {"file_id": created[f.name].id, "library_id": created[lib].id, "created_at": ctx.now}
        for f in template.files
        for lib in f.libraries
    ]
    if links:
        await ctx.conn.execute(insert(file_libraries), links)
    ctx.emit(project.team_id)
    return list(created.values())
