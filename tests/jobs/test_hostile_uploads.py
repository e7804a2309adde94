"""Hostile uploads: files a parser refuses fail with their reason, odd CSV reads as Python's csv
module reads it, and no line, however long, is held in a worker's memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from domain.jobs import records as records_module
from domain.jobs import scan as scan_module
from domain.jobs.formats import Format, UnreadableFile
from domain.jobs.json_array import SurrogateWatch
from domain.jobs.readers import read_span
from domain.jobs.records import MAX_ROW_BYTES, records
from domain.jobs.scan import plan_spans
from tests.jobs.helpers import encode, errors, run_job

ROW = {"nhs_number": "9434765919", "name": "Ann", "date_of_birth": "1970-01-01", "postcode": "N6 2FA"}
HEADER = b"nhs_number,name,date_of_birth,postcode\r\n"
FAST = settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text, newline="")) if row]


def _ends_inside_quotes(text: str) -> bool:
    """Python's csv, asked itself: a line end and ``x`` after ``text`` stay in the last cell only inside quotes."""
    return _csv_rows(text + "\nx")[-1] != ["x"]


@FAST
@given(text=st.text(alphabet='a,"\r\n é\x00', max_size=40), block=st.sampled_from([1, 2, 3, 5, 4096]))
@example(text='nhs,na"me\r\n', block=4096)
@example(text='a,"b"c"d\r', block=2)
def test_csv_records_end_where_pythons_csv_module_ends_rows(text: str, block: int) -> None:
    data = text.encode()
    with patch.object(records_module, "BLOCK_BYTES", block), io.BytesIO(data) as file:
        if _ends_inside_quotes(text):
            with pytest.raises(UnreadableFile):
                list(records(file, 0, None, csv_quotes=True))
            return
        found = [r for r in records(file, 0, None, csv_quotes=True) if not r.blank]
    assert [next(csv.reader([r.raw.decode()])) for r in found if r.raw is not None] == _csv_rows(text)


@FAST
@given(text=st.text(alphabet='a,"\r\n', max_size=60), limit=st.integers(1, 12), block=st.sampled_from([1, 3, 4096]))
def test_a_record_beyond_the_limit_keeps_its_place_but_not_its_bytes(text: str, limit: int, block: int) -> None:
    data = text.encode()
    if _ends_inside_quotes(text):
        return
    with io.BytesIO(data) as file:
        whole = list(records(file, 0, None, csv_quotes=True))
    with (
        patch.object(records_module, "MAX_ROW_BYTES", limit),
        patch.object(records_module, "BLOCK_BYTES", block),
        io.BytesIO(data) as file,
    ):
        bounded = list(records(file, 0, None, csv_quotes=True))
    assert [(r.end, r.blank) for r in bounded] == [(r.end, r.blank) for r in whole]
    for small, full in zip(bounded, whole, strict=True):
        assert small.raw == (full.raw if full.raw is not None and len(full.raw) <= limit else None)


ESCAPES = ["a", "\\\\", "\\ud800", "\\udbff", "\\udc00", "\\ud83d\\ude00", "\\u0041", "\\n", '\\"', "\\\\ud800"]


@FAST
@given(parts=st.lists(st.sampled_from(ESCAPES), max_size=12), size=st.sampled_from([1, 2, 3, 7, 4096]))
def test_a_lone_surrogate_escape_is_found_wherever_the_reads_cut(parts: list[str], size: int) -> None:
    document = ('["' + "".join(parts) + '"]').encode()
    lone = any(0xD800 <= ord(char) <= 0xDFFF for char in json.loads(document)[0])
    watch = SurrogateWatch(io.BytesIO(document))  # type: ignore[arg-type]
    try:
        while watch.read(size):
            pass
    except UnreadableFile:
        assert lone
    else:
        assert not lone


def _read(path: Path, fmt: Format) -> list[tuple[int, dict[str, Any] | None, list[str]]]:
    return [
        (row.number, row.data, [e.code for e in row.errors])
        for span in plan_spans(path, fmt, 3)
        for row in read_span(path, fmt, span)
    ]


