"""Serving the frontend build: file lookup, SPA fallback, trailing slashes, caching.

Streamlit 1.67's rules (spec §1.3.10), once for both stacks:

- `//x` and unsafe paths are bad requests; only GET and HEAD are served;
- a path ending in `/` (other than the root) redirects to the same path without the
  slashes: 301 for GET/HEAD, 308 with a *relative* location for other methods;
- `/` serves `index.html`; a missing file serves `index.html` too (page URLs of
  multipage apps), except for paths with a `_stcore` segment, which 404 so the
  frontend's base-URL detection (it probes `<candidate>/_stcore/health`) never mistakes
  a page path for the app root. Streamlit reserves only the health, host-config and
  agent paths; hexlit reserves the whole namespace, so a disabled endpoint such as
  `/_stcore/script-health-check` is a 404, not the app's HTML;
- `index.html`, other `.html` and `manifest.json` are never cached; everything else is a
  content-hashed bundle, cached for a year.
"""

from __future__ import annotations

from typing import Final

from hexlit.domain.safe_path import is_unsafe_path
from hexlit.ports.assets import Asset, AssetSource
from hexlit.ports.errors import BadRequest, MethodNotAllowed, NotFound
from hexlit.ports.frontend import FileAnswer, Redirect

INDEX: Final = "index.html"
NO_CACHE: Final = "no-cache"
IMMUTABLE: Final = "public, immutable, max-age=31536000"
RESERVED_SEGMENT: Final = "_stcore"
READ_METHODS: Final = frozenset({"GET", "HEAD"})


class StaticService:
    """Implements `Frontend` over one `AssetSource` (the frontend build)."""

    def __init__(self, source: AssetSource, base_path: str) -> None:
        self._source = source
        self._base = base_path

    async def get(self, path: str, method: str, query: str) -> FileAnswer | Redirect:
        if not path:  # `BASE` itself: the app's relative URLs only work from `BASE/`
            return Redirect(_with_query(f"{self._base}/", query), not _reads(method))
        if path.startswith("//") or path.startswith("/\\"):
            raise BadRequest("Bad Request")
        relative = path.removeprefix("/")
        if relative and is_unsafe_path(relative):
            raise BadRequest("Bad Request")
        if relative.endswith("/"):
            return self._without_trailing_slashes(path, method, query)
        if method not in READ_METHODS:
            raise MethodNotAllowed("Method Not Allowed")
        asset = await self._source.stat(relative or INDEX)
        if asset is None:
            if _is_reserved(relative):
                raise NotFound("Not Found")
            asset = await self._source.stat(INDEX)
            if asset is None:
                raise NotFound("Not Found")
        body = b"" if method == "HEAD" else await self._source.read(asset)
        return FileAnswer(asset, body, cache_control(asset))

    def _without_trailing_slashes(self, path: str, method: str, query: str) -> Redirect:
        stripped = path.rstrip("/")
        if method in READ_METHODS:
            return Redirect(_with_query(self._base + stripped, query))
        # Relative, so a proxy that strips a prefix still lands in the right place.
        slashes = len(path) - len(stripped)
        last = stripped.rsplit("/", 1)[-1]
        return Redirect(_with_query("../" * slashes + last, query), keep_method=True)


def cache_control(asset: Asset) -> str:
    name = asset.path.rsplit("/", 1)[-1]
    if name.endswith(".html") or name == "manifest.json":
        return NO_CACHE
    return IMMUTABLE


def _reads(method: str) -> bool:
    return method in READ_METHODS


def _is_reserved(relative: str) -> bool:
    return RESERVED_SEGMENT in relative.split("/")


def _with_query(location: str, query: str) -> str:
    return f"{location}?{query}" if query else location
