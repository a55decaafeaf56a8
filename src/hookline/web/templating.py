"""The Jinja environment of the UI: autoescaping on for every template."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from hookline.web import describe

TEMPLATES = Path(__file__).parent / "templates"


def pretty_body(text: str | None) -> str:
    """A JSON body indented for reading; anything else as it came."""
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


_URL_BREAKS = re.compile(r"([/?&=.#-]+)")


def url_breaks(url: str) -> Markup:
    """A URL that may wrap after its separators rather than mid-word."""
    return Markup("<wbr>").join(
        escape(part) for part in _URL_BREAKS.sub(lambda m: m.group(1) + "\0", url).split("\0")
    )


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        moment=describe.moment,
        ago=describe.ago,
        day=describe.day,
        expiry=describe.expiry_words,
        error_words=describe.error_words,
        last_error=describe.last_error_sentence,
        state_words=describe.state_words,
        status_word=describe.status_word,
        first_sentence=describe.first_sentence,
        grouped_events=describe.grouped_events,
        pretty_body=pretty_body,
        pretty_json=pretty_json,
        url=url_breaks,
    )
    env.globals["status_legend"] = describe.STATUSES
    return env


environment = _environment()
