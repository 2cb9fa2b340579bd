"""Auth cookies too large for one cookie, split as Streamlit 1.67 splits them.

Signing is the `CookieSigner` port's (Streamlit's itsdangerous format); which cookie, its
size limit and its chunks are rules of their own, and live here.

Chunking follows `auth_util.set_cookie_with_chunks`: a value whose signed cookie does
not fit the browser limit (4096 bytes for name, `=`, value and attributes) is split
into `<name>_1 … <name>_N`, each signed with its own name as salt, and the main cookie
holds the signed marker `chunks-N`. The first guess for the chunk size is Streamlit's
(signing overhead of `"x"` plus 50 bytes, base64 * 3/4), so the split is Streamlit's
whenever Streamlit's cookies fit; a chunk that would not fit (escapes and non-ASCII
text grow beyond the estimate) is shortened until it does. Streamlit's reader treats
any value that *starts* with `chunks-<digit>` as a marker, so such a value is always
written chunked (its marker then says how many chunks), and reads back unchanged.

The clock stays with the caller: `now` is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from hexlit.ports.cookies import CookieSigner

MAX_COOKIE_BYTES: Final = 4096
"""The browser limit for one cookie: name, `=`, value and attributes."""

_SIGNING_OVERHEAD_SAFETY: Final = 50
"""Streamlit's safety margin on top of the measured signing overhead."""

_CHUNK_MARKER: Final = re.compile(r"chunks-([0-9]+)")
"""Matched at the start of a decoded main cookie, as Streamlit's reader does."""

_MAX_CHUNK_DIGITS: Final = 9
_DIGITS: Final = re.compile(r"[0-9]+")


def chunk_cookies(
    signer: CookieSigner,
    name: str,
    value: str,
    now: int,
    attributes_length: int,
    limit: int = MAX_COOKIE_BYTES,
) -> list[tuple[str, str]]:
    """The `(cookie name, signed value)` pairs that store `value` under `name`.

    One pair when `len(name) + 1 + len(signed) + attributes_length <= limit`; otherwise
    the main cookie holds the signed marker `chunks-N`, followed by `<name>_1 …
    <name>_N`, every cookie fitting the limit. `attributes_length` is the length of
    what follows the value in `Set-Cookie` (`; Path=/; HttpOnly; …`). Raises ValueError
    when the limit leaves no room for even one character per chunk.
    """

    def fits(cookie_name: str, signed: str) -> bool:
        return len(cookie_name) + 1 + len(signed) + attributes_length <= limit

    signed = signer.sign(name, value, now)
    if fits(name, signed) and _CHUNK_MARKER.match(value) is None:
        return [(name, signed)]
    chunks = _split(signer, name, value, now, fits, limit - len(name) - 1 - attributes_length)
    marker = signer.sign(name, f"chunks-{len(chunks)}", now)
    if not fits(name, marker):
        raise ValueError(f"the cookie limit leaves no room for the {name} chunk count")
    return [(name, marker), *chunks]


def read_chunked(
    signer: CookieSigner, name: str, cookies: Mapping[str, str], now: int, max_age: int
) -> str | None:
    """The value stored under `name` in `cookies`, joined from its chunks if it was split.

    None when the main cookie or any chunk it announces is missing or does not verify.
    """
    main = cookies.get(name)
    value = None if main is None else signer.unsign(name, main, now, max_age)
    if value is None:
        return None
    marker = _CHUNK_MARKER.match(value)
    if marker is None:
        return value
    digits = marker.group(1)
    if len(digits) > _MAX_CHUNK_DIGITS:
        return None
    parts = []
    for index in range(1, int(digits) + 1):
        chunk_name = f"{name}_{index}"
        chunk = cookies.get(chunk_name)
        part = None if chunk is None else signer.unsign(chunk_name, chunk, now, max_age)
        if part is None:
            return None
        parts.append(part)
    return "".join(parts)


def chunk_names(name: str, cookie_names: Iterable[str]) -> list[str]:
    """The `<name>_<digits>` names among `cookie_names`, in order, without duplicates.

    Only ASCII digits count, so `_streamlit_user_tokens` is not a chunk of
    `_streamlit_user`. Found by name, not by decoding the main cookie, so chunks are
    cleared even when the main cookie no longer verifies (e.g. a rotated secret).
    """
    prefix = f"{name}_"
    found = dict.fromkeys(
        cookie_name
        for cookie_name in cookie_names
        if cookie_name.startswith(prefix) and _DIGITS.fullmatch(cookie_name[len(prefix) :])
    )
    return list(found)


def _split(
    signer: CookieSigner,
    name: str,
    value: str,
    now: int,
    fits: Callable[[str, str], bool],
    available: int,
) -> list[tuple[str, str]]:
    """`value` as signed chunks `<name>_1 …`, each as long as fits (at least one chunk)."""
    overhead = len(signer.sign(name, "x", now)) - 4 + _SIGNING_OVERHEAD_SAFETY
    guess = max((available - overhead) * 3 // 4, 1)
    chunks: list[tuple[str, str]] = []
    start = 0
    while start < len(value) or not chunks:
        chunk_name = f"{name}_{len(chunks) + 1}"
        length = min(guess, len(value) - start)
        signed = signer.sign(chunk_name, value[start : start + length], now)
        if not fits(chunk_name, signed):
            # Binary search; `shorter` always fits (0: nothing found yet), `longer` never.
            shorter, longer = 0, length
            while longer - shorter > 1:
                middle = (shorter + longer) // 2
                candidate = signer.sign(chunk_name, value[start : start + middle], now)
                if fits(chunk_name, candidate):
                    shorter, signed = middle, candidate
                else:
                    longer = middle
            if shorter == 0:
                raise ValueError(f"the cookie limit leaves no room for a {name} chunk")
            length = shorter
        chunks.append((chunk_name, signed))
        start += length
    return chunks
