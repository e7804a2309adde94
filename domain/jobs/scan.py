"""Reading a whole upload once before any row is used: is it readable, and where do its chunks lie.

A file that cannot be read (not UTF-8, a CSV quote never closed, a broken JSON array) fails
here, before any chunk runs, so an import never stores half of a broken file. The scan keeps
only a line in memory, whatever the file's size. A JSON array is rewritten as NDJSON (one row
per line) by a streaming parser, so every format is split and read the same way afterwards.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ijson
import msgspec

from domain.jobs.formats import Format, UnreadableFile

BLOCK_BYTES = 1 << 20
BOM = codecs.BOM_UTF8
MAX_COLUMN_NAME = 255


@dataclass(frozen=True)
class Span:
    """A byte range of the rows file holding ``rows`` data rows, the first numbered ``first_row``."""

    start_byte: int
    end_byte: int
    first_row: int
    rows: int


def rows_path(upload: Path, fmt: Format) -> Path:
    """The file the chunks read: the upload itself, or the NDJSON copy of a JSON array."""
    return upload.with_name(upload.name + ".ndjson") if fmt is Format.JSON else upload


def plan_spans(upload: Path, fmt: Format, rows_per_chunk: int) -> list[Span]:
    """Check that the file can be read as ``fmt`` and split its rows into chunks of ``rows_per_chunk``."""
    start = _check_utf8(upload)
    if fmt is Format.JSON:
        _json_array_to_ndjson(upload, rows_path(upload, fmt), start)
        return list(_split(rows_path(upload, fmt), 0, rows_per_chunk, csv_quotes=False))
    if fmt is Format.CSV:
        _columns, body_start = read_csv_header(upload)
        return list(_split(upload, body_start, rows_per_chunk, csv_quotes=True))
    return list(_split(upload, start, rows_per_chunk, csv_quotes=False))


def _check_utf8(path: Path) -> int:
    """Fail unless the file is non-blank UTF-8; return where its content starts (after a BOM)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    blank = True
    with path.open("rb") as file:
        head = file.read(len(BOM))
        start = len(BOM) if head == BOM else 0
        file.seek(start)
        try:
            while block := file.read(BLOCK_BYTES):
                decoder.decode(block)
                blank = blank and not block.strip()
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UnreadableFile("file.encoding") from None
    if blank:
        raise UnreadableFile("file.empty")
    return start


def _records(path: Path, start: int, csv_quotes: bool) -> Iterator[tuple[int, bool]]:
    """Yield ``(end offset, is blank)`` per record; a CSV record spans lines while a quote is open.

    In RFC 4180 CSV a quote is literal only when doubled, so a line ends a record exactly when
    the count of quotes read so far is even.
    """
    offset = start
    open_quote = False
    record_blank = True
    with path.open("rb") as file:
        file.seek(start)
        for line in file:
            offset += len(line)
            if not open_quote:
                record_blank = not (line.strip(b"\r\n") if csv_quotes else line.strip())
            if csv_quotes and b'"' in line and line.count(b'"') & 1:
                open_quote = not open_quote
            if not open_quote:
                yield offset, record_blank
    if open_quote:
        raise UnreadableFile("file.csv_malformed")


def _split(path: Path, start: int, rows_per_chunk: int, csv_quotes: bool) -> Iterator[Span]:
    chunk_start, first_row, rows = start, 1, 0
    end = start
    for end, blank in _records(path, start, csv_quotes):
        if blank:
            continue
        rows += 1
        if rows == rows_per_chunk:
            yield Span(chunk_start, end, first_row, rows)
            chunk_start, first_row, rows = end, first_row + rows, 0
    if rows:
        yield Span(chunk_start, end, first_row, rows)


def read_csv_header(path: Path) -> tuple[list[str], int]:
    """The column names of a CSV file's header row, and the offset where its data rows start."""
    with path.open("rb") as file:
        start = len(BOM) if file.read(len(BOM)) == BOM else 0
        for end, blank in _records(path, start, csv_quotes=True):
            if blank:
                continue
            file.seek(start)
            text = file.read(end - start).decode("utf-8")
            break
        else:
            raise UnreadableFile("file.empty")
    try:
        cells = next(csv.reader(io.StringIO(text, newline="")))
    except (csv.Error, StopIteration):
        raise UnreadableFile("file.csv_header") from None
    columns = [cell.strip() for cell in cells]
    if not all(columns) or len(set(columns)) != len(columns) or max(map(len, columns)) > MAX_COLUMN_NAME:
        raise UnreadableFile("file.csv_header")
    return columns, end


def _json_array_to_ndjson(source: Path, target: Path, start: int) -> None:
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
            # only the error's class is used.
            for item in ijson.items(file, "item", use_float=True):
                lines.append(encode(item))
                if len(lines) >= 4096:
                    out.write(b"\n".join(lines) + b"\n")
                    lines.clear()
        except ijson.JSONError:
            raise UnreadableFile("file.json_malformed") from None
        if lines:
            out.write(b"\n".join(lines) + b"\n")


def _first_byte(file: io.BufferedReader) -> bytes:
    while block := file.read(4096):
        stripped = block.lstrip()
        if stripped:
            return stripped[:1]
    return b""
