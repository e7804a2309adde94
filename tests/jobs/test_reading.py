"""Reading uploads without a database: chunk boundaries, row numbers, and the validation fast path."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import InvalidInput
from domain.inputs import PatientCreate, parse_input, stored_patient_values
from domain.jobs.formats import Format, UnreadableFile
from domain.jobs.readers import read_span
from domain.jobs.scan import plan_spans
from domain.jobs.validate import check_patient
from domain.rules.dates import today_in_london


def read_all(path: Path, fmt: Format, rows_per_chunk: int) -> list[tuple[int, dict | None]]:
    rows = []
    for span in plan_spans(path, fmt, rows_per_chunk):
        rows.extend((row.number, row.data) for row in read_span(path, fmt, span))
    return rows


def test_csv_rows_keep_their_numbers_across_chunks_quotes_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(
        b"\xef\xbb\xbfname,postcode\r\n"
        b'"Ann\r\nLee",N6 2FA\r\n'
        b"\r\n"
        b'"Bo ""The"" Li",\r\n'
        b"Cy,SW1A 1AA\n"
        b'"Dee, Eve","x"\r\n'
        b"Fay,N1"
    )

    for size in (1, 2, 3, 10):
        assert read_all(path, Format.CSV, size) == [
            (1, {"name": "Ann\r\nLee", "postcode": "N6 2FA"}),
            (2, {"name": 'Bo "The" Li'}),
            (3, {"name": "Cy", "postcode": "SW1A 1AA"}),
            (4, {"name": "Dee, Eve", "postcode": "x"}),
            (5, {"name": "Fay", "postcode": "N1"}),
        ]


def test_a_json_array_is_read_as_a_stream_of_rows(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_text('[{"name": "Ann\\nLee"},\n 1, {"name": "Bo", "n": 1.5}]', encoding="utf-8")

    rows = []
    for span in plan_spans(path, Format.JSON, 2):
        rows.extend((row.number, row.data, [e.code for e in row.errors]) for row in read_span(path, Format.JSON, span))

    assert rows == [(1, {"name": "Ann\nLee"}, []), (2, None, ["row.not_object"]), (3, {"name": "Bo", "n": 1.5}, [])]


def test_an_unclosed_quote_makes_the_whole_file_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(b'name\r\n"Ann\r\nBo\r\n')

    with pytest.raises(UnreadableFile) as caught:
        plan_spans(path, Format.CSV, 10)

    assert caught.value.code == "file.csv_malformed"


BASE = {"nhs_number": "9434765919", "name": "A", "date_of_birth": "1970-01-01", "postcode": "N6 2FA"}
VARIANTS = [
    {"nhs_number": "943 476 5919", "name": "Siân", "date_of_birth": "1970-01-01", "postcode": "n62fa"},
    {**BASE, "email": None},
    {**BASE, "phone": "07700 900123"},
    {**BASE, "email": "a@b.org"},
    {"nhs_number": "9434765918", "name": "", "date_of_birth": "2999-01-01", "postcode": "N6"},
    {**BASE, "nhs_number": 9434765919},
    {**BASE, "name": None},
    {key: value for key, value in BASE.items() if key != "name"},
    {**BASE, "nick": "x"},
    {**BASE, "name": "A\u0007", "date_of_birth": "01/01/1970", "phone": "1"},
    # null for an optional field is the field left out (the fast path read it so; the model refused it)
    {**BASE, "language": None, "reminder_preference": None, "phone": None},
    {**BASE, "language": None, "postcode": "N6"},
    {**BASE, "language": "fr", "postcode": "N6"},
]


@pytest.mark.parametrize("row", VARIANTS)
def test_the_fast_path_agrees_with_the_api_model(row: dict) -> None:
    checked = check_patient(row, today_in_london())
    try:
        expected = stored_patient_values(parse_input(PatientCreate, row).model_dump())
    except InvalidInput as exc:
        assert checked == exc.errors
    else:
        assert checked == expected
