"""Query parameters shared by the list endpoints, and the request class that decodes JSON bodies."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.exceptions import SerializationException
from litestar.openapi.spec import OpenAPIType
from litestar.params import QueryParameter
from litestar.serialization import decode_json
from litestar.types import Empty

from domain.json_text import MALFORMED_JSON_ERRORS
from domain.rules.pages import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET


def _page_parameter(low: int, high: int, default: int, description: str) -> QueryParameter:
    """A query parameter taken as the raw text and parsed by the domain with the list's filters
    (``domain.paging.parse_listing``), so one 400 names it with every other bad field; the schema
    still documents the number it must be."""
    return QueryParameter(
        description=description,
        schema_extra={"type": OpenAPIType.INTEGER, "one_of": None, "minimum": low, "maximum": high, "default": default},
    )


Limit = Annotated[str | None, _page_parameter(1, MAX_LIMIT, DEFAULT_LIMIT, f"Page size (1–{MAX_LIMIT}).")]
Offset = Annotated[str | None, _page_parameter(0, MAX_OFFSET, 0, "Items to skip.")]


class JsonBodyRequest(Request[Any, Any, Any]):
    """A request whose body, if it is not JSON in any way, is the client's error (400), never a 500.

    Litestar turns only ``msgspec.DecodeError`` into its 400; the decoder also raises
    ``UnicodeDecodeError`` (invalid UTF-8 inside a string) and ``RecursionError`` (deep nesting).
    Every body parameter is decoded here, so one ``try`` covers them all at no cost per request.
    """

    __slots__ = ()

    async def json(self) -> Any:
        """The decoded body; malformed bodies raise what Litestar answers with 400 ``body.malformed_json``.

        Litestar's own ``Request.json`` with one ``try`` around the decoder, written out rather than
        wrapped: awaiting ``super().json()`` would cost a coroutine per request on the hot path.
        """
        if self._json is Empty:
            if (cached := self._connection_state.json) is not Empty:
                self._json = cached
            else:
                body = await self.body()
                try:
                    decoded = decode_json(body or b"null", type_decoders=self.route_handler.resolve_type_decoders())
                except MALFORMED_JSON_ERRORS:
                    # The error's text may quote the body, so it goes no further than its type.
                    raise SerializationException("malformed JSON body") from None
                self._json = self._connection_state.json = decoded
        return self._json
