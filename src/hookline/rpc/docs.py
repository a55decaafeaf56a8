"""Documentation generated from the command registry: OpenAPI 3.1 and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

import hookline
from hookline.rpc.catalogue import EventType, envelope, event_types, props_model
from hookline.rpc.registry import CommandSpec, Registry

REF_TEMPLATE = "#/components/schemas/{model}"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "code", "hint"],
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "hint": {"type": "string"},
    },
}

ERROR_STATUSES = {
    "400": "validation or restriction error",
    "401": "missing or bad credentials",
    "403": "not allowed",
    "404": "unknown command or object",
    "405": "method not allowed",
    "409": "conflict",
    "413": "body too large",
    "415": "unsupported media type",
    "429": "too many attempts",
}


def _schemas(registry: Registry) -> tuple[dict[Any, Any], dict[str, Any]]:
    inputs: list[tuple[Any, JsonSchemaMode, TypeAdapter[Any]]] = []
    for spec in registry:
        inputs.append(((spec.name, "params"), "validation", TypeAdapter(spec.params)))
        if spec.result is not None:
            inputs.append(((spec.name, "result"), "serialization", spec.result_adapter))
    refs, defs = TypeAdapter.json_schemas(
        inputs,
        ref_template=REF_TEMPLATE,
        schema_generator=GenerateJsonSchema,
    )
    return refs, defs.get("$defs", {})


def _operation(spec: CommandSpec, refs: dict[Any, Any]) -> dict[str, Any]:
    flags = [flag for flag, on in (("AUTH", spec.auth), ("WEBHOOK", spec.webhook)) if on]
    responses: dict[str, Any] = {}
    if spec.result is None:
        responses["204"] = {"description": "done; no content"}
    else:
        result_schema = refs[((spec.name, "result"), "serialization")]
        # A download (export-binfile) is documented as the file it answers.
        media = result_schema.get("contentMediaType", "application/json")
        responses["200"] = {
            "description": "the result",
            "content": {media: {"schema": result_schema}},
        }
    for status, description in ERROR_STATUSES.items():
        responses[status] = {
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": REF_TEMPLATE.format(model="Error")}}
            },
        }
    op: dict[str, Any] = {
        "operationId": spec.name,
        "summary": spec.doc.split(". ")[0].rstrip("."),
        "description": spec.doc,
        "tags": flags,
        "responses": responses,
        "x-added": spec.added,
        "x-auth": spec.auth,
        "x-webhook": spec.webhook,
    }
    if spec.webhook:
        from_catalogue = EventType(spec.name, spec.doc, _envelope(spec.name, props_model(spec)))
        op["x-webhook-event"] = {
            "schema": from_catalogue.schema,
            "example": from_catalogue.example,
        }
    if spec.auth:
        op["security"] = [{"token": []}, {"session": []}]
    return op


def _envelope(name: str, props: Any) -> Any:
    return envelope(name, props)


def openapi(registry: Registry, public_url: str) -> dict[str, Any]:
    refs, defs = _schemas(registry)
    defs["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for spec in registry:
        params_schema = refs[((spec.name, "params"), "validation")]
        post = _operation(spec, refs)
        post["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": params_schema}},
        }
        item: dict[str, Any] = {"post": post}
        if spec.is_query:
            get = _operation(spec, refs)
            get["operationId"] = f"{spec.name}-get"
            get["parameters"] = _query_parameters(params_schema, defs)
            item["get"] = get
        paths[f"/api/rpc/command/{spec.name}"] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hookline RPC API",
            "version": hookline.__version__,
            "description": "Every command is POST /api/rpc/command/<name>; get-* commands "
            "also answer GET with params in the query string.",
        },
        "servers": [{"url": public_url}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "Token <access token>",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "hookline_session"},
            },
        },
    }


def _query_parameters(params_schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    ref = params_schema.get("$ref", "")
    schema = defs.get(ref.rsplit("/", 1)[-1], params_schema)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def html(registry: Registry, public_url: str) -> str:
    document = openapi(registry, public_url)
    defs = document["components"]["schemas"]
    events = {event.name: event for event in event_types(registry)}
    commands = []
    for spec in registry:
        op = document["paths"][f"/api/rpc/command/{spec.name}"]["post"]
        params_ref = op["requestBody"]["content"]["application/json"]["schema"]
        result = op["responses"].get("200")
        commands.append(
            {
                "spec": spec,
                "params": _resolve(params_ref, defs),
                "result": _resolve(next(iter(result["content"].values()))["schema"], defs)
                if result
                else None,
                "event": events.get(spec.name),
            }
        )
    return _env.get_template("doc.html").render(
        commands=commands, public_url=public_url, version=hookline.__version__
    )


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return dict(defs.get(ref.rsplit("/", 1)[-1], schema))
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return {"type": "array", "items": _resolve(schema["items"], defs)}
    return schema
