"""Request bodies: an event exactly as documented, or a batch of them."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic.alias_generators import to_camel

from hookline import codec
from hookline.delivery.queue import EventRow

JSON = "application/json"
TRANSIT = "application/transit+json"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# Props use a few dozen distinct keys; converting one costs regular expressions.
_camel = functools.lru_cache(maxsize=4096)(to_camel)


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def json_document(event: EventRow) -> dict[str, Any]:
    """The event object with camelCase keys, ids and instants as strings."""
    return {
        "id": str(event.id),
        "name": event.name,
        "profileId": str(event.profile_id) if event.profile_id else None,
        "teamId": str(event.team_id),
        "props": _camel_keys(event.props),
        "createdAt": _iso(event.created_at),
        "trackedAt": _iso(event.tracked_at),
    }


def _typed(key: str, value: Any) -> Any:
    """Props are stored as JSON; Transit gets UUIDs and instants back."""
    if isinstance(value, dict):
        return {k: _typed(k, v) for k, v in value.items()}
    if isinstance(value, list):
        if key == "features":  # a set in Penpot's events
            return frozenset(value)
        return [_typed(key, v) for v in value]
    if isinstance(value, str):
        try:
            if key == "id" or key.endswith(("_id", "ids")):
                return UUID(value)
            if key.endswith("_at"):
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def transit_document(event: EventRow) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "profile_id": event.profile_id,
        "team_id": event.team_id,
        "props": {k: _typed(k, v) for k, v in event.props.items()},
        "created_at": event.created_at,
        "tracked_at": event.tracked_at,
    }


def body(mtype: str, items: list[EventRow], batch: bool) -> bytes:
    """One event as an object, or (``batch``) a list of events in order."""
    if mtype == TRANSIT:
        docs = [transit_document(e) for e in items]
        return codec.encode_transit(docs if batch else docs[0])
    json_docs = [json_document(e) for e in items]
    return codec.encode_json(json_docs if batch else json_docs[0])


# Bodies of single events lately sent, by (event, its version, type): an
# event sent to many webhooks is rendered once, not once per webhook (a
# fan-out to 500 spent a twelfth of its time rendering the same bodies).
# An event changes only when an edit is coalesced into it, which moves its
# tracked_at. Only small bodies are kept, and few: at most
# KEPT_BODIES * KEPT_BODY_MAX bytes.
KEPT_BODIES = 1024
KEPT_BODY_MAX = 8 * 1024
_kept: dict[tuple[UUID, datetime, str], bytes] = {}


def single_body(mtype: str, event: EventRow) -> bytes:
    key = (event.id, event.tracked_at, mtype)
    kept = _kept.get(key)
    if kept is not None:
        return kept
    made = body(mtype, [event], batch=False)
    if len(made) <= KEPT_BODY_MAX:
        if len(_kept) >= KEPT_BODIES:
            _kept.clear()
        _kept[key] = made
    return made
