"""Static files as the core sees them: a read-only tree of assets under one root.

`AssetSource` is one such tree: the frontend build (inside the installed package, or the
built-in demo frontend). `FileTree` makes one for any folder the app names at run time
(a custom component's folder, the app's `static/`), so every file the server sends from
disk is read through the same port and the same rules. Implementations: a folder on disk.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of an `AssetSource`."""

    path: str
    """Relative to the source root, `/`-separated, no leading slash."""
    size: int
    content_type: str


class AssetSource(Protocol):
    """A read-only tree of files. Never serves anything outside its root.

    Paths are relative, `/`-separated. Callers check them for traversal patterns first;
    a source still refuses (as missing) any path that resolves outside its root, for
    example through a symlink.
    """

    async def stat(self, path: str) -> Asset | None:
        """The file at `path`; None if it does not exist, is a directory, or escapes."""
        ...

    async def read(self, asset: Asset) -> bytes:
        """The whole content of `asset`. Raises `NotFound` if it vanished meanwhile."""
        ...

    def chunks(
        self, asset: Asset, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Bytes `start..end` (inclusive; `end` None: to `asset.size - 1`) of `asset` in
        pieces, read from storage as they are consumed, never the whole file at once.
        Raises `NotFound` (when iterated) if it vanished meanwhile."""
        ...


class FileTree(Protocol):
    """Makes the `AssetSource` of a folder the app names; roots are known only at run time.

    The same root gives the same source (whatever it keeps between calls, kept once).
    """

    def source(self, root: str) -> AssetSource:
        """The files under the folder `root`; symlinks and `..` never lead outside it."""
        ...
