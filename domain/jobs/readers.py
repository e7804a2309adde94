"""Reading one chunk's rows: a dict per data row, or the reason the row is not a record at all.

An empty CSV cell means the field is absent. Row numbers count data rows from 1 (a CSV header
and blank lines are not rows), the same way the scan counted them; a chunk that reads a
different number of rows than the scan found means the file is not what it seemed.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from domain.errors import FieldError
from domain.jobs.formats import Format, UnreadableFile
from domain.jobs.scan import Span, read_csv_header, rows_path

# A cell longer than csv's default limit is still a row: its value fails the rules instead.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
ROW_FIELD = "row"


class Row(NamedTuple):
    """One data row: its fields, or the errors that make it unusable as a record."""

    number: int
    data: dict[str, Any] | None
    errors: Sequence[FieldError] = ()


def read_span(upload: Path, fmt: Format, span: Span) -> list[Row]:
    """The rows of one chunk of the upload."""
    path = rows_path(upload, fmt)
    with path.open("rb") as file:
        file.seek(span.start_byte)
        raw = file.read(span.end_byte - span.start_byte)
    rows = list(_csv_rows(upload, raw, span.first_row) if fmt is Format.CSV else _ndjson_rows(raw, span.first_row))
    if len(rows) != span.rows:
        raise UnreadableFile("file.csv_malformed" if fmt is Format.CSV else "file.json_malformed")
    return rows


def _csv_rows(upload: Path, raw: bytes, first_row: int) -> Iterator[Row]:
    columns, _start = read_csv_header(upload)
    width = len(columns)
    number = first_row
    try:
        for cells in csv.reader(io.StringIO(raw.decode("utf-8"), newline="")):
            if not cells:
                continue
            if len(cells) > width:
                yield Row(number, None, (FieldError(ROW_FIELD, "row.extra_cells", {"max": width}),))
            elif "" in cells:
                yield Row(number, {name: cell for name, cell in zip(columns, cells, strict=False) if cell})
            else:
                yield Row(number, dict(zip(columns, cells, strict=False)))
            number += 1
    except (csv.Error, UnicodeDecodeError):
        raise UnreadableFile("file.csv_malformed") from None


_decode = msgspec.json.Decoder().decode


def _ndjson_rows(raw: bytes, first_row: int) -> Iterator[Row]:
    number = first_row
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            value = _decode(line)
        except msgspec.DecodeError:
            yield Row(number, None, (FieldError(ROW_FIELD, "row.malformed_json"),))
        else:
            if isinstance(value, dict):
                yield Row(number, value)
            else:
                yield Row(number, None, (FieldError(ROW_FIELD, "row.not_object"),))
        number += 1
