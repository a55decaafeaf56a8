"""Projects: a team's folders of files."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, bindparam, delete, exists, insert, not_, or_, select, update

from hookline.auth.roles import Role, has_role, require_role
from hookline.errors import ConflictError, NotFound, ValidationError
from hookline.ids import new_id
from hookline.rpc.context import Context
from hookline.rpc.models import Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.guarded import InsertWhere
from hookline.storage.tables import file_libraries, files, profiles, projects

commands = CommandGroup()

# update-project-pin events of one person and project merge over this window.
PIN_COALESCE_WINDOW_S = 5.0


class Project(Model):
    id: UUID
    team_id: UUID
    name: str
    is_pinned: bool
    # The "Drafts" project of a default team (see register-profile).
    is_default: bool = False
    created_at: datetime
    modified_at: datetime


# A project's columns, and whether it is someone's default project.
PROJECT_COLUMNS = (
    *projects.c,
    exists().where(profiles.c.default_project_id == projects.c.id).label("is_default"),
)


class CreateProject(Model):
    team_id: UUID
    name: Name


class RenameProject(Model):
    id: UUID
    name: Name


class ProjectId(Model):
    id: UUID


class TeamProjects(Model):
    team_id: UUID


class UpdateProjectPin(Model):
    team_id: UUID
    id: UUID
    is_pinned: bool


class DuplicateProject(Model):
    project_id: UUID
    name: Name | None = None


class MoveProject(Model):
    team_id: UUID
    project_id: UUID


class ProjectTeam(Model):
    """Added to project events: the team the project belongs to."""

    team_id: UUID


class RenameProjectExtra(ProjectTeam):
    prev_name: str


class DeleteProjectExtra(ProjectTeam):
    name: str
    created_at: datetime
    modified_at: datetime


async def load_project(ctx: Context, project_id: UUID, minimum: Role = Role.VIEWER) -> Project:
    """The project, if the caller's role in its team is at least ``minimum``;
    not-found for anyone outside the team."""
    row = (
        await ctx.conn.execute(select(*PROJECT_COLUMNS).where(projects.c.id == project_id))
    ).first()
    if row is None:
        raise NotFound("object-not-found", "there is no such project")
    await require_role(ctx.conn, row.team_id, ctx.profile_id, minimum)
    return Project.model_validate(row._mapping)


# A project, inserted only if the caller may create it: the role check and
# the insert are one statement (see storage.guarded).
_INSERT_PROJECT_AS_EDITOR = InsertWhere(
    projects,
    ("id", "team_id", "name", "is_pinned", "created_at", "modified_at"),
    has_role(
        bindparam("r_team_id", type_=projects.c.team_id.type),
        bindparam("profile_id", type_=projects.c.team_id.type),
        Role.EDITOR,
    ),
)


@commands.command("create-project", params=CreateProject, result=Project, webhook=True)
async def create_project(ctx: Context, params: CreateProject) -> Project:
    """Create a project in a team (editors and above)."""
    profile_id = ctx.profile_id
    project = Project(
        id=new_id(),
        team_id=params.team_id,
        name=params.name,
        is_pinned=False,
        created_at=ctx.now,
        modified_at=ctx.now,
    )

    async def refused() -> None:
        await require_role(ctx.conn, params.team_id, profile_id, Role.EDITOR)
        # The role was granted between the insert and this read.
        raise ConflictError("concurrent-change", "the team's members changed meanwhile: retry")

    row = project.model_dump(exclude={"is_default"})
    await ctx.insert_last(
        _INSERT_PROJECT_AS_EDITOR,
        _INSERT_PROJECT_AS_EDITOR.params(row, profile_id=profile_id),
        refused,
    )
    ctx.emit(params.team_id, id=project.id)
    return project


@commands.command(
    "rename-project",
    params=RenameProject,
    result=Project,
    webhook=True,
    event_extra=RenameProjectExtra,
)
async def rename_project(ctx: Context, params: RenameProject) -> Project:
    """Rename a project (editors and above)."""
    project = await load_project(ctx, params.id, Role.EDITOR)
    await ctx.conn.execute(
        update(projects)
        .where(projects.c.id == params.id)
        .values(name=params.name, modified_at=ctx.now)
    )
    ctx.emit(project.team_id, team_id=project.team_id, prev_name=project.name)
    return project.model_copy(update={"name": params.name, "modified_at": ctx.now})


@commands.command(
    "delete-project",
    params=ProjectId,
    result=None,
    webhook=True,
    event_extra=DeleteProjectExtra,
    bulk=True,
)
async def delete_project(ctx: Context, params: ProjectId) -> None:
    """Delete a project with its files and comments (editors and above). The
    Drafts project of a default team cannot be deleted (400
    non-deletable-project)."""
    project = await load_project(ctx, params.id, Role.EDITOR)
    if project.is_default:
        raise ValidationError(
            "non-deletable-project", "the Drafts project of a default team cannot be deleted"
        )
    await ctx.conn.execute(delete(projects).where(projects.c.id == params.id))
    ctx.emit(
        project.team_id,
        team_id=project.team_id,
        name=project.name,
        created_at=project.created_at,
        modified_at=project.modified_at,
    )


@commands.command("get-projects", params=TeamProjects, result=list[Project])
async def get_projects(ctx: Context, params: TeamProjects) -> list[Project]:
    """A team's projects, pinned first, then by name. `is-default` marks the
    Drafts project of a default team."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id)
    rows = await ctx.conn.execute(
        select(*PROJECT_COLUMNS)
        .where(projects.c.team_id == params.team_id)
        .order_by(projects.c.is_pinned.desc(), projects.c.name, projects.c.id)
    )
    return [Project.model_validate(row._mapping) for row in rows]


