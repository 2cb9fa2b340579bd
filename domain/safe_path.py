"""Which relative paths may be looked up in a file tree at all: one rule for every route.

A lexical check, done before any file system access; the asset source then also refuses
what resolves outside its root (symlinks). After Streamlit's `is_unsafe_path_pattern`.
"""

from __future__ import annotations

import re
from typing import Final

_DRIVE: Final = re.compile(r"^[A-Za-z]:")


def is_unsafe_path(relative: str) -> bool:
    """True for paths that could escape a root or name something other than a file in it.

    Refused: NUL bytes; absolute paths (`/`, `\\`); UNC and device paths (`\\\\`);
    drive-qualified paths (`C:`); any `..` segment, with `/` or `\\` as separator.
    Percent-decoding is the web layer's job, so `%2e%2e` arrives here as `..`.
    """
    if "\x00" in relative:
        return True
    if relative.startswith(("/", "\\")) or _DRIVE.match(relative):
        return True
    segments = relative.replace("\\", "/").split("/")
    return any(segment == ".." for segment in segments)
