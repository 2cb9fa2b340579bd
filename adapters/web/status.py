"""The one table from the core's semantic outcomes to HTTP and WebSocket codes.

Both web stacks look codes up here and nowhere else, so they cannot answer a bad input
differently.
"""

from __future__ import annotations

from typing import Final

from hexlit.ports import errors
from hexlit.ports.connection import CloseCause

HTTP_STATUS: Final[dict[type[errors.HexlitError], int]] = {
    errors.BadRequest: 400,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.MethodNotAllowed: 405,
    errors.PayloadTooLarge: 413,
    errors.RangeNotSatisfiable: 416,
    errors.RuntimeUnavailable: 503,
    errors.StoreUnavailable: 503,
}

CLOSE_CODE: Final[dict[CloseCause, int]] = {
    CloseCause.NORMAL: 1000,
    CloseCause.REPLACED: 1000,
    CloseCause.GOING_AWAY: 1001,
    CloseCause.MALFORMED_FRAME: 1002,
    CloseCause.UNSUPPORTED_FRAME: 1003,
    CloseCause.FRAME_TOO_LARGE: 1009,
    CloseCause.RUNTIME_UNAVAILABLE: 1012,
    CloseCause.SLOW_CONSUMER: 1013,
}


HANDSHAKE_REFUSED: Final = 1008
"""Close code for refusing a handshake on a server that cannot send an HTTP error instead
(an ASGI server without the denial-response extension turns it into HTTP 403)."""


def http_status(error: errors.HexlitError) -> int:
    """The status for `error`: the entry of its nearest class in the table, else 500."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def close_code(cause: CloseCause) -> int:
    return CLOSE_CODE[cause]


def close_reason(reason: str) -> str:
    """A close reason that fits the 123-byte limit of a close frame."""
    encoded = reason.encode("utf-8")[:123]
    return encoded.decode("utf-8", errors="ignore")
