"""Commands declared next to their handlers, and the registry built from an
explicit list of command modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter

if TYPE_CHECKING:
    from hookline.rpc.context import CallInfo, Context
    from hookline.services import Services

P = TypeVar("P", bound=BaseModel)
Handler = Callable[["Context", Any], Awaitable[Any]]
# Work on the validated params before the command's transaction opens.
Prepare = Callable[["Services", "CallInfo", Any], Awaitable[None]]
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Handler
    params: type[BaseModel]
    result: Any
    doc: str
    added: str
    auth: bool
    webhook: bool
    result_adapter: TypeAdapter[Any] = field(repr=False, compare=False)
    # The event's props, when they are not the params plus ``event_extra``.
    event_props: type[BaseModel] | None = None
    # Fields the handler adds to the params in the event's props.
    event_extra: type[BaseModel] | None = None
    # May change or read many rows (cascading deletes, re-queueing, history
    # searches): on SQLite its
    # statements run on the driver's thread, not inline on the event loop.
    bulk: bool = False
    # Slow work (hashing a password) done before the transaction opens: on
    # SQLite a write transaction holds the one write lock every writer waits
    # for. It runs before the caller is identified, so only commands anyone
    # may call have one.
    prepare: Prepare | None = None
    # The OAuth scopes whose tokens may call it (none: no OAuth token may).
    oauth_scopes: frozenset[str] = frozenset()

    @property
    def is_query(self) -> bool:
        """``get-*`` commands read only: they answer GET and read-scoped tokens."""
        return self.name.startswith("get-")


class CommandGroup:
    """The commands of one module, in declaration order."""

    def __init__(self) -> None:
        self.commands: list[CommandSpec] = []

    def command(
        self,
        name: str,
        *,
        params: type[BaseModel],
        result: Any,
        added: str = "0.1.0",
        auth: bool = True,
        webhook: bool = False,
        event_props: type[BaseModel] | None = None,
        event_extra: type[BaseModel] | None = None,
        bulk: bool = False,
        prepare: Prepare | None = None,
    ) -> Callable[[F], F]:
        def register(handler: F) -> F:
            doc = " ".join((handler.__doc__ or "").split())
            if not doc:
                raise TypeError(f"command {name} needs a docstring: it is the documentation")
            if prepare is not None and auth:
                raise TypeError(f"command {name}: only commands without auth may prepare")
            self.commands.append(
                CommandSpec(
                    name=name,
                    handler=handler,
                    params=params,
                    result=result,
                    doc=doc,
                    added=added,
                    auth=auth,
                    webhook=webhook,
                    result_adapter=TypeAdapter(result),
                    event_props=event_props,
                    event_extra=event_extra,
                    bulk=bulk,
                    prepare=prepare,
                )
            )
            return handler

        return register


class Registry:
    def __init__(
        self,
        groups: Iterable[CommandGroup],
        oauth_scopes: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._commands: dict[str, CommandSpec] = {}
        for group in groups:
            for spec in group.commands:
                if spec.name in self._commands:
                    raise ValueError(f"command {spec.name} is declared twice")
                scopes = (oauth_scopes or {}).get(spec.name, frozenset())
                self._commands[spec.name] = replace(spec, oauth_scopes=scopes)

    def get(self, name: str) -> CommandSpec | None:
        return self._commands.get(name)

    def __iter__(self) -> Any:
        return iter(sorted(self._commands.values(), key=lambda c: c.name))

    def __len__(self) -> int:
        return len(self._commands)
