"""The `_streamlit_xsrf` double-submit token, in Tornado's and Streamlit's format.

The cookie holds 16 random token bytes. Version 2, the one written, is
`2|<mask>|<masked>|<timestamp>`: `mask` is 4 fresh bytes (8 hex digits), `masked` is the
token XOR the mask repeated (WebSocket-mask style, 32 hex digits) and `timestamp` is the
Unix second the token was created (decimal). Version 1, a bare 32-hex-digit token, is
still read. The frontend echoes the cookie's raw value (header `X-Xsrftoken`, or the
second WebSocket subprotocol), and a request passes when both decode to the same 16
token bytes. The mask only makes the value change on every response (BREACH); the
timestamp is informational and NOT authenticated, as in Tornado: changing its digits
keeps the token valid.

Reading is tolerant of what proxies and browsers do to cookies: surrounding double quotes
are stripped, `%7C` (either case) stands for `|` (code-server #7927), and several cookies
of the same name (iframes, path duplicates: Streamlit #9397) are each tried. It is
strict about everything else: hex digits are lowercase (as Tornado and Streamlit write
them), the token is exactly 16 bytes, the timestamp is at most 20 ASCII digits; so one
changed character never yields an equivalent value. Anything else is undecodable (None),
never an exception.

Randomness and the clock stay with the caller: masks, fresh tokens and `now` are
arguments.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

XSRF_COOKIE: Final = "_streamlit_xsrf"

TOKEN_SIZE: Final = 16
MASK_SIZE: Final = 4
_MAX_TIMESTAMP: Final = 10**20 - 1
"""The largest timestamp written and read (20 digits)."""

_V2: Final = re.compile(r"2\|([0-9a-f]{8})\|([0-9a-f]{32})\|([0-9]{1,20})")
_V1: Final = re.compile(r"[0-9a-f]{32}")
_ENCODED_BAR: Final = re.compile(r"%7c", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class XsrfToken:
    """The secret 16 bytes of an XSRF cookie and its creation time (Unix seconds).

    A version 1 cookie carries no timestamp; it decodes with timestamp 0.
    """

    token: bytes
    timestamp: int

    def __post_init__(self) -> None:
        if len(self.token) != TOKEN_SIZE:
            raise ValueError(f"an XSRF token is {TOKEN_SIZE} bytes")
        if not 0 <= self.timestamp <= _MAX_TIMESTAMP:
            raise ValueError("XSRF timestamp out of range")


def encode_token(token: XsrfToken, mask: bytes) -> str:
    """The version 2 cookie value of `token` under a 4-byte `mask` (fresh per response).

    The value is written raw into `Set-Cookie`: no quotes, no percent-encoding.
    """
    if len(mask) != MASK_SIZE:
        raise ValueError(f"an XSRF mask is {MASK_SIZE} bytes")
    return f"2|{mask.hex()}|{_xor(token.token, mask).hex()}|{token.timestamp}"


def decode_token(value: str | None) -> XsrfToken | None:
    """The token a cookie or header value carries, or None if it carries none."""
    decoded = _decode(value)
    return None if decoded is None else decoded[0]


def tokens_match(supplied: str | None, cookie_values: Sequence[str]) -> bool:
    """True iff `supplied` carries the same token bytes as one of `cookie_values`.

    Every cookie value is compared (in constant time per comparison); undecodable ones
    are skipped. False when `supplied` is missing or undecodable, or when no cookie value
    decodes.
    """
    supplied_token = decode_token(supplied)
    if supplied_token is None:
        return False
    matched = False
    for value in cookie_values:
        cookie_token = decode_token(value)
        if cookie_token is not None and hmac.compare_digest(
            supplied_token.token, cookie_token.token
        ):
            matched = True
    return matched


def cookie_value_for(existing: Sequence[str], fresh_token: bytes, mask: bytes, now: int) -> str:
    """The `_streamlit_xsrf` value a response sets, under a fresh `mask`.

    Keeps the token and timestamp of the first decodable `existing` cookie value, so the
    page's token stays valid (a version 1 cookie, which has no timestamp, gets `now`).
    Without one, starts `fresh_token` (16 random bytes) at `now`.
    """
    for value in existing:
        decoded = _decode(value)
        if decoded is not None:
            token, version = decoded
            if version == 1:
                token = XsrfToken(token.token, now)
            return encode_token(token, mask)
    return encode_token(XsrfToken(fresh_token, now), mask)


def _decode(value: str | None) -> tuple[XsrfToken, int] | None:
    """The token in `value` and the format version it was written in, or None."""
    if not value:
        return None
    value = _ENCODED_BAR.sub("|", value.strip('"'))
    v2 = _V2.fullmatch(value)
    if v2 is not None:
        mask_hex, masked_hex, timestamp = v2.groups()
        token = _xor(bytes.fromhex(masked_hex), bytes.fromhex(mask_hex))
        return XsrfToken(token, int(timestamp)), 2
    if _V1.fullmatch(value) is not None:
        return XsrfToken(bytes.fromhex(value), 0), 1
    return None


def _xor(data: bytes, mask: bytes) -> bytes:
    """`data` XOR `mask` repeated (RFC 6455 masking); its own inverse."""
    return bytes(byte ^ mask[index % len(mask)] for index, byte in enumerate(data))
