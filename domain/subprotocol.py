"""Streamlit's use of `Sec-WebSocket-Protocol` to carry a token and a session id.

Browsers cannot set headers on a WebSocket, so the frontend offers
`["streamlit", TOKEN, SESSION_ID?]` as subprotocols. The server must select the first
entry (a browser fails a handshake whose selected protocol it did not offer) and reads
the other two by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from hexlit.ports.errors import BadRequest

MAX_HEADER_LENGTH: Final = 8192
"""Longer headers are refused: nothing legitimate is that long."""

_SESSION_ID: Final = re.compile(r"[A-Za-z0-9-]{1,64}")
_TOKEN_CHARS: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""RFC 7230 token characters; `|` is among them, so XSRF v2 tokens pass."""


@dataclass(frozen=True, slots=True)
class StreamOffer:
    """What a client offered in its subprotocol header, by position."""

    selected: str | None
    token: str | None
    session_id: str | None


def parse_offer(header: str | None) -> StreamOffer:
    """Read the subprotocol header the way the Streamlit frontend writes it.

    No header (None) offers nothing. Otherwise entries are split on `,` and stripped;
    an empty entry means "absent" without shifting the others. A session id that does
    not look like one is ignored (the client gets a new session).

    Raises `BadRequest` for a header that is present but not a list of RFC 7230 tokens
    (blank, quoted strings, spaces inside an entry, or longer than `MAX_HEADER_LENGTH`):
    a WebSocket server must refuse such a handshake, and uvicorn does so before any app
    code runs, so hexlit refuses it on every stack alike.
    """
    if header is None:
        return StreamOffer(None, None, None)
    if len(header) > MAX_HEADER_LENGTH:
        raise BadRequest("Sec-WebSocket-Protocol header too long")
    entries = [_as_token(entry) for entry in header.split(",")]
    if all(entry is None for entry in entries):
        raise BadRequest("invalid Sec-WebSocket-Protocol header")
    entries += [None] * (3 - len(entries))
    selected, token, session_id = entries[:3]
    if session_id is not None and not is_session_id(session_id):
        session_id = None
    return StreamOffer(selected, token, session_id)


def is_session_id(candidate: str) -> bool:
    """True for strings that can be session ids: 1-64 of `[A-Za-z0-9-]`."""
    return _SESSION_ID.fullmatch(candidate) is not None


def _as_token(entry: str) -> str | None:
    """The stripped entry, None if empty; `BadRequest` if it is not a token."""
    stripped = entry.strip(" \t")
    if not stripped:
        return None
    if not _TOKEN_CHARS.fullmatch(stripped):
        raise BadRequest("invalid Sec-WebSocket-Protocol header")
    return stripped
