"""Which errors a JSON parser raises on bytes that are not JSON: known once, for bodies and uploads.

``msgspec.DecodeError`` is only part of the class. Invalid UTF-8 inside a string raises
``UnicodeDecodeError`` and nesting deeper than the interpreter's recursion limit raises
``RecursionError``; ijson raises its own ``JSONError`` (a ``ValueError``) and, for a lone
surrogate such as ``"\\ud800"``, hands back a string no encoder accepts (``UnicodeEncodeError``).
Every one of them means "this is not a JSON text we can use", never a fault of PANDA.
"""

from __future__ import annotations

# DecodeError, UnicodeDecodeError, UnicodeEncodeError and ijson's JSONError are all ValueErrors;
# OverflowError covers a number too large for a float or for msgspec's integers when re-encoded.
MALFORMED_JSON_ERRORS: tuple[type[Exception], ...] = (ValueError, RecursionError, OverflowError)
