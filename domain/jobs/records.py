"""Where the records of an upload begin and end, found the same way by the scan and by every chunk.

A record is one CSV row (which may span lines inside a quoted cell) or one NDJSON line. Records
are found in fixed-size blocks, so memory never grows with the longest line: a record longer
than ``MAX_ROW_BYTES`` is reported with no content (its row is rejected ``row.too_long``) and
reading goes on after it.

CSV records end where Python's ``csv`` module (default dialect, as the chunks parse them) ends
them: a quote opens a quoted cell only as a cell's first character, so a stray ``"`` inside an
unquoted cell is a literal; after a quoted cell's closing quote, further characters continue
the cell unquoted; outside quotes a record ends at ``\\n``, ``\\r\\n`` or a lone ``\\r``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from domain.jobs.formats import UnreadableFile

# Far beyond any valid row (a patient's longest is under 2 KiB), and below the csv module's own
# 128 Ki-character cell limit, so no cell of a record that fits can exceed it.
MAX_ROW_BYTES = 64 * 1024
BLOCK_BYTES = 1 << 16

# States of the CSV walk: at a cell's first byte, in an unquoted cell, inside quotes, just after
# a quote met inside quotes (closing, or the first of a doubled pair), just after a lone ``\r``,
# and past the record's end.
_CELL_START, _UNQUOTED, _QUOTED, _AFTER_QUOTE, _AFTER_CR, _ENDED = range(6)
_LF, _CR, _QUOTE, _COMMA = b"\n"[0], b"\r"[0], b'"'[0], b","[0]
# What these bytes do at a cell's first byte, after a quote inside quotes, or ending an unquoted
# cell; any other byte there begins (or, the csv module not being strict, goes on with) an
# unquoted cell: '"a"b' is 'ab'.
_BYTE_STATE = {_LF: _ENDED, _QUOTE: _QUOTED, _COMMA: _CELL_START, _CR: _AFTER_CR}
_UNQUOTED_STOP = re.compile(rb"[,\r\n]")
_LINE_END = re.compile(rb"[\r\n]")
_QUOTED_REST = re.compile(rb'[^"]*(?:""[^"]*)*')


class Record(NamedTuple):
    """One record: the offset just past it, its bytes (``None`` when too long), and whether it is blank."""

    end: int
    raw: bytes | None
    blank: bool


def _walk_csv(buf: bytes, pos: int, state: int) -> tuple[int, int, bool]:
    """Walk ``buf`` from ``pos`` in ``state``: ``(position, state, True)`` just past a record's end,
    or ``(len(buf), state, False)`` when the record goes on beyond ``buf``."""
    size = len(buf)
    while pos < size and state != _ENDED:
        if state == _CELL_START:
            pos, state = _cell_start(buf, pos)
        elif state == _UNQUOTED:
            found = _UNQUOTED_STOP.search(buf, pos)
            pos, state = (size, _UNQUOTED) if found is None else (found.end(), _BYTE_STATE[buf[found.start()]])
        elif state == _QUOTED:  # to the first quote not doubled (a quote last in buf: the next byte decides)
            pos = _QUOTED_REST.match(buf, pos).end()  # type: ignore[union-attr]  # it matches "" too
            pos, state = (size, _QUOTED) if pos == size else (pos + 1, _AFTER_QUOTE)
        elif state == _AFTER_QUOTE:
            pos, state = _next_byte(buf, pos)
        else:  # _AFTER_CR: a \n right after it belongs to the same line end
            pos, state = (pos + 1 if buf[pos] == _LF else pos), _ENDED
    return (pos, _CELL_START, True) if state == _ENDED else (pos, state, False)


def _cell_start(buf: bytes, pos: int) -> tuple[int, int]:
    eol = _LINE_END.search(buf, pos)
    stop = eol.start() if eol else len(buf)
    quote = buf.find(b'"', pos, stop)
    if quote >= 0:
        # Cells before it are unquoted; it opens a quoted cell only as a cell's first byte.
        return quote + 1, (_QUOTED if quote == pos or buf[quote - 1] == _COMMA else _UNQUOTED)
    # The usual row: no quote before its line ends, so every cell up to there is unquoted.
    if eol is None:  # a comma last means a cell starts in the next block
        return len(buf), (_CELL_START if buf[-1] == _COMMA else _UNQUOTED)
    return stop + 1, (_ENDED if buf[stop] == _LF else _AFTER_CR)


def _next_byte(buf: bytes, pos: int) -> tuple[int, int]:
    state = _BYTE_STATE.get(buf[pos])
    return (pos, _UNQUOTED) if state is None else (pos + 1, state)


def _walk_lines(buf: bytes, pos: int, state: int) -> tuple[int, int, bool]:
    end = buf.find(b"\n", pos)
    return (len(buf), state, False) if end < 0 else (end + 1, state, True)


def is_plain_csv(data: bytes) -> bool:
    """Whether the CSV records in ``data`` are simply its lines: no quote, and no CR but in a CRLF.

    Then :func:`records` would end every record at a ``\\n`` and nowhere else, so the scan and the
    chunks may split such bytes on line ends instead of walking them (each held equal to the
    walk by a differential test).
    """
    return b'"' not in data and data.count(b"\r") == data.count(b"\r\n")


def is_blank_line(line: bytes) -> bool:
    """Whether a line of a plain CSV (without its ``\\n``) is a blank record: line ends only."""
    return line in (b"", b"\r")


def records(file: BinaryIO, start: int, stop: int | None, csv_quotes: bool) -> Iterator[Record]:
    """The records of ``file`` from ``start`` to ``stop`` (or its end), blank ones included.

    A CSV quote still open at the end makes the file unreadable (``file.csv_malformed``).
    """
    walk = _walk_csv if csv_quotes else _walk_lines
    # A blank CSV record holds line ends only (a space is a cell); a blank line holds whitespace.
    space = b"\r\n" if csv_quotes else None
    blank_start = frozenset(b"\r\n" if csv_quotes else b" \t\r\n\x0b\x0c")
    file.seek(start)
    offset = start  # of buf[0]
    buf, pos, state = b"", 0, _CELL_START
    parts: list[bytes] | None = []
    kept = 0
    blank = True
    while True:
        if pos >= len(buf):
            offset += len(buf)
            wanted = BLOCK_BYTES if stop is None else min(BLOCK_BYTES, stop - offset)
            buf, pos = (file.read(wanted) if wanted > 0 else b""), 0
            if not buf:
                break
        end, state, ended = walk(buf, pos, state)
        piece = buf[pos:end]
        if ended and not kept and parts is not None:  # the usual record, whole in this block
            pos = end
            fits = len(piece) <= MAX_ROW_BYTES
            yield Record(offset + end, piece if fits else None, piece[0] in blank_start and not piece.strip(space))
            continue
        blank = blank and not piece.strip(space)
        if parts is not None:
            kept += len(piece)
            if kept > MAX_ROW_BYTES:
                parts = None  # too long: only its end is looked for from now on
            else:
                parts.append(piece)
        pos = end
        if ended:
            yield Record(offset + end, None if parts is None else b"".join(parts), blank)
            parts, kept, blank = [], 0, True
    if state == _QUOTED:
        raise UnreadableFile("file.csv_malformed")
    if kept or parts is None:  # the last record, with no line end
        yield Record(offset, None if parts is None else b"".join(parts), blank)
