"""Reading a whole upload once before any row is used: is it readable, and where do its chunks lie.

A file that cannot be read (not UTF-8, a CSV quote never closed, a broken JSON array) fails
here, before any chunk runs, so an import never stores half of a broken file. The scan keeps
a block and at most one record (``records.MAX_ROW_BYTES``) in memory, however long a line is. A
JSON array is rewritten as NDJSON (one row per line) by a streaming parser, so every format is
split and read the same way afterwards; the parser holds one array item at a time.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from domain.jobs.formats import Format, UnreadableFile
from domain.jobs.json_array import json_array_to_ndjson
from domain.jobs.records import is_blank_line, is_plain_csv, records

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
        json_array_to_ndjson(upload, rows_path(upload, fmt), start)
        return list(_split(rows_path(upload, fmt), 0, rows_per_chunk, csv_quotes=False))
    if fmt is Format.CSV:
        _columns, body_start = read_csv_header(upload)
        plain = _split_plain_csv(upload, body_start, rows_per_chunk)
        return plain if plain is not None else list(_split(upload, body_start, rows_per_chunk, csv_quotes=True))
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


def _split(path: Path, start: int, rows_per_chunk: int, csv_quotes: bool) -> Iterator[Span]:
    chunk_start, first_row, rows = start, 1, 0
    end = start
    with path.open("rb") as file:
        for end, _raw, blank in records(file, start, None, csv_quotes):
            if blank:
                continue
            rows += 1
            if rows == rows_per_chunk:
                yield Span(chunk_start, end, first_row, rows)
                chunk_start, first_row, rows = end, first_row + rows, 0
    if rows:
        yield Span(chunk_start, end, first_row, rows)


def _split_plain_csv(path: Path, start: int, rows_per_chunk: int) -> list[Span] | None:
    """:func:`_split` for a plain CSV body (no quote, no CR but in a CRLF), or None for any other.

    Such a body's records are its lines, so they are counted block by block at C speed instead
    of walked record by record (held equal to the walk by a differential Hypothesis test). A
    line longer than a block is counted, not kept: memory stays at a block.
    """
    spans: list[Span] = []
    chunk_start, first_row, rows = start, 1, 0
    offset = start  # where the next line begins
    carry, carried = b"", 0  # the unfinished line's kept start, and how many of its bytes were dropped
    with path.open("rb") as file:
        file.seek(start)
        while block := file.read(BLOCK_BYTES):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            complete, carry = data[:cut], data[cut:]
            if not is_plain_csv(complete) or b'"' in carry or b"\r" in carry[:-1]:
                return None
            for line in complete.split(b"\n")[:-1]:
                offset += carried + len(line) + 1
                # A line of line ends only is blank, as the walk has it; no row.
                if carried or not is_blank_line(line):
                    rows += 1
                    if rows == rows_per_chunk:
                        spans.append(Span(chunk_start, offset, first_row, rows))
                        chunk_start, first_row, rows = offset, first_row + rows, 0
                carried = 0
            if len(carry) > 2:  # not blank whatever follows: keep its last byte (a CR of a CRLF)
                carried += len(carry) - 1
                carry = carry[-1:]
    if b"\r" in carry:
        return None  # the last line ends in a lone CR
    if carried or carry:
        offset += carried + len(carry)
        rows += 1
    if rows:
        spans.append(Span(chunk_start, offset, first_row, rows))
    return spans


def read_csv_header(path: Path) -> tuple[list[str], int]:
    """The column names of a CSV file's header row, and the offset where its data rows start."""
    with path.open("rb") as file:
        start = len(BOM) if file.read(len(BOM)) == BOM else 0
        header = next((record for record in records(file, start, None, csv_quotes=True) if not record.blank), None)
    if header is None:
        raise UnreadableFile("file.empty")
    if header.raw is None:
        raise UnreadableFile("file.csv_header")
    try:
        cells = next(csv.reader([header.raw.decode("utf-8")]))
    except (csv.Error, StopIteration):
        raise UnreadableFile("file.csv_header") from None
    columns = [cell.strip() for cell in cells]
    if not all(columns) or len(set(columns)) != len(columns) or max(map(len, columns)) > MAX_COLUMN_NAME:
        raise UnreadableFile("file.csv_header")
    return columns, header.end
