"""Rewriting a JSON array upload as NDJSON, streaming, refusing every array a JSON parser would.

ijson's C backend (yajl) turns a lone surrogate escape such as ``"\\ud800"`` into ``?`` without a
word, and its Python backend hands back a string no encoder accepts; either way the row would
not be what the file says. The bytes ijson reads are therefore watched for escapes of lone
surrogates as they pass, so the file is read once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

import ijson
import msgspec

from domain.jobs.formats import UnreadableFile
from domain.json_text import MALFORMED_JSON_ERRORS

# One escape: a backslash and the character it escapes, or \u and four hex digits. Read left
# to right, each backslash is either an escape's first character or the escaped one.
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_LONGEST_ESCAPE = 6


class SurrogateWatch:
    """A file wrapper that fails a JSON text holding a surrogate escape not part of a pair."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._tail = b""  # bytes that may begin an escape the next block completes
        self._offset = 0  # of _tail's first byte in the stream
        self._high_end = -1  # where an unpaired high surrogate escape ended, if one is open

    def read(self, size: int = -1) -> bytes:
        """Read as the file would, checking the escapes the block completes."""
        block = self._file.read(size)
        self._check(self._tail + block, final=not block)
        return block

    def _check(self, data: bytes, final: bool) -> None:
        # An escape starting this near the end may be cut short: it waits for the next block.
        limit = len(data) if final else max(0, len(data) - _LONGEST_ESCAPE)
        resume = -1
        checked = 0
        for escape in _ESCAPE.finditer(data):
            if escape.start() >= limit:
                resume = escape.start()
                break
            at = self._offset + escape.start()
            unit = int(escape.group(1), 16) if escape.group(1) else -1
            if self._high_end >= 0 and not (at == self._high_end and 0xDC00 <= unit <= 0xDFFF):
                raise UnreadableFile("file.json_malformed")  # a high surrogate not followed by a low one
            if 0xDC00 <= unit <= 0xDFFF and self._high_end < 0:
                raise UnreadableFile("file.json_malformed")  # a low surrogate not after a high one
            self._high_end = self._offset + escape.end() if 0xD800 <= unit <= 0xDBFF else -1
            checked = escape.end()
        if resume < 0:
            resume = max(checked, limit)
        # Bytes up to ``resume`` hold no further escape: a high surrogate still open there is alone.
        if self._high_end >= 0 and (final or self._offset + resume > self._high_end):
            raise UnreadableFile("file.json_malformed")
        self._tail = data[resume:]
        self._offset += resume


def json_array_to_ndjson(source: Path, target: Path, start: int) -> None:
    """Rewrite a JSON array as one JSON value per line, streaming: memory stays flat."""
    with source.open("rb") as file, target.open("wb") as out:
        file.seek(start)
        if _first_byte(file) != b"[":
            raise UnreadableFile("file.json_malformed")
        file.seek(start)
        encode = msgspec.json.Encoder().encode
        lines: list[bytes] = []
        try:
            # Floats, not Decimals: the rows go on as JSON; the parser's messages quote the file, so
            # only the error's class is used. Nesting too deep to re-encode, or numbers no float
            # holds, are as malformed as a missing bracket.
            for item in ijson.items(SurrogateWatch(file), "item", use_float=True):
                lines.append(encode(item))
                if len(lines) >= 4096:
                    out.write(b"\n".join(lines) + b"\n")
                    lines.clear()
        except (ijson.JSONError, *MALFORMED_JSON_ERRORS):
            raise UnreadableFile("file.json_malformed") from None
        if lines:
            out.write(b"\n".join(lines) + b"\n")


def _first_byte(file: BinaryIO) -> bytes:
    while block := file.read(4096):
        stripped = block.lstrip()
        if stripped:
            return stripped[:1]
    return b""
