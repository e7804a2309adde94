"""Receiving a job's file: streamed to disk as it arrives, never held in memory.

The raw body's ``Content-Type`` names the format; a ``multipart/form-data`` upload carries the
file in its ``file`` field and is parsed as it streams (the ``multipart`` push parser, which
Litestar itself uses; Litestar's own form handling would spool the whole part first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, BinaryIO

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from multipart import MultipartSegment, ParserError, PushMultipartParser, parse_options_header

from domain.errors import FieldError, InvalidInput
from domain.jobs.formats import Format, format_of, media_type

MULTIPART = "multipart/form-data"
FILE_FIELD = "file"
MAX_PARTS = 16


def _unsupported() -> HTTPException:
    return HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE)


def check_content_type(content_type: str | None) -> None:
    """Refuse (415) a body that is neither a supported file format nor a multipart upload."""
    if media_type(content_type) != MULTIPART and format_of(content_type) is None:
        raise _unsupported()


def may_be_json(content_type: str | None) -> bool:
    """Whether the body may be a JSON array (a multipart file part may be anything)."""
    return media_type(content_type) == MULTIPART or format_of(content_type) is Format.JSON


def declared_length(request: Request[Any, Any, Any]) -> int | None:
    """The body's ``Content-Length``, if the client declared a usable one."""
    raw = request.headers.get("content-length", "")
    return int(raw) if raw.isdigit() else None


async def receive_upload(request: Request[Any, Any, Any], file: BinaryIO) -> tuple[Format, int]:
    """Write the uploaded file to ``file``; return its format and size (the caller removes it on failure)."""
    content_type = request.headers.get("content-type")
    if media_type(content_type) == MULTIPART:
        return await _receive_multipart(request.stream(), content_type or "", file)
    fmt = format_of(content_type)
    if fmt is None:
        raise _unsupported()
    return fmt, await _copy(request.stream(), file)


async def _copy(stream: AsyncIterator[bytes], file: BinaryIO) -> int:
    size = 0
    async for chunk in stream:
        file.write(chunk)
        size += len(chunk)
    return size


async def _receive_multipart(stream: AsyncIterator[bytes], content_type: str, file: BinaryIO) -> tuple[Format, int]:
    boundary = parse_options_header(content_type)[1].get("boundary")
    if not boundary:
        raise InvalidInput([FieldError("body", "upload.malformed")])
    fmt: Format | None = None
    writing = False
    size = 0
    try:
        with PushMultipartParser(boundary, max_segment_count=MAX_PARTS) as parser:
            async for chunk in _until_eof(stream):
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        writing = fmt is None and event.name == FILE_FIELD
                        if writing:
                            fmt = format_of(event.content_type, event.filename)
                            if fmt is None:
                                raise _unsupported()
                    elif event and writing:
                        file.write(event)
                        size += len(event)
                    elif event is None:
                        writing = False
                if parser.closed:
                    break
    except ParserError:
        raise InvalidInput([FieldError("body", "upload.malformed")]) from None
    if fmt is None:
        raise InvalidInput([FieldError(FILE_FIELD, "upload.file_missing")])
    return fmt, size


async def _until_eof(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body's chunks, then the empty chunk that tells the push parser the body has ended."""
    async for chunk in stream:
        if chunk:
            yield chunk
    yield b""
