"""Custom component files and app static files: lookup rules, once for both stacks.

Both refuse unsafe paths before touching the file system (400) and serve only what the
root's `AssetSource` (from the `FileTree`) finds inside it (404 otherwise, symlinks
included). Components answer `no-cache` for HTML and `public` for the rest (spec §1.3.8);
app static files are capped at 200 MiB and served with `nosniff` by the web layer (spec
§1.3.9).

A single byte range is served (206) as for media. Otherwise a file up to
`MAX_BUFFERED_BYTES` is read whole (the web layer may gzip it, as
Streamlit does); a larger one streams from disk as it is sent, so memory per request
stays bounded whatever the file's size (issue 17.8).
"""

from __future__ import annotations

from typing import Final

from hexlit.domain.byte_range import parse_range
from hexlit.domain.safe_path import is_unsafe_path
from hexlit.ports.assets import Asset, AssetSource, FileTree
from hexlit.ports.components import ComponentRegistry
from hexlit.ports.errors import BadRequest, NotFound
from hexlit.ports.frontend import FileAnswer

MAX_APP_STATIC_BYTES: Final = 200 * 1024 * 1024
MAX_BUFFERED_BYTES: Final = 1024 * 1024


class ComponentService:
    """Implements `Components`, for v1 components and for v2 ("bidi") ones alike.

    v2 differs only in that a path ending in `/` names no file (spec §1.3.8).
    """

    def __init__(self, registry: ComponentRegistry, files: FileTree, bidi: bool = False) -> None:
        self._registry = registry
        self._files = files
        self._bidi = bidi

    async def get(
        self, name: str, path: str, head: bool, range_header: str | None = None
    ) -> FileAnswer:
        root = self._registry.component_path(name)
        if root is None:
            raise NotFound("Component not found")
        if path and is_unsafe_path(path):
            raise BadRequest("Bad Request")
        if self._bidi and path.endswith("/"):
            raise NotFound("read error")
        source = self._files.source(root)
        asset = await source.stat(path) if path else None
        if asset is None:
            raise NotFound("read error")
        cache = "no-cache" if path.endswith(".html") else "public"
        return await _file_answer(source, asset, head, cache, range_header)


class AppStaticService:
    """Implements `AppStatic` for the app's `static/` folder."""

    def __init__(self, root: str, files: FileTree) -> None:
        self._root = root
        self._files = files

    async def get(self, path: str, head: bool, range_header: str | None = None) -> FileAnswer:
        if not path or is_unsafe_path(path):
            raise BadRequest("Bad Request") if path else NotFound("File not found")
        source = self._files.source(self._root)
        asset = await source.stat(path)
        if asset is None:
            raise NotFound("File not found")
        if asset.size > MAX_APP_STATIC_BYTES:
            raise NotFound("File is too large")
        return await _file_answer(source, asset, head, "no-cache", range_header)


async def _file_answer(
    source: AssetSource, asset: Asset, head: bool, cache: str, range_header: str | None
) -> FileAnswer:
    """A single byte range (streamed) when one is asked for, as media are served;
    otherwise nothing for HEAD, the bytes of a small file, a stream for a large one."""
    wanted = parse_range(range_header, asset.size)
    if wanted is not None:
        stream = None if head else source.chunks(asset, wanted.start, wanted.end)
        content_range = wanted.content_range(asset.size)
        return FileAnswer(asset, b"", cache, stream, content_range, wanted.length)
    if head:
        return FileAnswer(asset, b"", cache)
    if asset.size > MAX_BUFFERED_BYTES:
        return FileAnswer(asset, b"", cache, stream=source.chunks(asset))
    return FileAnswer(asset, await source.read(asset), cache)
