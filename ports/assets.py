"""Static files as the core sees them: a read-only tree of assets under one root.

Implementations: a folder on disk (the Streamlit frontend build inside the installed
package, the built-in demo frontend, and later component folders and app static files).
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