def test_a_stray_quote_in_an_unquoted_cell_is_a_literal_as_in_pythons_csv(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(b'name,postcode\r\nAnn "Nan Lee,N6 2FA\r\nBo,N1\r\n"Cy"x,"a""b"\r\n')

    assert _read(path, Format.CSV) == [
        (1, {"name": 'Ann "Nan Lee', "postcode": "N6 2FA"}, []),
        (2, {"name": "Bo", "postcode": "N1"}, []),
        (3, {"name": "Cyx", "postcode": 'a"b'}, []),
    ]


def test_lines_ended_by_a_lone_carriage_return_are_rows_as_in_pythons_csv(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(b"name,postcode\rAnn,N6 2FA\rBo,N1\r")

    assert _read(path, Format.CSV) == [
        (1, {"name": "Ann", "postcode": "N6 2FA"}, []),
        (2, {"name": "Bo", "postcode": "N1"}, []),
    ]


@pytest.mark.parametrize("fmt", [Format.CSV, Format.NDJSON, Format.JSON])
def test_a_row_too_long_is_rejected_and_reading_goes_on(tmp_path: Path, fmt: Format) -> None:
    long = {**ROW, "name": "N" * (MAX_ROW_BYTES + 10)}
    path = tmp_path / "upload"
    path.write_bytes(encode([ROW, long, ROW, ROW], fmt.value, list(ROW)))

    rows = _read(path, fmt)

    assert [(number, codes) for number, _data, codes in rows] == [(1, []), (2, ["row.too_long"]), (3, []), (4, [])]


@pytest.mark.parametrize("fmt", [Format.CSV, Format.NDJSON])
def test_reading_a_file_with_one_huge_line_holds_no_more_than_a_row(tmp_path: Path, fmt: Format) -> None:
    path = tmp_path / "upload"
    huge = 32 * 1024 * 1024
    with path.open("wb") as file:
        file.write(HEADER if fmt is Format.CSV else b"")
        file.write(b"x" * huge + b"\n")
    tracemalloc.start()
    try:
        rows = _read(path, fmt)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [codes for _n, _d, codes in rows] == [["row.too_long"]]
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes for a {huge}-byte line"


pytestmark_db = pytest.mark.usefixtures("engine")


@pytestmark_db
@pytest.mark.parametrize(
    "body",
    [
        b'[{"nhs_number": "9434765919", "name": "Ann \\ud800"}]',  # yajl reads it as "Ann ?"
        b'[{"nhs_number": "9434765919", "name": "\\udc00Ann"}]',
        b'[{"nhs_number": "9434765919", "name": ' + b"[" * 5000 + b"]" * 5000 + b"}]",
        b'[{"nhs_number": "9434765919", "name": ' + b"9" * 100_000 + b"}]",
        b'[{"nhs_number": "9434765919", "name": 1e999999}]',
    ],
    ids=["lone high surrogate", "lone low surrogate", "deep nesting", "huge integer", "huge exponent"],
)
async def test_a_json_array_a_parser_refuses_fails_the_job_as_malformed(client, sessions, settings, body) -> None:
    job = await run_job(client, sessions, settings, "patients", "import", body, "json")

    assert (job["status"], job["reason"]["code"], job["imported"]) == ("failed", "file.json_malformed", 0)


@pytestmark_db
async def test_hostile_lines_and_rows_are_rejected_rows_not_a_failed_job(client, sessions, settings) -> None:
    good = json.dumps(ROW).encode()
    body = b"\n".join(
        [good, b"[" * 5000 + b"]" * 5000, b'{"name": "\\ud800"}', b"{" + b" " * MAX_ROW_BYTES + b"}", good]
    )
    job = await run_job(client, sessions, settings, "patients", "validate", body + b"\n", "ndjson")

    assert (job["status"], job["total"], job["invalid"]) == ("succeeded", 5, 3)
    assert [(e["row"], e["code"]) for e in await errors(client, job["id"])] == [
        (2, "row.malformed_json"),
        (3, "row.malformed_json"),
        (4, "row.too_long"),
    ]


@pytestmark_db
async def test_a_csv_file_with_stray_quotes_imports_as_pythons_csv_reads_it(client, sessions, settings) -> None:
    body = HEADER + b'9434765919,Ann "Nan Lee,1970-01-01,N6 2FA\r\n'
    job = await run_job(client, sessions, settings, "patients", "import", body, "csv")

    assert (job["status"], job["imported"]) == ("succeeded", 1)
    assert (await client.get("/patients/9434765919")).json()["name"] == 'Ann "Nan Lee'


@FAST
@given(
    lines=st.lists(st.text(alphabet="ab,é \x00", max_size=12), max_size=30),
    line_end=st.sampled_from(["\n", "\r\n"]),
    ending=st.sampled_from(["\n", "\r\n", ""]),
    odd=st.sampled_from(["", '"', "\r", "\r\n"]),
    rows_per_chunk=st.integers(1, 7),
    limit=st.integers(8, 40),
)
def test_a_plain_chunk_read_at_once_gives_the_rows_the_record_walk_gives(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    line_end: str,
    ending: str,
    odd: str,
    rows_per_chunk: int,
    limit: int,
) -> None:
    # readers._plain_csv_records (no quote, no lone CR: split on line ends) against the record walk.
    text = "a,b,c" + line_end + line_end.join(lines) + ending
    if odd and lines:
        text = text.replace(",", odd + ",", 1)  # a quote or CR somewhere: the walk reads that chunk
    if _ends_inside_quotes(text):
        return
    path = tmp_path_factory.mktemp("plain") / "rows.csv"
    path.write_bytes(text.encode())
    with patch.object(records_module, "MAX_ROW_BYTES", limit), patch("domain.jobs.readers.MAX_ROW_BYTES", limit):
        spans = plan_spans(path, Format.CSV, rows_per_chunk)
        at_once = [read_span(path, Format.CSV, span) for span in spans]
        with patch("domain.jobs.readers.PLAIN_SPAN_BYTES", -1):
            walked = [read_span(path, Format.CSV, span) for span in spans]
    assert at_once == walked


@FAST
@given(
    body=st.text(alphabet='ab, é\r\n"', max_size=60),
    rows_per_chunk=st.integers(1, 7),
    block=st.sampled_from([1, 2, 3, 5, 4096]),
)
def test_a_plain_csv_body_is_split_as_the_record_walk_splits_it(
    tmp_path_factory: pytest.TempPathFactory, body: str, rows_per_chunk: int, block: int
) -> None:
    # scan._split_plain_csv (lines counted block by block) against the walk, record by record.
    if _ends_inside_quotes(body):
        return
    path = tmp_path_factory.mktemp("scan") / "rows.csv"
    path.write_bytes(b"h\n" + body.encode())
    with patch.object(scan_module, "BLOCK_BYTES", block):
        counted = scan_module._split_plain_csv(path, 2, rows_per_chunk)
        walked = list(scan_module._split(path, 2, rows_per_chunk, csv_quotes=True))
    plain = '"' not in body and body.count("\r") == body.count("\r\n")
    assert (counted is not None) == plain
    if counted is not None:
        assert counted == walked
