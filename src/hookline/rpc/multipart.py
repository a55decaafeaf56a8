"""Multipart form bodies, as Penpot clients send file uploads: fields become
params (strings), file parts become bytes."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from hookline import codec
from hookline.errors import ValidationError

FORM = "multipart/form-data"


def is_form(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == FORM


async def decode_form(body: bytes, headers: Headers) -> dict[str, Any]:
    """Params from a multipart body already read (and size-checked) in full."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        headers, stream(), max_files=16, max_fields=64, max_part_size=len(body) + 1
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ValidationError("malformed-multipart", exc.message) from None
    params: dict[str, Any] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                params[key] = await value.read()
            else:
                params[key] = value
    finally:
        await form.close()
    return codec.normalize_keys(params)
