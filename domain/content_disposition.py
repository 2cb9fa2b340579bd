"""The `Content-Disposition` header of a download (`st.download_button`).

A name that reads safely inside a quoted string goes there, as Streamlit 1.67 writes it:
`attachment; filename="report 2024.csv"`. Every other name goes in the RFC 5987/6266
extended form, `attachment; filename*=utf-8''<percent-encoded UTF-8>`, which no
character can break out of. The header is always pure ASCII.

A name is "safe" when it is printable ASCII (space to `~`) without `"` or `\\` (which
end or escape a quoted string) and without `/`. Streamlit keeps `/` in the quoted form;
hexlit moves such names to the extended form so that a path separator is always
percent-encoded and a client never sees one raw (browsers replace or cut at separators
in either form, so the saved name is the browser's call, as with Streamlit). Path
components are kept, not stripped: Streamlit does not strip them either.

Strings that cannot be encoded as UTF-8 (lone surrogates, e.g. from `os.fsdecode`) are
encoded with `surrogateescape`, which restores the original file-system bytes, and any
remaining lone surrogate becomes `?`: a download is never refused for its name.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

_QUOTABLE: Final = re.compile(r"[ !#-.0-\[\]-~]+")
"""Printable ASCII except `"` (0x22), `/` (0x2f) and `\\` (0x5c)."""


def attachment(filename: str | None, fallback: str) -> str:
    """The `Content-Disposition` value that downloads content as `filename`.

    None or an empty name downloads as `fallback` (Streamlit's
    `streamlit_download<ext>`, chosen by the caller), which is encoded by the same rules.
    Raises `ValueError` when `fallback` is empty too: a caller must always have a name.
    """
    name = filename or fallback
    if not name:
        raise ValueError("a download needs a fallback filename")
    if _QUOTABLE.fullmatch(name):
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quote(_utf8(name), safe='')}"


def _utf8(name: str) -> bytes:
    """`name` as UTF-8; lone surrogates as their escaped bytes, or `?`."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "replace")
