"""Projects: a team's folders of files."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, select, update

from hookline.auth.roles import Role, require_role
from hookline.errors import NotFound
from hookline.ids import new_id
from hookline.rpc.context import Context
from hookline.rpc.models import Model, Name
from hookline.rpc.registry import CommandGroup
from hookline.storage.tables import projects

commands = CommandGroup()


class Project(Model):
    id: UUID
    team_id: UUID
    name: str
    is_pinned: bool
    created_at: datetime
    modified_at: datetime


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


class ProjectTeam(Model):
    """Added to project events: the team the project belongs to."""

    team_id: UUID


async def load_project(ctx: Context, project_id: UUID, minimum: Role = Role.VIEWER) -> Project:
    """The project, if the caller's role in its team is at least ``minimum``;
    not-found for anyone outside the team."""
    row = (await ctx.conn.execute(select(projects).where(projects.c.id == project_id))).first()
    if row is None:
        raise NotFound("object-not-found", "there is no such project")
    await require_role(ctx.conn, row.team_id, ctx.profile_id, minimum)
    return Project.model_validate(row._mapping)


@commands.command("create-project", params=CreateProject, result=Project, webhook=True)
async def create_project(ctx: Context, params: CreateProject) -> Project:
    """Create a project in a team (editors and above)."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id, Role.EDITOR)
    project = Project(
        id=new_id(),
        team_id=params.team_id,
        name=params.name,
        is_pinned=False,
        created_at=ctx.now,
        modified_at=ctx.now,
    )
    await ctx.conn.execute(insert(projects), project.model_dump())
    ctx.emit(params.team_id, id=project.id)
    return project


@commands.command(
    "rename-project", params=RenameProject, result=Project, webhook=True, event_extra=ProjectTeam
)
async def rename_project(ctx: Context, params: RenameProject) -> Project:
    """Rename a project (editors and above)."""
    project = await load_project(ctx, params.id, Role.EDITOR)
    await ctx.conn.execute(
        update(projects)
        .where(projects.c.id == params.id)
        .values(name=params.name, modified_at=ctx.now)
    )
    ctx.emit(project.team_id, team_id=project.team_id)
    return project.model_copy(update={"name": params.name, "modified_at": ctx.now})


@commands.command(
    "delete-project",
    params=ProjectId,
    result=None,
    webhook=True,
    event_extra=ProjectTeam,
    bulk=True,
)
async def delete_project(ctx: Context, params: ProjectId) -> None:
    """Delete a project with its files and comments (editors and above)."""
    project = await load_project(ctx, params.id, Role.EDITOR)
    await ctx.conn.execute(delete(projects).where(projects.c.id == params.id))
    ctx.emit(project.team_id, team_id=project.team_id)


@commands.command("get-projects", params=TeamProjects, result=list[Project])
async def get_projects(ctx: Context, params: TeamProjects) -> list[Project]:
    """A team's projects, pinned first, then by name."""
    await require_role(ctx.conn, params.team_id, ctx.profile_id)
    rows = await ctx.conn.execute(
        select(projects)
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
    ctx.emit(project.team_id)
