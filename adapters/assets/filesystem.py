"""`AssetSource` over a folder on disk, and the `FileTree` that makes one per folder.

File system calls run off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
from collections import OrderedDict
from collections.abc import AsyncGenerator
from pathlib import Path

from hexlit.adapters.files.chunks import file_chunks
from hexlit.ports.assets import Asset
from hexlit.ports.errors import NotFound

# Some systems ship a broken /etc/mime.types; these must be right for a web app to load.
_WEB_TYPES = {
    ".html": "text/html",
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}


def guess_content_type(path: str) -> str:
    """A content type by extension; unknown or encoded files are `application/octet-stream`."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in _WEB_TYPES:
        return _WEB_TYPES[suffix]
    guessed, encoding = mimetypes.guess_type(path)
    if encoding == "gzip":
        return "application/gzip"
    if encoding is not None or guessed is None:
        return "application/octet-stream"
    return guessed


MAX_REMEMBERED_LOOKUPS = 10_000
"""With caching on, path lookups (found or not) are remembered too, up to this many."""


class FolderAssets:
    """Implements `AssetSource` for the files under `root` (symlinks may not escape it).

    `cache_bytes` > 0 keeps file contents in memory, up to that many bytes in all (least
    recently used go first), and remembers path lookups: for a folder that never changes
    while the server runs, such as the frontend build inside the installed package.
    Folders a developer edits (components, app static files) are read each time.
    """

    def __init__(self, root: Path, cache_bytes: int = 0) -> None:
        self._root = root.resolve()
        self._cache_limit = cache_bytes
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._lookups: dict[str, Asset | None] = {}

    @property
    def root(self) -> Path:
        return self._root

    async def stat(self, path: str) -> Asset | None:
        if self._cache_limit and path in self._lookups:
            return self._lookups[path]
        found = await asyncio.to_thread(self._stat, path)
        if self._cache_limit:
            if len(self._lookups) >= MAX_REMEMBERED_LOOKUPS:
                self._lookups.clear()
            self._lookups[path] = found
        return found

    async def read(self, asset: Asset) -> bytes:
        cached = self._cache.get(asset.path)
        if cached is not None:
            self._cache.move_to_end(asset.path)
            return cached
        try:
            data = await asyncio.to_thread((self._root / asset.path).read_bytes)
        except OSError:
            raise NotFound("Not Found") from None
        self._remember(asset.path, data)
        return data

    async def chunks(
        self, asset: Asset, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        last = asset.size - 1 if end is None else end
        cached = self._cache.get(asset.path)
        if cached is not None:
            yield cached[start : last + 1]
            return
        # Closing this generator (a client that left) closes the file at once.
        path = self._root / asset.path
        async with contextlib.aclosing(file_chunks(path, start, last, "Not Found")) as chunks:
            async for chunk in chunks:
                yield chunk

    def _remember(self, path: str, data: bytes) -> None:
        if len(data) > self._cache_limit:
            return
        # Concurrent misses of one file each read it: count its bytes once.
        replaced = self._cache.pop(path, None)
        if replaced is not None:
            self._cached_bytes -= len(replaced)
        self._cache[path] = data
        self._cached_bytes += len(data)
        while self._cached_bytes > self._cache_limit:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= len(dropped)

    def _stat(self, path: str) -> Asset | None:
        try:
            real = (self._root / path).resolve()
            if real != self._root and self._root not in real.parents:
                return None
            info = real.stat()
        except (OSError, ValueError):
            return None
        if not real.is_file():
            return None
        relative = real.relative_to(self._root).as_posix()
        return Asset(relative, info.st_size, guess_content_type(relative))


class FolderTree:
    """Implements `FileTree`: a `FolderAssets` per root, made on first use, never caching.

    Folders a developer edits while the server runs (components, app static files) are
    read from disk on every request.
    """

    def __init__(self) -> None:
        self._folders: dict[str, FolderAssets] = {}

    def source(self, root: str) -> FolderAssets:
        if root not in self._folders:
            self._folders[root] = FolderAssets(Path(root))
        return self._folders[root]