@commands.command("update-project-pin", params=UpdateProjectPin, result=None, webhook=True)
async def update_project_pin(ctx: Context, params: UpdateProjectPin) -> None:
    """Pin a project to the top of the team's list, or unpin it (editors and above)."""
    project = await load_project(ctx, params.id, Role.EDITOR)
    if project.team_id != params.team_id:
        raise NotFound("object-not-found", "there is no such project in this team")
    await ctx.conn.execute(
        update(projects).where(projects.c.id == params.id).values(is_pinned=params.is_pinned)
    )
    # A row of pin toggles is one change to a receiver: Penpot sends the
    # last state once the person has stopped for a few seconds.
    ctx.emit(
        project.team_id,
        coalesce_key=f"update-project-pin:{ctx.profile_id}:{project.id}",
        coalesce_window_s=PIN_COALESCE_WINDOW_S,
    )


@commands.command(
    "duplicate-project", params=DuplicateProject, result=Project, webhook=True, bulk=True
)
async def duplicate_project(ctx: Context, params: DuplicateProject) -> Project:
    """Copy a project with its files and the libraries they use, in the same
    team (editors and above); answers the copy."""
    source = await load_project(ctx, params.project_id, Role.EDITOR)
    copy = Project(
        id=new_id(),
        team_id=source.team_id,
        name=params.name or f"{source.name} (copy)",
        is_pinned=False,
        created_at=ctx.now,
        modified_at=ctx.now,
    )
    await ctx.conn.execute(insert(projects), copy.model_dump(exclude={"is_default"}))
    await copy_files(ctx, source.id, copy.id)
    ctx.emit(copy.team_id)
    return copy


async def copy_files(ctx: Context, source_id: UUID, target_id: UUID) -> dict[UUID, UUID]:
    """Copy a project's files into another project; a link between two copied
    files is remapped to the copies. Answers the new id of each file."""
    rows = (await ctx.conn.execute(select(files).where(files.c.project_id == source_id))).all()
    new_ids = {row.id: new_id() for row in rows}
    if rows:
        await ctx.conn.execute(
            insert(files),
            [
                {
                    **row._mapping,
                    "id": new_ids[row.id],
                    "project_id": target_id,
                    "created_at": ctx.now,
                    "modified_at": ctx.now,
                }
                for row in rows
            ],
        )
        links = (
            await ctx.conn.execute(
                select(file_libraries).where(file_libraries.c.file_id.in_(list(new_ids)))
            )
        ).all()
        if links:
            await ctx.conn.execute(
                insert(file_libraries),
                [
                    {
                        "file_id": new_ids[link.file_id],
                        "library_id": new_ids.get(link.library_id, link.library_id),
                        "created_at": ctx.now,
                    }
                    for link in links
                ],
            )
    return new_ids


@commands.command("move-project", params=MoveProject, result=None, webhook=True, bulk=True)
async def move_project(ctx: Context, params: MoveProject) -> None:
    """Move a project with its files to another team; the caller must be an
    editor or above in both. Links between its files and libraries left
    behind in the old team are removed. Both teams get the event. The Drafts
    project of a default team stays in it (400 cant-move-default-project)."""
    project = await load_project(ctx, params.project_id, Role.EDITOR)
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.EDITOR)
    if project.is_default:
        raise ValidationError(
            "cant-move-default-project", "the Drafts project of a default team cannot be moved"
        )
    if project.team_id == params.team_id:
        raise ValidationError("cant-move-to-same-team", "the project is in this team already")
    inside = select(files.c.id).where(files.c.project_id == project.id)
    await ctx.conn.execute(
        delete(file_libraries).where(
            or_(
                and_(
                    file_libraries.c.file_id.in_(inside),
                    not_(file_libraries.c.library_id.in_(inside)),
                ),
                and_(
                    file_libraries.c.library_id.in_(inside),
                    not_(file_libraries.c.file_id.in_(inside)),
                ),
            )
        )
    )
    await ctx.conn.execute(
        update(projects)
        .where(projects.c.id == project.id)
        .values(team_id=params.team_id, is_pinned=False, modified_at=ctx.now)
    )
    # Penpot tells the team the project went to; the team it left hears too,
    # or its receivers would keep a project that is no longer there.
    ctx.emit(params.team_id)
    ctx.emit(project.team_id)
