"""Gzip for buffered responses, where Streamlit 1.67's server compresses.

Compressed: answers of 1000 bytes or more to clients that accept gzip (page fallbacks,
manifest, component and app static files, metrics). Never: the root document and the
hashed `/static/` bundles (Streamlit skips them), media (byte ranges must address the
stored bytes), error and redirect answers, and any method but GET (a HEAD tells the
identity length, a large file streams unencoded). Level 5, as Streamlit uses.
"""

from __future__ import annotations

import gzip
from typing import Final

from hexlit.adapters.web.responses import WebResponse

MIN_SIZE: Final = 1000
LEVEL: Final = 5


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` allows gzip (a `q=0` refuses it)."""
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().lower().removeprefix("q=")
            return not (params and quality.strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def gzipped(answer: WebResponse, method: str | None, accept_encoding: str | None) -> WebResponse:
    """`answer` gzip-encoded when that is worth it and allowed, else `answer` itself.

    Every stack calls this on every buffered answer it may compress: the rules, GET only
    included, are decided here once."""
    if method != "GET" or answer.status != 200 or len(answer.body) < MIN_SIZE:
        return answer
    if not accepts_gzip(accept_encoding):
        return answer
    if any(name.lower() == "content-encoding" for name, _ in answer.headers):
        return answer
    body = gzip.compress(answer.body, compresslevel=LEVEL, mtime=0)
    headers = (*answer.headers, ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding"))
    return WebResponse(answer.status, headers, body)


def compressible_frontend_path(path: str) -> bool:
    """Frontend paths Streamlit compresses: not the root document, not `/static/...`."""
    return path not in ("", "/") and not path.startswith("/static/")
