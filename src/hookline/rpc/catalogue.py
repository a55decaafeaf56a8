"""The catalogue of events: for each, a Pydantic model of the delivered object,
its JSON Schema and an example, generated from the commands that raise it."""

from __future__ import annotations

import enum
import functools
import types
import typing
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, TypeAdapter, create_model

from hookline.events.outbox import SENSITIVE
from hookline.rpc.models import Model
from hookline.rpc.registry import CommandSpec, Registry

PING = "ping"


class PingProps(Model):
    """A test event: sent when a webhook is created and on request."""

    webhook_id: UUID
    team_id: UUID


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    model: type[BaseModel]

    @functools.cached_property
    def schema(self) -> dict[str, Any]:
        return TypeAdapter(self.model).json_schema(by_alias=True)

    @functools.cached_property
    def example(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model.model_validate(_example(self.model)).model_dump(
            mode="json", by_alias=True
        )
        return data


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


def props_model(spec: CommandSpec) -> type[BaseModel]:
    """The event's props: declared, or the params (minus secrets) plus extras."""
    if spec.event_props is not None:
        return spec.event_props
    fields: dict[str, Any] = {}
    for name, info in spec.params.model_fields.items():
        if name not in SENSITIVE:
            fields[name] = (info.annotation, info)
    if spec.event_extra is not None:
        for name, info in spec.event_extra.model_fields.items():
            fields[name] = (info.annotation, info)
    model: type[BaseModel] = create_model(f"{_camel(spec.name)}Props", __base__=Model, **fields)
    return model


def envelope(name: str, props: type[BaseModel]) -> type[BaseModel]:
    literal: Any = Literal[name]
    model: type[BaseModel] = create_model(
        f"{_camel(name)}Event",
        __base__=Model,
        id=(UUID, ...),
        name=(literal, ...),
        profile_id=(UUID | None, ...),
        team_id=(UUID, ...),
        props=(props, ...),
        created_at=(datetime, ...),
        tracked_at=(datetime, ...),
    )
    return model


def event_types(registry: Registry) -> list[EventType]:
    found = [
        EventType(PING, PingProps.__doc__ or "", envelope(PING, PingProps)),
    ]
    for spec in registry:
        if spec.webhook:
            leaked = SENSITIVE & set(spec.params.model_fields)
            if leaked and spec.event_props is None:
                raise TypeError(f"{spec.name}: declare event_props, params hold {leaked}")
            found.append(EventType(spec.name, spec.doc, envelope(spec.name, props_model(spec))))
    return found


@functools.cache
def catalogue(registry: Registry) -> dict[str, EventType]:
    """Every event a webhook can receive from these commands, by name."""
    return {event.name: event for event in event_types(registry)}


# --- examples -----------------------------------------------------------------

_EXAMPLE_TIME = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def _example_value(annotation: Any, field: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _example_value(args[0], field)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return _example_value(real[0], field) if real else None
    if origin is Literal:
        return args[0]
    if origin is list:
        if field == "changes":
            return []
        return [_example_value(args[0] if args else str, field)]
    if origin is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return _example(annotation)
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation)).value
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return 400 if field == "font_weight" else 1
        if issubclass(annotation, float):
            return 10.5
        if issubclass(annotation, UUID):
            return str(UUID(int=(0x0190 << 112) | zlib.crc32(field.encode())))
        if issubclass(annotation, datetime):
            return _EXAMPLE_TIME.isoformat()
        if issubclass(annotation, str):
            return {
                "name": "Landing page",
                "content": "Looks good!",
                "email": "ada@example.com",
                "features": "components/v2",
                "prev_name": "Home",
                "owner_fullname": "Ada Lovelace",
                "owner_email": "ada@example.com",
                "font_family": "Inter",
                "font_style": "normal",
                "data": "font/woff2",
                "template_id": "landing-page",
                "generated_by": "hookline/0.1.0",
                "lang": "en",
            }.get(field, "example")
    return None


def _example(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: _example_value(info.annotation, name) for name, info in model.model_fields.items()
    }
