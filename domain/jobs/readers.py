"""Reading one chunk's rows: a dict per data row, or the reason the row is not a record at all.

An empty CSV cell means the field is absent. Row numbers count data rows from 1 (a CSV header
and blank lines are not rows), the same way the scan counted them; a chunk that reads a
different number of rows than the scan found means the file is not what it seemed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from domain.errors import FieldError
from domain.jobs.formats import Format, UnreadableFile
from domain.jobs.records import MAX_ROW_BYTES, Record, records
from domain.jobs.scan import Span, read_csv_header, rows_path
from domain.json_text import MALFORMED_JSON_ERRORS

ROW_FIELD = "row"


class Row(NamedTuple):
    """One data row: its fields, or the errors that make it unusable as a record."""

    number: int
    data: dict[str, Any] | None
    errors: Sequence[FieldError] = ()


def read_span(upload: Path, fmt: Format, span: Span) -> list[Row]:
    """The rows of one chunk of the upload, read record by record (never more than a record held)."""
    csv_quotes = fmt is Format.CSV
    with rows_path(upload, fmt).open("rb") as file:
        found = [record for record in records(file, span.start_byte, span.end_byte, csv_quotes) if not record.blank]
    numbered = enumerate(found, start=span.first_row)
    rows = list(_csv_rows(upload, numbered) if csv_quotes else _ndjson_rows(numbered))
    if len(rows) != span.rows:
        raise UnreadableFile("file.csv_malformed" if csv_quotes else "file.json_malformed")
    return rows


def _too_long(number: int) -> Row:
    return Row(number, None, (FieldError(ROW_FIELD, "row.too_long", {"max": MAX_ROW_BYTES}),))


def _csv_rows(upload: Path, numbered: Iterable[tuple[int, Record]]) -> Iterator[Row]:
    columns, _start = read_csv_header(upload)
    width = len(columns)
    for number, record in numbered:
        if record.raw is None:
            yield _too_long(number)
            continue
        try:
            # One record is one csv row, as the scan found it; the text is UTF-8 (checked by the scan).
            (cells,) = csv.reader([record.raw.decode("utf-8")])
        except (csv.Error, UnicodeDecodeError, ValueError):
            raise UnreadableFile("file.csv_malformed") from None
        if len(cells) > width:
            yield Row(number, None, (FieldError(ROW_FIELD, "row.extra_cells", {"max": width}),))
        elif "" in cells:
            yield Row(number, {name: cell for name, cell in zip(columns, cells, strict=False) if cell})
        else:
            yield Row(number, dict(zip(columns, cells, strict=False)))


_decode = msgspec.json.Decoder().decode


def _ndjson_rows(numbered: Iterable[tuple[int, Record]]) -> Iterator[Row]:
    for number, record in numbered:
        if record.raw is None:
            yield _too_long(number)
            continue
        try:
            value = _decode(record.raw)
        except MALFORMED_JSON_ERRORS:  # deep nesting, bad UTF-8, numbers out of range: as any bad JSON
            yield Row(number, None, (FieldError(ROW_FIELD, "row.malformed_json"),))
        else:
            if isinstance(value, dict):
                yield Row(number, value)
            else:
                yield Row(number, None, (FieldError(ROW_FIELD, "row.not_object"),))
