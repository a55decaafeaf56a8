"""Documentation generated from the command registry: OpenAPI 3.1 and HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

import hookline
from hookline.oauth import scopes
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
        "x-oauth-scopes": _ordered(spec.oauth_scopes),
    }
    if spec.webhook:
        from_catalogue = EventType(spec.name, spec.doc, _envelope(spec.name, props_model(spec)))
        op["x-webhook-event"] = {
            "schema": from_catalogue.schema,
            "example": from_catalogue.example,
        }
    if spec.auth:
        op["security"] = [{"token": []}, {"session": []}]
        if spec.oauth_scopes:
            op["security"].append({"oauth": _ordered(spec.oauth_scopes)})
    return op


def _ordered(granted: frozenset[str]) -> list[str]:
    return [name for name in scopes.SUPPORTED if name in granted]


# What each scope reaches, in words (the table is the rule in hookline.rpc.scopes).
SCOPE_REACH = {
    scopes.READ: "every get-* command",
    scopes.WRITE: "every command a full personal token may call",
    scopes.WEBHOOKS: "the webhook and delivery commands, reading and changing",
}


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
            "also answer GET with params in the query string. With the session cookie "
            "and no token, a command that changes data takes params only from an "
            "application/json or application/transit+json body (403 json-body-required, "
            "params-in-query) and must come from this origin by Sec-Fetch-Site, or else "
            "Origin (403 cross-origin-request). /api/main/methods/<name> answers the same "
            "as /api/rpc/command/<name>, and ?_fmt=json or ?_fmt=transit chooses the "
            "answer's format whatever Accept says.",
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
                "oauth": {
                    "type": "oauth2",
                    "description": "an application's token, limited by x-oauth-scopes",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": f"{public_url}/oauth/authorize",
                            "tokenUrl": f"{public_url}/oauth/token",
                            "refreshUrl": f"{public_url}/oauth/token",
                            "scopes": dict(scopes.DESCRIPTIONS),
                        }
                    },
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


TEMPLATES = Path(__file__).parent / "templates"


def prose(text: str) -> Markup:
    """A command's docstring as HTML: paragraphs at blank lines and `code`
    spans; all text escaped."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(_code_spans(p)) for p in paragraphs)


def _code_spans(text: str) -> Markup:
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: show it as it is
        return Markup("{}").format(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if odd else Markup("{}").format(part)
        for odd, part in ((n % 2 == 1, part) for n, part in enumerate(parts))
    )


def schema_type(schema: dict[str, Any]) -> Markup:
    """A property's type in words, named models linked to their table."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    if "anyOf" in schema:
        return Markup(" or ").join(schema_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return Markup(" | ").join(Markup("<code>{}</code>").format(v) for v in schema["enum"])
    if "const" in schema:
        return Markup("<code>{}</code>").format(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return Markup("list of ") + schema_type(schema.get("items", {}))
    if kind == "null":
        return Markup("null")
    fmt = schema.get("format")
    return Markup("{} ({})").format(kind, fmt) if fmt else Markup("{}").format(kind)


_LIMITS = (
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("maxItems", "at most {} items"),
    ("default", "default {}"),
)


def schema_notes(schema: dict[str, Any]) -> str:
    """Limits and default of a property, in words."""
    notes = [words.format(_json(schema[key])) for key, words in _LIMITS if key in schema]
    for option in schema.get("anyOf", []):
        notes += [words.format(_json(option[k])) for k, words in _LIMITS[:-1] if k in option]
    if schema.get("description"):
        notes.insert(0, schema["description"])
    return "; ".join(notes)


def _json(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(prose=prose, schema_type=schema_type, schema_notes=schema_notes)


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
                "oauth_scopes": _ordered(spec.oauth_scopes),
            }
        )
    oauth_scopes = [
        {"name": name, "description": scopes.DESCRIPTIONS[name], "reach": SCOPE_REACH[name]}
        for name in scopes.SUPPORTED
    ]
    return _env.get_template("doc.html").render(
        commands=commands,
        public_url=public_url,
        version=hookline.__version__,
        oauth_scopes=oauth_scopes,
        defs=defs,
    )


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return dict(defs.get(ref.rsplit("/", 1)[-1], schema))
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return {"type": "array", "items": _resolve(schema["items"], defs)}
    return schema
