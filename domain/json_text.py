"""Which errors a JSON parser raises on bytes that are not JSON: known once, for bodies and uploads.

``msgspec.DecodeError`` is only part of the class. Invalid UTF-8 inside a string raises
``UnicodeDecodeError`` and nesting deeper than the interpreter's recursion limit raises
``RecursionError``; re-encoding what a streaming parser read can fail on a string no encoder
accepts (``UnicodeEncodeError``) or an integer too large (``OverflowError``). Every one of them
means "this is not a JSON text PANDA can use", never a fault of PANDA.
"""

from __future__ import annotations

# DecodeError, UnicodeDecodeError and UnicodeEncodeError are all ValueErrors.
MALFORMED_JSON_ERRORS: tuple[type[Exception], ...] = (ValueError, RecursionError, OverflowError)
