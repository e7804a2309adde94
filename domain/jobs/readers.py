"""Reading one chunk's rows: a dict per data row, or the reason the row is not a record at all.

An empty CSV cell means the field is absent. Row numbers count data rows from 1 (a CSV header
and blank lines are not rows), the same way the scan counted them; a chunk that reads a
different number of rows than the scan found means the file is not what it seemed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import msgspec

from domain.errors import FieldError
from domain.jobs.formats import Format, UnreadableFile
from domain.jobs.records import MAX_ROW_BYTES, is_blank_line, is_plain_csv, records
from domain.jobs.scan import Span, read_csv_header, rows_path
from domain.json_text import MALFORMED_JSON_ERRORS

ROW_FIELD = "row"


class Row(NamedTuple):
    """One data row: its fields, or the errors that make it unusable as a record."""

    number: int
    data: dict[str, Any] | None
    errors: Sequence[FieldError] = ()


# A plain CSV chunk (see _plain_csv_records) at most this large is read in one piece.
PLAIN_SPAN_BYTES = 16 * 1024 * 1024


def read_span(upload: Path, fmt: Format, span: Span) -> list[Row]:
    """The rows of one chunk of the upload, read record by record (never more than a record held)."""
    csv_quotes = fmt is Format.CSV
    with rows_path(upload, fmt).open("rb") as file:
        found = _plain_csv_records(file, span) if csv_quotes else None
        plain = found is not None
        if found is None:
            found = [r.raw for r in records(file, span.start_byte, span.end_byte, csv_quotes) if not r.blank]
    numbered = enumerate(found, start=span.first_row)
    rows = list(_csv_rows(upload, numbered, plain) if csv_quotes else _ndjson_rows(numbered))
    if len(rows) != span.rows:
        raise UnreadableFile("file.csv_malformed" if csv_quotes else "file.json_malformed")
    return rows


def _plain_csv_records(file: BinaryIO, span: Span) -> list[bytes | None] | None:
    """The usual chunk's records (their bytes; None: too long) found at once, or None when the
    record walk must find them.

    A chunk with no quote, and no carriage return but in a CRLF, is plain: every record is one
    line, exactly as :func:`domain.jobs.records.records` would find it (held equal by a
    differential Hypothesis test), at a fraction of the cost. Quotes, lone CRs and chunks larger
    than ``PLAIN_SPAN_BYTES`` take the walk, which never holds more than a record.
    """
    if span.end_byte - span.start_byte > PLAIN_SPAN_BYTES:
        return None
    file.seek(span.start_byte)
    data = file.read(span.end_byte - span.start_byte)
    if not is_plain_csv(data):
        return None
    lines = data.split(b"\n")
    last = lines.pop()  # empty when the chunk ends with a line end
    # A record's size counts its line end, as the walk counts it; a line of line ends only is
    # blank (no row). A CR left at a line's end belongs to its CRLF.
    found: list[bytes | None] = [
        (line[:-1] if line.endswith(b"\r") else line) if len(line) < MAX_ROW_BYTES else None
        for line in lines
        if not is_blank_line(line)
    ]
    if last:
        found.append(last if len(last) <= MAX_ROW_BYTES else None)
    return found


def _too_long(number: int) -> Row:
    return Row(number, None, (FieldError(ROW_FIELD, "row.too_long", {"max": MAX_ROW_BYTES}),))


def _csv_rows(upload: Path, numbered: Iterable[tuple[int, bytes | None]], plain: bool) -> Iterator[Row]:
    columns, _start = read_csv_header(upload)
    width = len(columns)
    for number, raw in numbered:
        if raw is None:
            yield _too_long(number)
            continue
        try:
            # One record is one csv row, as the scan found it; the text is UTF-8 (checked by the scan).
            # Without quotes or CRs the csv module splits on commas and nothing else.
            text = raw.decode("utf-8")
            if plain:
                cells = text.split(",")
            else:
                (cells,) = csv.reader([text])
        except (csv.Error, UnicodeDecodeError, ValueError):
            raise UnreadableFile("file.csv_malformed") from None
        if len(cells) > width:
            yield Row(number, None, (FieldError(ROW_FIELD, "row.extra_cells", {"max": width}),))
        elif "" in cells:
            yield Row(number, {name: cell for name, cell in zip(columns, cells, strict=False) if cell})
        else:
            yield Row(number, dict(zip(columns, cells, strict=False)))


_decode = msgspec.json.Decoder().decode


def _ndjson_rows(numbered: Iterable[tuple[int, bytes | None]]) -> Iterator[Row]:
    for number, raw in numbered:
        if raw is None:
            yield _too_long(number)
            continue
        try:
            value = _decode(raw)
        except MALFORMED_JSON_ERRORS:  # deep nesting, bad UTF-8, numbers out of range: as any bad JSON
            yield Row(number, None, (FieldError(ROW_FIELD, "row.malformed_json"),))
        else:
            if isinstance(value, dict):
                yield Row(number, value)
            else:
                yield Row(number, None, (FieldError(ROW_FIELD, "row.not_object"),))
