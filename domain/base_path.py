"""`server.baseUrlPath`, normalised once, so every route and cookie agrees on it."""

from __future__ import annotations

_SLASH_AND_SPACE = "/ \t\r\n\f\v"


def normalize_base_path(raw: str) -> str:
    """`""` or `"/a/b"`: strip every leading and trailing slash, then prefix one.

    Matches Streamlit's `make_url_path`: `""` and `"/"` give `""`; `"a/b/"` gives `"/a/b"`.
    """
    stripped = raw.strip(_SLASH_AND_SPACE)
    return f"/{stripped}" if stripped else ""
